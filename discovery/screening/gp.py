"""Gaussian-process regression with the Tanimoto (MinMax) kernel, in JAX.

Model (targets standardised to zero mean and unit variance first)::

    y = c + f(x) + eps,   f ~ GP(0, s2 * T(x, x')),   eps ~ N(0, noise)

where ``T`` is the MinMax (generalised Tanimoto) kernel of Morgan *count*
fingerprints, ``T(x, x') = sum_i min(x_i, x'_i) / sum_i max(x_i, x'_i)``
(Ralaivola et al. 2005; used for molecules by Moss et al. 2020, GAUCHE); on
0/1 vectors it is the Tanimoto similarity (``kernel="tanimoto"`` uses binary
fingerprints). Counts are clipped at ``cap`` (default 8) so that
``sum min`` is a sum of ``cap`` matrix products of indicator matrices
``[x >= t]``, ``t = 1..cap`` (exact MinMax whenever no count exceeds ``cap``,
which holds for nearly every drug-like molecule at radius 2). For the kernel
(not for search) two empty fingerprints have ``T = 1`` so that ``T(x, x) = 1``.

Fitting (:func:`fit_gp`): the Gram matrix ``T`` (computed with JAX on the
default device: float32 matrix products of 0/1 indicators, so the sums are
exact integers) is eigendecomposed once in float64 (LAPACK),
``T = V diag(lam) V^T``. The log marginal likelihood for any ``(s2, noise)``
is then ``O(n)``; with the constant ``c`` profiled out by generalised least
squares it is maximised over ``log s2, log noise`` by L-BFGS (analytic
gradient) from several starts. Cost: one ``n x n`` eigendecomposition
(``O(n^3)``; about a minute for 10,000 molecules on one CPU core).

Descriptor kernel (``kernel="minmax+physchem"``): the Gram matrix becomes
``(1 - w) T + w R`` with ``R = exp(-|z - z'|^2 / (2 l m))`` a squared-exponential
kernel on the 64 RDKit ``physchem`` descriptors (:mod:`discovery.chem.descriptors`),
standardised with the training molecules' mean and sd and clipped to +-6
(``m``: median squared distance between training molecules). The mixing
weight ``w`` in {0, 1/4, 1/2, 3/4, 1} and the length-scale factor ``l`` in
{1/4, 1/2, 1, 2} are chosen by the marginal likelihood (one
eigendecomposition per pair; above 2,000 molecules the pair is chosen on a
seeded random subset of 2,000 and the model refitted once on all). ``w = 0``
is the plain MinMax GP, so the choice can only raise the likelihood.

Prediction: mean ``c + k*^T K^-1 (y - c)`` and variance
``s2 - k*^T K^-1 k* + noise`` (the predictive variance of a new *measurement*,
which is what a 90 % interval should cover). Above ``max_exact`` training
molecules the model switches to a subset-of-data approximation: the
hyperparameters and the posterior come from ``max_exact`` molecules chosen by
MaxMin (the most diverse subset), and predictions use those only. This is an
approximation and is reported as such in ``gp.info``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from discovery.errors import InputError
from discovery.screening.fingerprints import FingerprintSpec, unpack_bits

__all__ = ["KERNELS", "KERNEL_DESCRIPTORS", "GPFeatures", "TanimotoGP", "features", "fit_gp", "minmax_kernel"]

log = logging.getLogger(__name__)

_Z90 = 1.6448536269514722


#: kernel name -> count cap (1 = binary Tanimoto)
KERNELS: dict[str, int] = {"minmax": 8, "tanimoto": 1, "minmax+physchem": 8}
#: kernel name -> molecule descriptor set mixed into the kernel (see the module docstring)
KERNEL_DESCRIPTORS: dict[str, str] = {"minmax+physchem": "physchem"}

_MIX_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
_LENGTH_FACTORS = (0.25, 0.5, 1.0, 2.0)
_SELECT_MAX = 2000


@dataclass
class GPFeatures:
    """Count fingerprints plus molecule descriptors, indexable by rows like an array.

    ``counts`` is ``[n, nbits]`` uint8, ``desc`` ``[n, D]`` float64 raw descriptor
    values (NaN where RDKit could not compute one).
    """

    counts: np.ndarray
    desc: np.ndarray

    def __len__(self) -> int:
        return int(self.counts.shape[0])

    def __getitem__(self, rows: Any) -> "GPFeatures":
        return GPFeatures(self.counts[rows], self.desc[rows])

    @property
    def shape(self) -> tuple[int, int]:
        return self.counts.shape


def features(smiles: Sequence[str], spec: FingerprintSpec | None = None, cap: int = 8,
             descriptors: str | None = None) -> Any:
    """Morgan count features ``[n, nbits]`` uint8, clipped at ``cap`` (``cap=1``: binary).

    With ``descriptors`` (a set of :mod:`discovery.chem.descriptors`) a
    :class:`GPFeatures` holding both. Every SMILES must be valid
    (:class:`~discovery.errors.InputError` names the first bad one).
    """
    from discovery.chem.io import parse_smiles

    spec = spec or FingerprintSpec()
    gen = spec.generator()
    out = np.zeros((len(smiles), spec.nbits), dtype=np.uint8)
    mols = []
    for i, s in enumerate(smiles):
        mol, why = parse_smiles(s)
        if mol is None:
            raise InputError(f"invalid SMILES: {why}", row=i + 1, value=s)
        out[i] = np.minimum(gen.GetCountFingerprintAsNumPy(mol), cap)
        if descriptors is not None:
            mols.append(mol)
    if descriptors is None:
        return out
    from discovery.chem.descriptors import mol_descriptors

    return GPFeatures(out, mol_descriptors(mols, descriptors)[0].astype(np.float64))


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[n, m]`` squared Euclidean distances (non-negative)."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0)


def minmax_kernel(a: np.ndarray, b: np.ndarray, block: int = 4096) -> np.ndarray:
    """MinMax kernel matrix of count features, computed with JAX.

    Parameters
    ----------
    a, b : np.ndarray
        ``[n, d]`` and ``[m, d]`` non-negative integer counts (uint8).

    Returns
    -------
    np.ndarray
        ``[n, m]`` float64 ``sum min / sum max``; 1 where both rows are empty.
    """
    import jax.numpy as jnp

    a = np.asarray(a)
    b = np.asarray(b)
    levels = int(max(a.max(initial=0), b.max(initial=0), 1))
    sa = a.sum(1, dtype=np.float32)
    sb = b.sum(1, dtype=np.float32)
    # columns that can contribute at each level t (a count >= t somewhere); higher levels are sparse
    cols = [np.flatnonzero((a >= t).any(0) | (b >= t).any(0)) for t in range(1, levels + 1)]
    fn = _matmul_jit()
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.float64)
    for i in range(0, a.shape[0], block):
        ai = a[i:i + block]
        for j in range(0, b.shape[0], block):
            bj = b[j:j + block]
            num = None
            for t, c in enumerate(cols, start=1):
                if len(c) == 0:
                    continue
                width = -(-len(c) // 256) * 256  # few distinct shapes -> few compilations
                xa = np.zeros((len(ai), width), dtype=np.float32)
                xb = np.zeros((len(bj), width), dtype=np.float32)
                xa[:, : len(c)] = ai[:, c] >= t
                xb[:, : len(c)] = bj[:, c] >= t
                part = fn(jnp.asarray(xa), jnp.asarray(xb))
                num = part if num is None else num + part
            num = np.asarray(num, dtype=np.float64)
            den = sa[i:i + block, None].astype(np.float64) + sb[None, j:j + block] - num
            out[i:i + block, j:j + block] = np.where(den > 0, num / np.maximum(den, 1.0), 1.0)
    return out


_KFN: dict[Any, Any] = {}


def _matmul_jit():
    """``[n, d] x [m, d] -> [n, m]`` float32 product (exact for 0/1 entries and d < 2**24)."""
    if "mm" not in _KFN:
        import jax
        import jax.numpy as jnp

        _KFN["mm"] = jax.jit(lambda xa, xb: jnp.matmul(xa, xb.T, precision=jax.lax.Precision.HIGHEST))
    return _KFN["mm"]


def _neg_lml(theta: np.ndarray, lam: np.ndarray, ty: np.ndarray, t1: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood per point and its gradient in ``(log s2, log noise)``.

    Computed in the eigenbasis of the kernel matrix; the constant mean ``c`` is
    profiled out by generalised least squares (its own gradient is zero there,
    so the gradient below is exact).
    """
    s2, nz = np.exp(theta[0]), np.exp(theta[1])
    d = s2 * lam + nz
    c = np.sum(t1 * ty / d) / np.sum(t1 * t1 / d)
    r = ty - c * t1
    n = lam.shape[0]
    val = (0.5 * np.sum(r * r / d) + 0.5 * np.sum(np.log(d)) + 0.5 * n * np.log(2 * np.pi)) / n
    w = 1.0 / d - (r * r) / (d * d)
    grad = 0.5 * np.array([s2 * np.sum(lam * w), nz * np.sum(w)]) / n
    return float(val), grad


