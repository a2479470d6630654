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

__all__ = ["KERNELS", "TanimotoGP", "features", "fit_gp", "minmax_kernel"]

log = logging.getLogger(__name__)

_Z90 = 1.6448536269514722


#: kernel name -> count cap (1 = binary Tanimoto)
KERNELS: dict[str, int] = {"minmax": 8, "tanimoto": 1}


def features(smiles: Sequence[str], spec: FingerprintSpec | None = None, cap: int = 8) -> np.ndarray:
    """Morgan count features ``[n, nbits]`` uint8, clipped at ``cap`` (``cap=1``: binary).

    Every SMILES must be valid (:class:`~discovery.errors.InputError` names the first bad one).
    """
    from discovery.chem.io import parse_smiles

    spec = spec or FingerprintSpec()
    gen = spec.generator()
    out = np.zeros((len(smiles), spec.nbits), dtype=np.uint8)
    for i, s in enumerate(smiles):
        mol, why = parse_smiles(s)
        if mol is None:
            raise InputError(f"invalid SMILES: {why}", row=i + 1, value=s)
        out[i] = np.minimum(gen.GetCountFingerprintAsNumPy(mol), cap)
    return out


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
        ``"minmax"`` (counts) or ``"tanimoto"`` (binary).
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

    @property
    def n_train(self) -> int:
        return int(self.X.shape[0])

    def _proj(self, Xq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Kq = self.s2 * minmax_kernel(Xq, self.X)  # [m, n]
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
            Kqq = self.s2 * minmax_kernel(Xq, Xq)
            cov = Kqq - (A / d) @ A.T
            out = out + (cov * self.y_std ** 2,)
        return out

    def interval(self, Xq: Any, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Central predictive interval ``(lo, hi)`` at ``level`` (Gaussian)."""
        from scipy.stats import norm

        mu, sd = self.predict(Xq)[:2]
        z = norm.ppf(0.5 + level / 2)
        return mu - z * sd, mu + z * sd

    def featurize(self, X: Any) -> np.ndarray:
        """Features of this model's kernel: SMILES -> ``[m, nbits]`` uint8 (arrays pass through)."""
        return _as_features(X, self.spec, self.kernel)

    def to_dict(self) -> dict[str, Any]:
        """Hyperparameters and diagnostics (JSON-friendly)."""
        return {"kernel": self.kernel, "signal_variance": self.s2 * self.y_std ** 2,
                "noise_variance": self.noise * self.y_std ** 2, "constant_mean": self.c * self.y_std + self.y_mean,
                "standardised": {"s2": self.s2, "noise": self.noise, "c": self.c},
                "y_mean": self.y_mean, "y_std": self.y_std, "fingerprint": self.spec.to_dict(), **self.info}


def _as_features(X: Any, spec: FingerprintSpec, kernel: str) -> np.ndarray:
    cap = KERNELS[kernel]
    if isinstance(X, np.ndarray) and X.dtype == np.uint64:  # packed binary fingerprints
        return unpack_bits(X, X.shape[1] * 64)
    if isinstance(X, np.ndarray) and X.ndim == 2 and np.issubdtype(X.dtype, np.integer):
        return np.minimum(X, cap).astype(np.uint8)
    return features(list(X), spec, cap)


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
    kernel : {"minmax", "tanimoto"}
        MinMax on count fingerprints (default) or Tanimoto on binary ones.
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
    from scipy.optimize import minimize

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
    if n_all > max_exact:
        from discovery.screening.diversity import maxmin_pick

        from discovery.screening.fingerprints import pack_bits

        sub = np.sort(maxmin_pick(pack_bits(Xp > 0), max_exact, seed=seed).positions)
        Xp, y = Xp[sub], y[sub]
        approx = f"subset of data: {max_exact} of {n_all} molecules chosen by MaxMin"
    y_mean, y_std = float(y.mean()), float(y.std()) or 1.0
    z = (y - y_mean) / y_std
    T = minmax_kernel(Xp, Xp)
    t_kernel = time.perf_counter() - t0
    from scipy.linalg import eigh

    # float64 LAPACK (dsyevr: small workspace; T's memory is reused); T is symmetric positive semi-definite
    lam, V = eigh(T, overwrite_a=True, check_finite=False, driver="evr")
    lam = np.maximum(lam, 0.0)
    del T
    ty = V.T @ z
    t1 = V.T @ np.ones_like(z)
    best = None
    for frac in np.linspace(0.05, 0.8, max(1, int(n_restarts))):
        x0 = np.log([1.0 - frac + 1e-3, frac])
        res = minimize(_neg_lml, x0, args=(lam, ty, t1), jac=True, method="L-BFGS-B",
                       bounds=[(-9.0, 6.0), (-12.0, 3.0)])
        if best is None or res.fun < best.fun:
            best = res
    s2, noise = float(np.exp(best.x[0])), float(np.exp(best.x[1]))
    d = s2 * lam + noise
    c = float(np.sum(t1 * ty / d) / np.sum(t1 * t1 / d))
    alpha_eig = (ty - c * t1) / d  # V^T K^-1 (z - c) ... in the eigenbasis
    seconds = time.perf_counter() - t0
    info = {"n_train": n_all, "n_used": int(len(y)), "approximation": approx,
            "log_marginal_likelihood": float(-best.fun * len(y)), "optimizer_converged": bool(best.success),
            "seconds": round(seconds, 3), "seconds_kernel": round(t_kernel, 3)}
    return TanimotoGP(X=Xp, spec=spec, kernel=kernel, s2=s2, noise=noise, c=c, y_mean=y_mean, y_std=y_std, V=V, lam=lam,
                      alpha=alpha_eig, y=y, info=info)
