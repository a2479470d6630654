#!/usr/bin/env bash
# GPU checks: the benchmarks that have a GPU figure, run on a machine with an NVIDIA GPU.
#
#   bash benchmarks/gpu_checks.sh pack            # here: fill .gpu/ (git-ignored) with what the GPU
#                                                 # machine lacks: wheels, the mirror files used, the
#                                                 # cached 1M BRICS library, the commit
#   bash benchmarks/gpu_checks.sh run PART...     # there, from the repository root; PART is
#                                                 # setup, molprop, screening, targets or sweep
#
# The GPU machine is expected to have Python 3.12 with a CUDA build of torch, torch_geometric,
# lightning and a CUDA jax (as this project's lent H200 machines do) and no network: `pack`
# downloads the rest here (CPython 3.12 manylinux wheels, same versions as the CPU runs).
# Results go to $OUT (default /tmp/gpu_checks): one log per part and the benchmarks' JSON;
# benchmarks/RESULTS.md records them by hand with this command.
#
# Parts (each under its own time limit, so a slow one cannot starve the others):
#   molprop    benchmarks/molprop_vs_chemprop.py: Chemprop v2 and ours (tuned), seed 0, five data sets,
#              side by side on one GPU (Lightning accelerator "auto" on both sides)
#   screening  benchmarks/similarity.py at 1M molecules with our kernels on the GPU (JAX's default
#              backend) vs RDKit on one core, then our search alone at other block sizes
#              (GPU_CHECKS_BLOCKS, default "4096 16384 262144")
#   targets    benchmarks/targets.py: R-GCN and HGT training time on the GPU (random split, seed 0)
#   sweep      benchmarks/molprop_sweep.py: variants of our molprop training settings (GPU_CHECKS_SWEEP,
#              a variants file), seeds 0-2, five data sets, GPU_CHECKS_WORKERS (14) runs at a time
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
G="$ROOT/.gpu"
OUT="${OUT:-/tmp/gpu_checks}"
# a local dry run of the plumbing (CPU, small): GPU_CHECKS_N=100000 GPU_CHECKS_QUICK=1 bash ... run ...
N_LIB="${GPU_CHECKS_N:-1000000}"
MOLECULES="molecules/delaney.csv molecules/freesolv.csv molecules/lipo.csv molecules/bbbp.csv molecules/bace.csv"
KG="kg/hetionet-neo4j kg/hetionet/hetionet-v1.0-nodes.tsv kg/hetionet/metanodes.tsv kg/hetionet/metaedges.tsv"