@dataclass
class TanimotoGP:
    """A fitted Tanimoto-kernel GP (use :func:`fit_gp`).

    Attributes
    ----------
    X : np.ndarray
        ``[n, nbits]`` uint8 training count features (the subset used, above ``max_exact``).
    kernel : str
        ``"minmax"`` (counts), ``"tanimoto"`` (binary) or ``"minmax+physchem"``
        (MinMax mixed with a descriptor kernel; ``X`` is then :class:`GPFeatures`).
    s2, noise, c : float
        Signal variance, noise variance and constant mean, in standardised units.
    y_mean, y_std : float
        Standardisation of the targets.
    info : dict
        Fit diagnostics: ``log_marginal_likelihood``, ``n_train``, ``n_used``,
        ``approximation``, ``seconds``.
    """

    X: np.ndarray
    spec: FingerprintSpec
    kernel: str
    s2: float
    noise: float
    c: float
    y_mean: float
    y_std: float
    V: np.ndarray = field(repr=False)
    lam: np.ndarray = field(repr=False)
    alpha: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    info: dict[str, Any] = field(default_factory=dict)
    #: descriptor kernel: training mean and sd of the raw descriptors, mixing weight w, 2 l m
    desc_mean: np.ndarray | None = field(default=None, repr=False)
    desc_std: np.ndarray | None = field(default=None, repr=False)
    mix: float = 0.0
    length2: float = 1.0

    @property
    def n_train(self) -> int:
        return int(self.X.shape[0])

    @property
    def counts(self) -> np.ndarray:
        """``[n, nbits]`` count fingerprints of the training molecules (without descriptors)."""
        return self.X.counts if isinstance(self.X, GPFeatures) else self.X

    def _kernel(self, a: Any, b: Any) -> np.ndarray:
        """Unscaled kernel matrix between two feature sets of this model (``[len(a), len(b)]``)."""
        if self.desc_mean is None:
            return minmax_kernel(a, b)
        return _mixed_kernel(a, b, self.desc_mean, self.desc_std, self.mix, self.length2)

    def _proj(self, Xq: Any) -> tuple[np.ndarray, np.ndarray]:
        Kq = self.s2 * self._kernel(Xq, self.X)  # [m, n]
        return Kq, Kq @ self.V  # [m, n] in the eigenbasis

    def predict(self, Xq: np.ndarray | Sequence[str], *, return_cov: bool = False,
                chunk: int = 4096) -> tuple[np.ndarray, ...]:
        """Posterior predictive mean and standard deviation (original units).

        Parameters
        ----------
        Xq : np.ndarray or list of SMILES
            ``[m, nbits]`` count features from :meth:`featurize` (or SMILES, which must all be valid).
        return_cov : bool
            Also return the ``[m, m]`` posterior covariance of the latent ``f``
            (original units squared; for Thompson sampling and batch selection).

        Returns
        -------
        mean, std : np.ndarray
            ``[m]``; ``std`` includes the noise (interval for a new measurement).
        cov : np.ndarray, optional
            ``[m, m]`` latent covariance (no noise).
        """
        Xq = self.featurize(Xq)
        d = self.s2 * self.lam + self.noise
        means, stds, projs = [], [], []
        for i in range(0, len(Xq), chunk):
            _, A = self._proj(Xq[i:i + chunk])
            means.append(self.c + A @ self.alpha)
            var_f = np.maximum(self.s2 - np.einsum("ij,ij->i", A / d, A), 1e-12)
            stds.append(np.sqrt(var_f + self.noise))
            if return_cov:
                projs.append(A)
        mean = np.concatenate(means) if means else np.zeros(0)
        std = np.concatenate(stds) if stds else np.zeros(0)
        out = (mean * self.y_std + self.y_mean, std * self.y_std)
        if return_cov:
            A = np.concatenate(projs) if projs else np.zeros((0, self.n_train))
            Kqq = self.s2 * self._kernel(Xq, Xq)
            cov = Kqq - (A / d) @ A.T
            out = out + (cov * self.y_std ** 2,)
        return out

    def interval(self, Xq: Any, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Central predictive interval ``(lo, hi)`` at ``level`` (Gaussian)."""
        from scipy.stats import norm

        mu, sd = self.predict(Xq)[:2]
        z = norm.ppf(0.5 + level / 2)
        return mu - z * sd, mu + z * sd

    def featurize(self, X: Any) -> Any:
        """Features of this model's kernel: SMILES -> ``[m, nbits]`` uint8 or :class:`GPFeatures` (features pass through)."""
        return _as_features(X, self.spec, self.kernel)

    def to_dict(self) -> dict[str, Any]:
        """Hyperparameters and diagnostics (JSON-friendly)."""
        mixed = {} if self.desc_mean is None else {"descriptor_weight": self.mix, "descriptor_length2": self.length2}
        return {"kernel": self.kernel, **mixed, "signal_variance": self.s2 * self.y_std ** 2,
                "noise_variance": self.noise * self.y_std ** 2, "constant_mean": self.c * self.y_std + self.y_mean,
                "standardised": {"s2": self.s2, "noise": self.noise, "c": self.c},
                "y_mean": self.y_mean, "y_std": self.y_std, "fingerprint": self.spec.to_dict(), **self.info}


def _standardize(raw: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.clip((raw - mean) / std, -6.0, 6.0))


def _mixed_kernel(a: GPFeatures, b: GPFeatures, mean: np.ndarray, std: np.ndarray, w: float,
                  length2: float) -> np.ndarray:
    """``(1 - w) MinMax(a, b) + w exp(-|za - zb|^2 / length2)`` (see the module docstring)."""
    out = 0.0
    if w < 1.0:
        out = (1.0 - w) * minmax_kernel(a.counts, b.counts)
    if w > 0.0:
        d2 = _sq_dists(_standardize(a.desc, mean, std), _standardize(b.desc, mean, std))
        out = out + w * np.exp(-d2 / length2)
    return np.asarray(out, dtype=np.float64)


def _as_features(X: Any, spec: FingerprintSpec, kernel: str) -> Any:
    cap = KERNELS[kernel]
    desc = KERNEL_DESCRIPTORS.get(kernel)
    if desc is not None:
        if isinstance(X, GPFeatures):
            return GPFeatures(np.minimum(X.counts, cap).astype(np.uint8), X.desc)
        if isinstance(X, np.ndarray):
            raise InputError(f"the {kernel!r} kernel needs SMILES or GPFeatures (descriptors), not a bare array")
        return features(list(X), spec, cap, descriptors=desc)
    if isinstance(X, GPFeatures):
        X = X.counts
    if isinstance(X, np.ndarray) and X.dtype == np.uint64:  # packed binary fingerprints
        return unpack_bits(X, X.shape[1] * 64)
    if isinstance(X, np.ndarray) and X.ndim == 2 and np.issubdtype(X.dtype, np.integer):
        return np.minimum(X, cap).astype(np.uint8)
    return features(list(X), spec, cap)


def _maximize_lml(K: np.ndarray, z: np.ndarray, n_restarts: int) -> tuple[Any, ...]:
    """Eigendecompose ``K`` (overwritten) and maximise the marginal likelihood of ``(s2, noise)``.

    Returns ``(lam, V, V^T z, V^T 1, scipy result)``; ``result.fun`` is the negative
    log marginal likelihood per point.
    """
    from scipy.linalg import eigh
    from scipy.optimize import minimize

    # float64 LAPACK (dsyevr: small workspace; K's memory is reused); K is symmetric positive semi-definite
    lam, V = eigh(K, overwrite_a=True, check_finite=False, driver="evr")
    lam = np.maximum(lam, 0.0)
    ty = V.T @ z
    t1 = V.T @ np.ones_like(z)
    best = None
    for frac in np.linspace(0.05, 0.8, max(1, int(n_restarts))):
        x0 = np.log([1.0 - frac + 1e-3, frac])
        res = minimize(_neg_lml, x0, args=(lam, ty, t1), jac=True, method="L-BFGS-B",
                       bounds=[(-9.0, 6.0), (-12.0, 3.0)])
        if best is None or res.fun < best.fun:
            best = res
    return lam, V, ty, t1, best


def fit_gp(
    X: np.ndarray | Sequence[str],
    y: np.ndarray | Sequence[float],
    *,
    spec: FingerprintSpec | None = None,
    kernel: str = "minmax",
    max_exact: int = 10000,
    seed: int = 0,
    n_restarts: int = 4,
) -> TanimotoGP:
    """Fit a Tanimoto GP by maximising the marginal likelihood of signal and noise variance.

    Parameters
    ----------
    X : np.ndarray or list of SMILES
        SMILES (all must be valid), ``[n, nbits]`` integer count features, or
        ``[n, W]`` uint64 packed (binary) fingerprints.
    y : array-like
        ``[n]`` float targets (no NaN).
    spec : FingerprintSpec, optional
        Fingerprint of SMILES inputs (default Morgan radius 2, 2048 bits).
    kernel : {"minmax", "tanimoto", "minmax+physchem"}
        MinMax on count fingerprints (default), Tanimoto on binary ones, or
        MinMax mixed with a kernel on RDKit descriptors (``X``: SMILES or
        :class:`GPFeatures`; weight and length scale by marginal likelihood).
    max_exact : int
        Above this many molecules fit on a MaxMin subset of this size (see module docstring).
    seed : int
        Seeds the MaxMin subset and the optimiser starts.
    n_restarts : int
        L-BFGS starts (log noise fraction in a grid).

    Returns
    -------
    TanimotoGP
    """
    t0 = time.perf_counter()
    spec = spec or FingerprintSpec()
    if kernel not in KERNELS:
        from discovery.errors import ConfigError

        raise ConfigError(f"unknown GP kernel {kernel!r}; choose one of {', '.join(KERNELS)}")
    Xp = _as_features(X, spec, kernel)
    if Xp.shape[1] != spec.nbits:
        spec = FingerprintSpec(radius=spec.radius, nbits=Xp.shape[1])
    y = np.asarray(y, dtype=np.float64).ravel()
    if len(y) != len(Xp):
        raise InputError(f"{len(Xp)} molecules but {len(y)} target values")
    if len(y) < 3:
        raise InputError(f"a GP needs at least 3 measured molecules, got {len(y)}")
    if not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise InputError("target values must be finite numbers", row=bad + 1, value=y[bad])
    n_all = len(y)
    approx = None
    mixed = isinstance(Xp, GPFeatures)
    counts = Xp.counts if mixed else Xp
    if n_all > max_exact:
        from discovery.screening.diversity import maxmin_pick

        from discovery.screening.fingerprints import pack_bits

        sub = np.sort(maxmin_pick(pack_bits(counts > 0), max_exact, seed=seed).positions)
        Xp, y = Xp[sub], y[sub]
        counts = Xp.counts if mixed else Xp
        approx = f"subset of data: {max_exact} of {n_all} molecules chosen by MaxMin"
    y_mean, y_std = float(y.mean()), float(y.std()) or 1.0
    z = (y - y_mean) / y_std
    T = minmax_kernel(counts, counts)
    mix_info: dict[str, Any] = {}
    d_mean = d_std = None
    mix, length2 = 0.0, 1.0
    if mixed:
        d_mean = np.nanmean(Xp.desc, axis=0)
        d_std = np.nanstd(Xp.desc, axis=0)
        d_mean, d_std = np.nan_to_num(d_mean), np.where(np.nan_to_num(d_std) > 0, np.nan_to_num(d_std), 1.0)
        Z = _standardize(Xp.desc, d_mean, d_std)
        D2 = _sq_dists(Z, Z)
        off = D2[np.triu_indices(len(Z), 1)]
        med = float(np.median(off[off > 0])) if (off > 0).any() else 1.0
        sel = np.arange(len(z))
        if len(sel) > _SELECT_MAX:
            sel = np.sort(np.random.default_rng(seed).choice(len(z), _SELECT_MAX, replace=False))
        Ts, D2s, zs = T[np.ix_(sel, sel)], D2[np.ix_(sel, sel)], z[sel]
        grid = [(_maximize_lml(Ts.copy(), zs, n_restarts)[-1].fun, 0.0, 1.0)]  # w = 0: plain MinMax
        for lf in _LENGTH_FACTORS:
            Rs = np.exp(-D2s / (2.0 * lf * med))
            for w in _MIX_WEIGHTS[1:]:
                grid.append((_maximize_lml((1.0 - w) * Ts + w * Rs, zs, n_restarts)[-1].fun, w, lf))
        _, mix, lf = min(grid)
        length2 = 2.0 * lf * med
        mix_info = {"descriptor_weight": mix, "descriptor_length_factor": lf,
                    "descriptor_grid_on": int(len(sel)), "descriptor_set": KERNEL_DESCRIPTORS[kernel]}
        if mix > 0:
            T = (1.0 - mix) * T + mix * np.exp(-D2 / length2)
        del D2, Ts, D2s, Rs
    t_kernel = time.perf_counter() - t0
    lam, V, ty, t1, best = _maximize_lml(T, z, n_restarts)
    del T
    s2, noise = float(np.exp(best.x[0])), float(np.exp(best.x[1]))
    d = s2 * lam + noise
    c = float(np.sum(t1 * ty / d) / np.sum(t1 * t1 / d))
    alpha_eig = (ty - c * t1) / d  # V^T K^-1 (z - c) ... in the eigenbasis
    seconds = time.perf_counter() - t0
    info = {"n_train": n_all, "n_used": int(len(y)), "approximation": approx, **mix_info,
            "log_marginal_likelihood": float(-best.fun * len(y)), "optimizer_converged": bool(best.success),
            "seconds": round(seconds, 3), "seconds_kernel": round(t_kernel, 3)}
    return TanimotoGP(X=Xp, spec=spec, kernel=kernel, s2=s2, noise=noise, c=c, y_mean=y_mean, y_std=y_std, V=V, lam=lam,
                      alpha=alpha_eig, y=y, info=info, desc_mean=d_mean, desc_std=d_std, mix=mix, length2=length2)
