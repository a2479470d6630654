"""Exact Tanimoto top-k and threshold search, batched, with BitBound pruning.

Algorithm
---------
The library (a :class:`~discovery.screening.index.FingerprintIndex`) is
stored sorted by popcount and cut into blocks of ``block_rows`` rows, each
with its popcount range ``[lo, hi]``. Queries are sorted by popcount and
processed in batches of ``query_batch``. For a query with ``q`` bits the
Tanimoto to any row with ``b`` bits is at most ``min(q, b) / max(q, b)``
(BitBound, Swamidass & Baldi 2007), so a whole block is skipped for a batch
when that bound is below the threshold (threshold search) or below the
current k-th best score of every query in the batch (top-k search). Each
batch is first seeded with the block holding its median popcount, then every
other block is visited once (the library is streamed block by block from the
memory map, which bounds memory: one block plus the per-query results).

Kernels (:data:`KERNELS`, chosen by name):

``jax`` (default when JAX imports)
    One jit-compiled function per block: intersections by ``population_count``
    of ``uint32`` words over 128-row tiles (``lax.map``), float32 scores,
    ``lax.top_k``. Float32 ``a/u`` is only a ranking key: the selected rows'
    scores are recomputed exactly in float64 from the bits on the host. For
    fingerprints of up to 2048 bits distinct fractions ``a/u`` differ by at
    least ``1/2048**2``, several float32 ulps, so float32 keys are exact and
    order-preserving; rows tied with the k-th key are then taken by input
    position in a second ``top_k`` on the device. For larger fingerprints a
    block in which more than ``k`` rows come within 1e-7 of the k-th key is
    re-ranked exactly with NumPy for the queries concerned. Results are
    identical to the ``numpy`` kernel and to RDKit (tested).
``numpy``
    Exact float64 scores with ``np.bitwise_count``; the reference path.

Ranking: score descending, then input position ascending (ties broken by
index). Scores equal RDKit's ``BulkTanimotoSimilarity`` bit for bit
(``a / (b + c - a)`` in double). Two empty fingerprints score 0.0.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from discovery.errors import ConfigError, InputError
from discovery.screening.fingerprints import FingerprintSpec, popcount, ratio
from discovery.screening.index import FingerprintIndex

__all__ = ["BLOCK_ROWS", "ACCELERATOR_BLOCK_ROWS", "default_block_rows", "KERNELS", "SearchStats", "TopK", "Hits",
           "topk_search", "threshold_search", "default_kernel", "as_queries"]

log = logging.getLogger(__name__)

_TILE = 128
_TOL = 1e-7
#: default library rows per block: 4,096 x 2048 bits is 1 MiB of fingerprints and 4 MiB of float32 scores
#: per 256 queries (in cache), as fast as 16,384-row blocks and ~60 MB less peak RSS (benchmarks/RESULTS.md)
BLOCK_ROWS = 4096
#: default when the JAX kernel runs on a GPU (or another accelerator): there a 4,096-row block is too little
#: work per kernel launch and host-to-device copy; on an H200, 65,536-row blocks searched top-10 4.6x faster
#: (benchmarks/RESULTS.md, "Similarity search, ours on GPU")
ACCELERATOR_BLOCK_ROWS = 65536


# ----------------------------------------------------------------------------- results
@dataclass
class SearchStats:
    """Work done by a search (for benchmarks and logs)."""

    n_queries: int = 0
    n_library: int = 0
    pairs_total: int = 0
    pairs_computed: int = 0
    blocks_total: int = 0
    blocks_computed: int = 0
    exact_fixups: int = 0
    seconds: float = 0.0
    kernel: str = ""

    @property
    def pruned_fraction(self) -> float:
        return 1.0 - self.pairs_computed / self.pairs_total if self.pairs_total else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["pruned_fraction"] = round(self.pruned_fraction, 4)
        return d


@dataclass
class TopK:
    """Top-k neighbours of each query.

    Attributes
    ----------
    scores : np.ndarray
        ``[Q, k]`` float64 Tanimoto, descending per row; NaN where the library
        has fewer than ``k`` molecules.
    indices : np.ndarray
        ``[Q, k]`` int64 input positions in the library; -1 where absent.
    stats : SearchStats
    """

    scores: np.ndarray
    indices: np.ndarray
    stats: SearchStats = field(default_factory=SearchStats)

    def to_frame(self) -> Any:
        """Long table ``query, rank, target, score`` (absent ranks left out)."""
        import pandas as pd

        Q, k = self.indices.shape
        q = np.repeat(np.arange(Q), k)
        r = np.tile(np.arange(1, k + 1), Q)
        t = self.indices.ravel()
        keep = t >= 0
        return pd.DataFrame({"query": q[keep], "rank": r[keep], "target": t[keep], "score": self.scores.ravel()[keep]})


@dataclass
class Hits:
    """Threshold hits: flat arrays sorted by query, score (desc), target (asc).

    Attributes
    ----------
    query, target : np.ndarray
        ``[h]`` int64 query number and library input position.
    scores : np.ndarray
        ``[h]`` float64 Tanimoto, each ``>= threshold``.
    """

    query: np.ndarray
    target: np.ndarray
    scores: np.ndarray
    threshold: float
    stats: SearchStats = field(default_factory=SearchStats)

    def __len__(self) -> int:
        return int(len(self.query))

    def counts(self, n_queries: int) -> np.ndarray:
        return np.bincount(self.query, minlength=n_queries)

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({"query": self.query, "target": self.target, "score": self.scores})


# ----------------------------------------------------------------------------- kernels
def _exact_block_scores(qfp: np.ndarray, qpc: np.ndarray, bfp: np.ndarray, bpc: np.ndarray,
                        max_bytes: int = 1 << 26) -> np.ndarray:
    """``[Q, B]`` exact float64 Tanimoto (NumPy), computed in query chunks of bounded memory."""
    Q, W = qfp.shape
    B = bfp.shape[0]
    out = np.empty((Q, B), dtype=np.float64)
    step = max(1, int(max_bytes // max(1, B * W * 8)))
    for s in range(0, Q, step):
        inter = np.bitwise_count(qfp[s:s + step, None, :] & bfp[None, :, :]).sum(-1, dtype=np.int64)
        out[s:s + step] = ratio(inter, qpc[s:s + step, None].astype(np.int64) + bpc[None, :] - inter)
    return out


def _exact_select(scores: np.ndarray, bpos: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the k best (score desc, position asc): ``(scores [Q,k'], block rows [Q,k'])``."""
    Q, B = scores.shape
    kk = min(k, B)
    if kk == 0:
        return np.zeros((Q, 0)), np.zeros((Q, 0), dtype=np.int64)
    order = np.lexsort((np.broadcast_to(bpos, scores.shape), -scores), axis=-1)[:, :kk]
    return np.take_along_axis(scores, order, 1), order.astype(np.int64)