pack() {
    set -e
    local mirror="${DISCOVERY_DATA_MIRROR:-$ROOT/../shared/data}"
    local py="${PYTHON:-$ROOT/.venv/bin/python}"
    local rdkit_v
    rdkit_v="$("$py" -c 'import importlib.metadata as m; print(m.version("rdkit"))')"
    grep -qx '/.gpu/' "$ROOT/.git/info/exclude" 2>/dev/null || echo '/.gpu/' >> "$ROOT/.git/info/exclude"
    rm -rf "$G" && mkdir -p "$G/wheels"
    # chemprop's imports beyond what the GPU image has (aimsim and its PaDEL/Mordred stack are optional
    # imports of astartes, left out); cuik_molmaker's wheel for 3.12 is tagged manylinux_2_24
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$G/wheels" \
        "rdkit==$rdkit_v" "cuik_molmaker_pin==$rdkit_v" chemprop==2.3.1 astartes==1.3.3 configargparse==1.9.0 \
        descriptastorus==2.8.0 myerson==1.0.1 pandas-flavor==0.8.1 multiprocess==0.70.19 dill==0.4.1
    # X11 client libraries that Chemprop's cuik_molmaker extension links against (a GPU image need not
    # have them), from Debian's packages, unpacked here; `run` puts them on LD_LIBRARY_PATH
    local debs
    debs="$(mktemp -d)"
    (cd "$debs" && apt-get download -q libxrender1 libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0)
    for f in "$debs"/*.deb; do dpkg-deb -x "$f" "$G/sysroot"; done
    rm -rf "$debs" "$G/sysroot/usr/share"
    (cd "$mirror" && tar -cJf "$G/data.tar.xz" $MOLECULES $KG)
    local lib="$ROOT/benchmarks/_work/brics_${N_LIB}_s0"
    if [ -f "$lib.smi" ] && [ -f "$lib.json" ]; then
        xz -T0 -c "$lib.smi" > "$G/brics_${N_LIB}_s0.smi.xz"
        cp "$lib.json" "$G/"
    else
        echo "note: $lib.smi not built here; the GPU machine will build it (python benchmarks/brics_library.py)" >&2
    fi
    git -C "$ROOT" rev-parse HEAD > "$G/COMMIT"
    if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then
        echo "warning: uncommitted changes; results will name $(cat "$G/COMMIT") but run the working tree" >&2
    fi
    du -sh "$G"
}

setup() {
    if [ ! -f /tmp/site/.done ]; then
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
            "$G"/wheels/*.whl || return 1
        touch /tmp/site/.done
    fi
    mkdir -p /tmp/mirror && tar -C /tmp/mirror -xJf "$G/data.tar.xz" || return 1
    mkdir -p "$ROOT/benchmarks/_work"
    if [ -f "$G/brics_${N_LIB}_s0.smi.xz" ] && [ ! -f "$ROOT/benchmarks/_work/brics_${N_LIB}_s0.json" ]; then
        xz -dc "$G/brics_${N_LIB}_s0.smi.xz" > "$ROOT/benchmarks/_work/brics_${N_LIB}_s0.smi"
        cp "$G/brics_${N_LIB}_s0.json" "$ROOT/benchmarks/_work/"
    fi
    if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; fi
    python3 - <<'EOF'
import importlib.metadata as md
import jax, torch
print("python3:", __import__("sys").version.split()[0], "| torch", torch.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-", "| jax", jax.__version__, jax.devices())
print({p: md.version(p) for p in ("rdkit", "chemprop", "torch_geometric", "lightning", "numpy")})
import discovery.molprop, discovery.screening, discovery.targets  # noqa: F401  (the package imports here)
import chemprop.featurizers  # noqa: F401  (loads cuik_molmaker's compiled extension)
EOF
}

molprop() {
    local w=/tmp/mvc_gpu
    python3 benchmarks/molprop_vs_chemprop.py --datasets esol,freesolv,bace,bbbp,lipo --seeds 0 --configs tuned \
        --side-by-side --threads 4 --skip-featurization --no-write --workdir "$w" ${GPU_CHECKS_QUICK:+--quick}
    local rc=$?
    cp "$w/results.json" "$OUT/molprop_gpu.json" 2>/dev/null
    return $rc
}

screening() {
    python3 benchmarks/similarity.py --n $N_LIB --queries 1000 --rdkit-queries 100 --workers "$(nproc)" \
        --peers rdkit || return 1
    cp benchmarks/results/screening_similarity_gpu.json "$OUT/" 2>/dev/null \
        || cp benchmarks/results/screening_similarity.json "$OUT/"  # no GPU: the dry run
    # our search alone at other block sizes than the GPU default (65,536; the CPU default is 4,096)
    local w=benchmarks/_work/similarity
    for rows in ${GPU_CHECKS_BLOCKS:-4096 16384 262144}; do
        env OMP_NUM_THREADS=1 DISCOVERY_CACHE="$w/cache" python3 benchmarks/similarity.py --child ours \
            "$w/index_${N_LIB}_s0" "$w/queries_1000_s0.npy" "$w/ours_rows$rows.json" "$rows" || return 1
    done
    python3 - "$w" > "$OUT/screening_gpu_blocks.json" <<'EOF'
import json, sys
from pathlib import Path
w = Path(sys.argv[1])
print(json.dumps({p.name: json.loads(p.read_text()) for p in sorted(w.glob("ours_rows*.json"))}, indent=1))
EOF
}

sweep() {
    # ablation sweep of our molprop training settings (benchmarks/molprop_sweep.py), all runs on the GPU
    python3 benchmarks/molprop_sweep.py --variants-file "${GPU_CHECKS_SWEEP:-benchmarks/sweeps/molprop_2026-12-01.txt}" \
        --workers "${GPU_CHECKS_WORKERS:-14}" --threads 1 --workdir /tmp/sweep --out "$OUT/sweep_runs.jsonl"
}

targets() {
    python3 benchmarks/targets.py --models rgcn hgt --splits random --seeds 0 --fresh || return 1
    cp benchmarks/_work/targets/runs.jsonl "$OUT/targets_gpu.jsonl"
}

case "${1:-}" in
    pack) pack ;;
    run)
        shift
        mkdir -p "$OUT"
        cd "$ROOT" || exit 1
        export PYTHONPATH="/tmp/site:$ROOT" PATH="/tmp/site/bin:$PATH" PYTHONUNBUFFERED=1 \
            LD_LIBRARY_PATH="$G/sysroot/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
            DISCOVERY_DATA_MIRROR=/tmp/mirror DISCOVERY_CACHE=/tmp/discovery_cache \
            DISCOVERY_GIT_COMMIT="$(cat "$G/COMMIT" 2>/dev/null)"
        declare -A LIMIT=([setup]=120 [molprop]=240 [screening]=200 [targets]=130 [sweep]=${GPU_CHECKS_SWEEP_LIMIT:-420})
        export -f setup molprop screening targets sweep
        export G OUT N_LIB ROOT GPU_CHECKS_QUICK GPU_CHECKS_BLOCKS GPU_CHECKS_SWEEP GPU_CHECKS_WORKERS
        status=0
        for part in "$@"; do
            [ -n "${LIMIT[$part]:-}" ] || { echo "unknown part $part (setup, molprop, screening, targets, sweep)"; exit 2; }
            echo "=== $part: start $(date -u +%T), limit ${LIMIT[$part]} s"
            timeout "${LIMIT[$part]}" bash -c "$part" > "$OUT/$part.log" 2>&1
            rc=$?
            echo "=== $part: rc $rc at $(date -u +%T)"
            tail -n 25 "$OUT/$part.log"
            [ $rc -eq 0 ] || status=1
            if [ "$part" = setup ] && [ $rc -ne 0 ]; then exit 1; fi
        done
        exit $status ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
esac
