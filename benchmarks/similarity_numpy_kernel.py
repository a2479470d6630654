"""Our exact search with the NumPy kernel, on the index and queries ``benchmarks/similarity.py`` built.

JAX is not imported, so the process shows what the search itself needs in memory (the JAX
kernel adds JAX and XLA's compiled kernels, ~230 MB). Run it under ``/usr/bin/time -f %M``
for the peak RSS, after ``benchmarks/similarity.py --n N`` has written its work folder::

    /usr/bin/time -f "%e s %M KB" python benchmarks/similarity_numpy_kernel.py \\
        benchmarks/_work/similarity/index_1000000_s0 benchmarks/_work/similarity/queries_1000_s0.npy /tmp/numpy.json

Writes the timings (wall and CPU seconds of the top-10 and the >= 0.7 searches) as JSON and the
top-10 indices beside it (``<out>.topk.npy``), to compare with the JAX run's ``ours.json.topk.npy``.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from discovery.screening import open_index, threshold_search, topk_search


def main(index: str, queries: str, out: str) -> None:
    idx = open_index(index)
    q = np.load(queries)
    res: dict = {}
    t, c = time.perf_counter(), time.process_time()
    top = topk_search(q, idx, k=10, kernel="numpy")
    res["topk_s"], res["topk_cpu_s"] = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    hits = threshold_search(q, idx, 0.7, kernel="numpy")
    res["threshold_s"], res["threshold_cpu_s"] = time.perf_counter() - t, time.process_time() - c
    res["n_hits"] = int(len(hits.query))
    res["jax_imported"] = "jax" in sys.modules
    pairs = len(q) * len(idx)
    res["topk_M_per_cpu_s"] = pairs / res["topk_cpu_s"] / 1e6
    res["threshold_M_per_cpu_s"] = pairs / res["threshold_cpu_s"] / 1e6  # pairs skipped by BitBound count as done
    np.save(out + ".topk.npy", top.indices)
    with open(out, "w") as fh:
        json.dump(res, fh, indent=1)
    print(json.dumps(res))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit("usage: similarity_numpy_kernel.py INDEX_DIR QUERIES.npy OUT.json")
    main(*sys.argv[1:])