class NumpyKernel:
    """Exact float64 reference kernel (no JAX needed)."""

    name = "numpy"

    def prepare(self, bfp: np.ndarray) -> Any:
        return None

    def topk(self, qfp, qpc, bfp, bpc, bpos, k, prepared=None, stats=None, floor=None):
        return _exact_select(_exact_block_scores(qfp, qpc, bfp, bpc), bpos, k)

    def threshold(self, qfp, qpc, bfp, bpc, t, prepared=None, stats=None):
        s = _exact_block_scores(qfp, qpc, bfp, bpc)
        qi, rows = np.nonzero(s >= t)
        return qi, rows, s[qi, rows]


class JaxKernel:
    """JAX kernel: jit-compiled popcount tiles, float32 ranking key, exact host fix-up."""

    name = "jax"

    def __init__(self, block_rows: int = BLOCK_ROWS) -> None:
        import jax  # noqa: F401  (fail early when JAX is missing)

        from discovery.screening.runtime import enable_compilation_cache

        enable_compilation_cache()
        self._on_cpu = _jax_on_cpu()
        self.block_rows = int(block_rows)
        self._full = True  # set per search: pad every block to block_rows (library >= one block)

    #: jit-compiled functions shared by every kernel object (XLA caches compilations per function)
    _fns: dict[tuple, Callable] = {}

    # -- compiled functions
    def _scores_fn(self):
        import jax
        import jax.numpy as jnp

        def scores(q32, qpc, lt, bpc):
            # q32 [Q, W32] uint32; lt [nt, W32, T] uint32; bpc [nt*T] int32 (-1 = padding)
            W32 = q32.shape[1]

            def tile(t):
                acc = jax.lax.population_count(q32[:, 0][:, None] & t[0][None, :]).astype(jnp.int32)
                for w in range(1, W32):
                    acc = acc + jax.lax.population_count(q32[:, w][:, None] & t[w][None, :]).astype(jnp.int32)
                return acc

            inter = jax.lax.map(tile, lt)  # [nt, Q, T]
            inter = jnp.transpose(inter, (1, 0, 2)).reshape(q32.shape[0], -1)
            union = qpc[:, None] + bpc[None, :] - inter
            s = jnp.where(union > 0, inter.astype(jnp.float32) / jnp.maximum(union, 1).astype(jnp.float32), 0.0)
            return jnp.where(bpc[None, :] < 0, -1.0, s)

        return scores

    # Each step is its own jit: XLA CPU lowers ``top_k`` to its fast custom call only when the
    # scores feed nothing else; a second consumer makes it sort whole rows (~50x slower).
    def _jit(self, key: tuple, make: Callable[[], Callable]) -> Callable:
        if key not in self._fns:
            import jax

            self._fns[key] = jax.jit(make())
        return self._fns[key]

    def _score_jit(self) -> Callable:
        return self._jit(("scores",), self._scores_fn)

    def _topk_jit(self, k: int) -> Callable:
        def make():
            import jax

            return lambda s: jax.lax.top_k(s, k)

        return self._jit(("topk", k), make)

    def _tie_jit(self, k: int) -> Callable:
        def make():
            import jax
            import jax.numpy as jnp

            def f(s, rows, kth, prank):
                # rows above the k-th key are all in; rows equal to it are taken by input position
                sub = jnp.take(s, rows, axis=0)
                key2 = jnp.where(sub > kth, jnp.float32(3e7), jnp.where(sub == kth, -prank[None, :], -jnp.inf))
                return jax.lax.top_k(key2, k)[1]

            return f

        return self._jit(("tie", k), make)

    def _near_jit(self) -> Callable:
        def make():
            import jax.numpy as jnp

            return lambda s, kth: jnp.sum(s >= kth - _TOL, axis=1)

        return self._jit(("near",), make)

    def _thr_jit(self, count: bool) -> Callable:
        def make():
            import jax.numpy as jnp

            scores = self._scores_fn()

            def f(q32, qpc, lt, bpc, t):
                m = scores(q32, qpc, lt, bpc) >= t
                return (m, jnp.sum(m, dtype=jnp.int32)) if count else m

            return f

        return self._jit(("thr", count), make)

    # -- data movement
    def prepare(self, bfp: np.ndarray) -> tuple[Any, Any, int]:
        import jax.numpy as jnp

        B, W = bfp.shape
        # one padded block shape per library (no recompilation for the last, shorter block)
        Bp = self.block_rows if B <= self.block_rows and self._full else max(_TILE, 1 << (B - 1).bit_length())
        Bp = max(Bp, -(-B // _TILE) * _TILE)
        w32 = np.ascontiguousarray(bfp).view(np.uint32)  # [B, 2W]
        if Bp != B:
            w32 = np.concatenate([w32, np.zeros((Bp - B, 2 * W), dtype=np.uint32)])
        lt = np.ascontiguousarray(w32.reshape(Bp // _TILE, _TILE, 2 * W).transpose(0, 2, 1))
        return jnp.asarray(lt), B, Bp

    def _pad_q(self, qfp: np.ndarray, qpc: np.ndarray, Qp: int):
        import jax.numpy as jnp

        Q = qfp.shape[0]
        q32 = np.ascontiguousarray(qfp).view(np.uint32)
        if Qp != Q:
            q32 = np.concatenate([q32, np.zeros((Qp - Q, q32.shape[1]), dtype=np.uint32)])
            qpc = np.concatenate([qpc, np.zeros(Qp - Q, dtype=qpc.dtype)])
        return jnp.asarray(q32), jnp.asarray(qpc.astype(np.int32))

    def _bpc(self, bpc: np.ndarray, Bp: int):
        import jax.numpy as jnp

        out = np.full(Bp, -1, dtype=np.int32)
        out[: len(bpc)] = bpc
        return jnp.asarray(out)

    #: padded query-batch sizes (few shapes, few compilations)
    _QSIZES = (8, 32, 128, 256, 512, 1024)

    @classmethod
    def _qpad(cls, Q: int) -> int:
        for q in cls._QSIZES:
            if Q <= q:
                return q
        return 1 << (int(Q) - 1).bit_length()

    def topk(self, qfp, qpc, bfp, bpc, bpos, k, prepared=None, stats=None, floor=None):
        Q = qfp.shape[0]
        lt, B, Bp = prepared if prepared is not None else self.prepare(bfp)
        kk = min(k, B)
        Qp = self._qpad(Q)
        q32, qpc_d = self._pad_q(qfp, qpc, Qp)
        import jax.numpy as jnp

        sc_d = self._score_jit()(q32, qpc_d, lt, self._bpc(bpc, Bp))
        k1 = min(kk + 1, Bp)
        vals, pos = self._topk_jit(k1)(sc_d)
        vals = np.asarray(vals)[:Q]
        pos = np.asarray(pos)[:Q, :kk].astype(np.int64)
        exact32 = bfp.shape[1] * 64 <= 2048
        if exact32 and k1 > kk:
            # a row tied with the block's k-th key may have a lower input position than the one top_k kept;
            # that matters only when the tie can still enter the query's overall top-k (``floor``)
            tied = (vals[:, kk - 1] == vals[:, kk]) & (vals[:, kk] >= 0)
            if floor is not None:
                tied &= vals[:, kk - 1].astype(np.float64) >= np.asarray(floor) - 1e-6
            tied = np.flatnonzero(tied)
            if len(tied):
                prank = np.full(Bp, 2 ** 24, dtype=np.float32)
                prank[np.argsort(bpos, kind="stable")] = np.arange(B, dtype=np.float32)
                T = q32.shape[0]  # one shape per query batch size: one compilation, not one per tie count
                rows = np.zeros(T, dtype=np.int32)
                rows[: len(tied)] = tied
                kth = np.zeros((T, 1), dtype=np.float32)
                kth[: len(tied), 0] = vals[tied, kk - 1]
                pos2 = np.asarray(self._tie_jit(kk)(sc_d, jnp.asarray(rows), jnp.asarray(kth), jnp.asarray(prank)))
                pos[tied] = pos2[: len(tied)]
        near = np.zeros(Q, dtype=np.int64)
        if not exact32:
            near = np.asarray(self._near_jit()(sc_d, jnp.asarray(np.pad(vals[:, kk - 1:kk], ((0, q32.shape[0] - Q), (0, 0))))))[:Q]
        # exact float64 scores of the selected rows, from the bits
        inter = np.bitwise_count(qfp[:, None, :] & bfp[pos]).sum(-1, dtype=np.int64)
        sc = ratio(inter, qpc[:, None].astype(np.int64) + bpc[pos].astype(np.int64) - inter)
        order = np.lexsort((bpos[pos], -sc), axis=-1)
        sc = np.take_along_axis(sc, order, 1)
        pos = np.take_along_axis(pos, order, 1)
        # float32 keys are exact and order-preserving for unions <= 2048 bits (distinct fractions
        # differ by >= 1/2048^2, several ulps); larger fingerprints re-rank near-ties exactly
        amb = np.flatnonzero(near > kk) if bfp.shape[1] * 64 > 2048 else np.zeros(0, dtype=np.int64)
        if len(amb):
            s2, p2 = _exact_select(_exact_block_scores(qfp[amb], qpc[amb], bfp, bpc), bpos, kk)
            sc[amb], pos[amb] = s2, p2
            if stats is not None:
                stats.exact_fixups += len(amb)
        return sc, pos

    def threshold(self, qfp, qpc, bfp, bpc, t, prepared=None, stats=None):
        Q = qfp.shape[0]
        lt, B, Bp = prepared if prepared is not None else self.prepare(bfp)
        q32, qpc_d = self._pad_q(qfp, qpc, self._qpad(Q))
        args = (q32, qpc_d, lt, self._bpc(bpc, Bp), np.float32(t - _TOL))
        if self._on_cpu:
            mask = self._thr_jit(False)(*args)
        else:  # hits are sparse: on a device most blocks copy back one count, not a [Q, B] mask
            mask, n_cand = self._thr_jit(True)(*args)
            if int(n_cand) == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        qi, rows = np.nonzero(np.asarray(mask)[:Q, :B])
        if len(qi) == 0:
            return qi, rows, np.zeros(0)
        inter = np.bitwise_count(qfp[qi] & bfp[rows]).sum(-1, dtype=np.int64)
        sc = ratio(inter, qpc[qi].astype(np.int64) + bpc[rows].astype(np.int64) - inter)
        keep = sc >= t
        return qi[keep], rows[keep], sc[keep]


#: kernel name -> factory
KERNELS: dict[str, Callable[..., Any]] = {"jax": JaxKernel, "numpy": NumpyKernel}


def default_kernel() -> str:
    """``"jax"`` when JAX imports, else ``"numpy"``."""
    try:
        import jax  # noqa: F401

        return "jax"
    except ImportError:  # pragma: no cover
        return "numpy"


def default_block_rows(kernel: str | None = None) -> int:
    """Library rows per block for ``kernel`` on this machine.

    :data:`BLOCK_ROWS` on the CPU (and for the NumPy kernel); :data:`ACCELERATOR_BLOCK_ROWS`
    when the JAX kernel's default backend is a GPU or other accelerator.
    """
    if (kernel or default_kernel()) != "jax":
        return BLOCK_ROWS
    return BLOCK_ROWS if _jax_on_cpu() else ACCELERATOR_BLOCK_ROWS


def _jax_on_cpu() -> bool:
    """Whether JAX's default backend is the CPU (else a GPU or other accelerator)."""
    import jax

    return jax.default_backend() == "cpu"


def _kernel(name: str | None, block_rows: int, n_library: int | None = None):
    name = name or default_kernel()
    if name not in KERNELS:
        raise ConfigError(f"unknown search kernel {name!r}; choose one of {', '.join(KERNELS)}")
    if name != "jax":
        return KERNELS[name]()
    kern = KERNELS[name](block_rows)
    kern._full = n_library is None or n_library >= block_rows
    return kern


# ----------------------------------------------------------------------------- queries
def as_queries(queries: Any, spec: FingerprintSpec, on_error: str = "raise") -> tuple[np.ndarray, np.ndarray]:
    """Packed queries ``[Q, W]`` uint64 and popcounts ``[Q]`` from SMILES, packed arrays or an index.

    An index gives its molecules in input order; SMILES are fingerprinted with
    ``spec`` (an invalid one raises :class:`~discovery.errors.InputError`).
    """
    from discovery.screening.fingerprints import fingerprint_smiles

    if isinstance(queries, FingerprintIndex):
        if queries.spec != spec:
            raise InputError(f"query fingerprints {queries.spec} differ from the library's {spec}",
                             hint="index queries and library with the same radius and size")
        packed = queries.fingerprints()
    elif isinstance(queries, np.ndarray):
        packed = np.ascontiguousarray(queries, dtype=np.uint64)
        if packed.ndim == 1:
            packed = packed[None]
    else:
        qs = [queries] if isinstance(queries, str) else list(queries)
        packed, ok, _ = fingerprint_smiles(qs, spec, on_error=on_error)
    if packed.shape[1] != spec.n_words:
        raise InputError(f"queries have {packed.shape[1] * 64} bits, the library {spec.nbits}")
    return packed, popcount(packed)


def _as_library(library: Any, spec: FingerprintSpec | None) -> FingerprintIndex:
    if isinstance(library, FingerprintIndex):
        return library
    if isinstance(library, np.ndarray):
        return FingerprintIndex.from_packed(library, spec)
    return FingerprintIndex.from_smiles(list(library), spec or FingerprintSpec())


def _blocks(lib: FingerprintIndex, block_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(lib)
    starts = np.arange(0, n, block_rows, dtype=np.int64)
    ends = np.minimum(starts + block_rows, n)
    pcs = np.asarray(lib.popcounts)
    return starts, ends, np.stack([pcs[starts], pcs[ends - 1]], 1) if n else np.zeros((0, 2), np.int64)


def _bound(qpc: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Largest Tanimoto a query with ``qpc`` bits can reach on rows with ``lo..hi`` bits: ``[Q]``."""
    q = qpc.astype(np.float64)
    b = np.clip(q, lo, hi)  # the popcount in range closest to q maximises min/max
    num, den = np.minimum(q, b), np.maximum(q, b)
    out = np.zeros_like(q)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _progress(enabled: bool, done: int, total: int, t0: float) -> None:
    if enabled:
        print(f"\rsearch: {done}/{total} query batches, {time.perf_counter() - t0:.1f} s", end="",
              file=sys.stderr)


# ----------------------------------------------------------------------------- top-k
def topk_search(
    queries: Any,
    library: Any,
    k: int = 10,
    *,
    kernel: str | None = None,
    block_rows: int | None = None,
    query_batch: int = 256,
    bitbound: bool = True,
    spec: FingerprintSpec | None = None,
    progress: bool = False,
) -> TopK:
    """The ``k`` most similar library molecules of each query (exact).

    Parameters
    ----------
    queries : list of SMILES, ``[Q, W]`` uint64 array, or FingerprintIndex
    library : FingerprintIndex, ``[n, W]`` uint64 array, or list of SMILES
    k : int
        Neighbours per query; when ``k`` exceeds the library size the missing
        ranks are NaN / -1.
    kernel : {"jax", "numpy"}, optional
        Default: JAX when installed.
    block_rows : int, optional
        Library rows per block (bounds memory: one block and ``[query_batch, block_rows]`` scores);
        default :func:`default_block_rows` (4,096 on the CPU, 65,536 on a GPU).
    query_batch : int
        Queries per batch.
    bitbound : bool
        Skip blocks that cannot reach the current k-th score (results are the same either way).

    Returns
    -------
    TopK
    """
    if int(k) < 1:
        raise InputError(f"k must be at least 1, got {k}")
    lib, qfp, qpc, kern, stats, (starts, ends, ranges), batches = _setup(
        queries, library, spec, kernel, block_rows, query_batch)
    t0 = time.perf_counter()
    k = int(k)
    Q, n = qfp.shape[0], len(lib)
    kk = min(k, n)
    best_s = np.full((Q, kk), -np.inf)
    best_i = np.full((Q, kk), np.iinfo(np.int64).max, dtype=np.int64)

    def kth(sel: np.ndarray) -> np.ndarray:
        return best_s[sel, kk - 1]

    def visit(sel: np.ndarray, b: int, blk: tuple | None) -> None:
        s, e = int(starts[b]), int(ends[b])
        bfp, bpc, bpos = blk[:3] if blk is not None else _load(lib, s, e)
        prepared = blk[3] if blk is not None else None
        sc, rows = kern.topk(qfp[sel], qpc[sel], bfp, bpc, bpos, kk, prepared=prepared, stats=stats,
                             floor=best_s[sel, kk - 1])
        cand_s = np.concatenate([best_s[sel], sc], 1)
        cand_i = np.concatenate([best_i[sel], bpos[rows]], 1)
        order = np.lexsort((cand_i, -cand_s), axis=-1)[:, :kk]
        best_s[sel] = np.take_along_axis(cand_s, order, 1)
        best_i[sel] = np.take_along_axis(cand_i, order, 1)
        stats.pairs_computed += len(sel) * (e - s)
        stats.blocks_computed += 1

    def needed(sel: np.ndarray, b: int) -> bool:
        if not bitbound:
            return True
        bound = _bound(qpc[sel], int(ranges[b, 0]), int(ranges[b, 1]))
        return bool(np.any(bound >= kth(sel)))

    # phase 1: seed each batch with the block of its median popcount
    home: list[int] = []
    pcs = np.asarray(lib.popcounts)
    for sel in batches:
        med = int(np.median(qpc[sel]))
        row = int(min(np.searchsorted(pcs, med), n - 1))
        b = int(np.searchsorted(starts, row, side="right") - 1)
        home.append(b)
        visit(sel, b, None)
    # phase 2: stream the other blocks once; each batch skips blocks it cannot improve on
    for b in range(len(starts)):
        todo = [j for j, sel in enumerate(batches) if home[j] != b and needed(sel, b)]
        if not todo:
            continue
        s, e = int(starts[b]), int(ends[b])
        bfp, bpc, bpos = _load(lib, s, e)
        prepared = kern.prepare(bfp)
        for j in todo:
            if needed(batches[j], b):  # the k-th score may have risen since
                visit(batches[j], b, (bfp, bpc, bpos, prepared))
        _progress(progress, b + 1, len(starts), t0)
    _drop_mapped_rows(lib.fps, 0, n)  # pages the kernel mapped around blocks that BitBound skipped
    if progress:
        print(file=sys.stderr)
    scores = np.full((Q, k), np.nan)
    idx = np.full((Q, k), -1, dtype=np.int64)
    scores[:, :kk] = best_s
    idx[:, :kk] = best_i
    stats.seconds = time.perf_counter() - t0
    return TopK(scores=scores, indices=idx, stats=stats)


def _setup(queries: Any, library: Any, spec: FingerprintSpec | None, kernel: str | None, block_rows: int | None,
           query_batch: int) -> tuple[Any, ...]:
    """What both searches start from: library, query bits and popcounts, kernel, stats, blocks and
    query batches (queries sorted by popcount, so a batch shares BitBound ranges)."""
    lib = _as_library(library, spec)
    qfp, qpc = as_queries(queries, lib.spec)
    block_rows = int(block_rows or default_block_rows(kernel))
    kern = _kernel(kernel, block_rows, len(lib))
    Q, n = qfp.shape[0], len(lib)
    stats = SearchStats(n_queries=Q, n_library=n, pairs_total=Q * n, kernel=kern.name)
    blocks = _blocks(lib, block_rows)
    stats.blocks_total = len(blocks[0]) * (-(-Q // query_batch))
    qorder = np.argsort(qpc, kind="stable")
    batches = [qorder[s:s + query_batch] for s in range(0, Q, query_batch)]
    return lib, qfp, qpc, kern, stats, blocks, batches


def _load(lib: FingerprintIndex, s: int, e: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Copy rows ``s:e`` of the library; for a memory-mapped index drop the mapped pages after copying."""
    fps = np.array(lib.fps[s:e], dtype=np.uint64, order="C", copy=True)
    _drop_mapped_rows(lib.fps, s, e)
    return fps, np.asarray(lib.popcounts[s:e], dtype=np.int64), np.asarray(lib.positions[s:e], dtype=np.int64)


def _libc_madvise() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        fn = ctypes.CDLL("libc.so.6", use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_MADVISE = _libc_madvise()
_MADV_DONTNEED = 4  # Linux: drop the pages from this process; a file-backed map re-reads them from the page cache


def _drop_mapped_rows(arr: np.ndarray, s: int, e: int) -> None:
    """Release the resident pages of rows ``s:e`` of a read-only memory-mapped array.

    A search reads every block of the library once and copies it, so without
    this the whole mapped file would end up in the process's resident set
    (peak RSS = the packed fingerprints); with it only the block being searched
    is resident (plus the few pages the kernel maps around each fault, which
    a final call over the whole array releases). The pages stay in the OS page cache, so a later search reads
    them from memory, not disk. A no-op for in-memory arrays and off Linux.
    """
    if _MADVISE is None or not isinstance(arr, np.memmap) or e <= s or arr.flags.writeable:
        return
    import mmap

    row = arr.strides[0]
    start, end = arr.ctypes.data + s * row, arr.ctypes.data + e * row
    page = mmap.PAGESIZE
    a0, a1 = (start // page) * page, -(-end // page) * page
    _MADVISE(a0, a1 - a0, _MADV_DONTNEED)


# ----------------------------------------------------------------------------- threshold
def threshold_search(
    queries: Any,
    library: Any,
    threshold: float = 0.7,
    *,
    kernel: str | None = None,
    block_rows: int | None = None,
    query_batch: int = 256,
    bitbound: bool = True,
    spec: FingerprintSpec | None = None,
    progress: bool = False,
) -> Hits:
    """Every library molecule with Tanimoto ``>= threshold`` to each query (exact).

    Parameters are those of :func:`topk_search`; ``threshold`` must be in (0, 1]
    (a threshold of 0 would return the whole library).

    Returns
    -------
    Hits
    """
    t = float(threshold)
    if not 0.0 < t <= 1.0:
        raise InputError(f"threshold must be in (0, 1], got {threshold}")
    lib, qfp, qpc, kern, stats, (starts, ends, ranges), batches = _setup(
        queries, library, spec, kernel, block_rows, query_batch)
    t0 = time.perf_counter()
    n = len(lib)
    out_q, out_t, out_s = [], [], []
    for b in range(len(starts)):
        lo, hi = int(ranges[b, 0]), int(ranges[b, 1])
        todo = [sel for sel in batches if not bitbound or np.any(_bound(qpc[sel], lo, hi) >= t)]
        if not todo:
            continue
        s, e = int(starts[b]), int(ends[b])
        bfp, bpc, bpos = _load(lib, s, e)
        prepared = kern.prepare(bfp)
        for sel in todo:
            if bitbound:  # only the queries of the batch that can reach t on this block
                sel = sel[_bound(qpc[sel], lo, hi) >= t]
            qi, rows, sc = kern.threshold(qfp[sel], qpc[sel], bfp, bpc, t, prepared=prepared, stats=stats)
            out_q.append(sel[qi])
            out_t.append(bpos[rows])
            out_s.append(sc)
            stats.pairs_computed += len(sel) * (e - s)
            stats.blocks_computed += 1
        _progress(progress, b + 1, len(starts), t0)
    _drop_mapped_rows(lib.fps, 0, n)  # pages the kernel mapped around blocks that BitBound skipped
    if progress:
        print(file=sys.stderr)
    qa = np.concatenate(out_q).astype(np.int64) if out_q else np.zeros(0, np.int64)
    ta = np.concatenate(out_t).astype(np.int64) if out_t else np.zeros(0, np.int64)
    sa = np.concatenate(out_s) if out_s else np.zeros(0)
    order = np.lexsort((ta, -sa, qa))
    stats.seconds = time.perf_counter() - t0
    return Hits(query=qa[order], target=ta[order], scores=sa[order], threshold=t, stats=stats)
