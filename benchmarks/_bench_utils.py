"""Shared helpers for the side-by-side benchmarks in ``benchmarks/``.

Everything here is tool-agnostic: running a command in its own subprocess
while measuring wall time and peak memory, the accuracy metrics (one
definition used for every tool), mean/sd summaries, machine and version
information, and replacing a marked section of ``RESULTS.md`` so reruns
update it in place.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import math
import os
import platform
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- #
# running a command with wall time and peak RSS
# --------------------------------------------------------------------------- #
@dataclass
class Measured:
    """Outcome of one measured subprocess.

    Attributes
    ----------
    returncode : int
        Exit code (negative: killed by that signal).
    wall_s : float
        Wall-clock seconds from start to reaping the process.
    peak_rss_mb : float
        Peak resident memory in MB (2**20 bytes): the larger of the kernel's
        resident high-water mark (``VmHWM``) of each process of the tree and
        the largest sum of RSS over the whole tree, both sampled every
        ``sample_s`` seconds. ``wait4``'s ``ru_maxrss`` is kept apart
        (``maxrss_mb``): it inherits the forking parent's high-water mark.
    maxrss_mb : float
        The kernel's max RSS alone (largest single process).
    tree_rss_mb : float
        The sampled process-tree peak alone (0 if ``psutil`` is unavailable).
    cpu_s : float
        User + system CPU seconds of the process and its reaped descendants
        (less sensitive than wall time to other load on a shared machine).
    timed_out : bool
        True if the process was killed because it ran past ``timeout_s``.
    log : Path
        File holding the process's stdout and stderr.
    """

    returncode: int
    wall_s: float
    peak_rss_mb: float
    maxrss_mb: float
    tree_rss_mb: float
    cpu_s: float
    timed_out: bool
    log: Path
    command: list[str] = field(default_factory=list)

    def log_tail(self, n_chars: int = 2000) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return text[-n_chars:]


def _hwm_bytes(pid: int) -> int:
    """Kernel high-water mark of resident memory (``VmHWM``) of the process's current image."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree_rss_bytes(proc: "object") -> int:
    import psutil

    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def run_measured(
    cmd: Sequence[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float | None = None,
    sample_s: float = 0.1,
) -> Measured:
    """Run ``cmd`` in its own process; measure wall time and peak RSS.

    Parameters
    ----------
    cmd : sequence of str
        The command line (no shell).
    log : Path
        stdout and stderr of the process are written here.
    env : mapping, optional
        Full environment of the child (default: this process's).
    cwd : Path, optional
        Working directory of the child.
    timeout_s : float, optional
        Kill the process group after this many seconds.
    sample_s : float
        Interval of the process-tree RSS sampler.

    Returns
    -------
    Measured
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency of discovery
        psutil = None

    with open(log, "wb") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), stdout=fh, stderr=subprocess.STDOUT, env=dict(env) if env else None,
            cwd=str(cwd) if cwd else None, start_new_session=True,
        )
        stop = threading.Event()
        tree_peak = [0]
        hwm_peak = [0]
        timed_out = [False]

        def sampler() -> None:
            ps = None
            if psutil is not None:
                try:
                    ps = psutil.Process(proc.pid)
                except psutil.Error:
                    ps = None
            while not stop.is_set():
                if ps is not None:
                    tree_peak[0] = max(tree_peak[0], _tree_rss_bytes(ps))
                    try:
                        members = [ps] + ps.children(recursive=True)
                    except psutil.Error:
                        members = [ps]
                    for m in members:
                        hwm_peak[0] = max(hwm_peak[0], _hwm_bytes(m.pid))
                if timeout_s is not None and time.perf_counter() - t0 > timeout_s and not timed_out[0]:
                    timed_out[0] = True
                    try:
                        os.killpg(proc.pid, 9)
                    except OSError:
                        pass
                stop.wait(sample_s)

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        try:
            _, status, rusage = os.wait4(proc.pid, 0)
        except BaseException:
            try:
                os.killpg(proc.pid, 9)
            except OSError:
                pass
            proc.wait()
            stop.set()
            raise
        wall = time.perf_counter() - t0
        stop.set()
        thread.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in kilobytes on Linux
    maxrss_mb = rusage.ru_maxrss / 1024.0
    tree_mb = tree_peak[0] / 2**20
    hwm_mb = hwm_peak[0] / 2**20
    # wait4's ru_maxrss is NOT used for the peak: Linux carries the parent's
    # resident high-water mark into a forked child until exec, so a large
    # harness process inflates every child's ru_maxrss (seen here: a constant
    # 1066 MB). VmHWM of the exec'd image, sampled until exit, is not inflated.
    peak = max(tree_mb, hwm_mb) if (tree_mb or hwm_mb) else maxrss_mb
    return Measured(
        returncode=proc.returncode, wall_s=wall, peak_rss_mb=peak,
        maxrss_mb=maxrss_mb, tree_rss_mb=tree_mb, cpu_s=rusage.ru_utime + rusage.ru_stime,
        timed_out=timed_out[0], log=log, command=list(cmd),
    )


# --------------------------------------------------------------------------- #
# metrics: one definition for every tool
# --------------------------------------------------------------------------- #
def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root-mean-square error.

    Parameters
    ----------
    y_true, y_pred : ndarray, shape (n,)
        Finite targets and predictions, same units.
    """
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or len(y_true) == 0:
        raise ValueError(f"rmse needs two equal 1-D arrays, got {y_true.shape} and {y_pred.shape}")
    if not (np.isfinite(y_true).all() and np.isfinite(y_pred).all()):
        raise ValueError("rmse: non-finite target or prediction")
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Area under the ROC curve (``sklearn.metrics.roc_auc_score``).

    Parameters
    ----------
    y_true : ndarray, shape (n,)
        Binary labels (0/1).
    y_score : ndarray, shape (n,)
        Scores or probabilities of class 1.
    """
    from sklearn.metrics import roc_auc_score

    y_true = np.asarray(y_true, dtype=float)
    y_score = np.asarray(y_score, dtype=float)
    if y_true.shape != y_score.shape or y_true.ndim != 1:
        raise ValueError(f"roc_auc needs two equal 1-D arrays, got {y_true.shape} and {y_score.shape}")
    if not np.isfinite(y_score).all():
        raise ValueError("roc_auc: non-finite score")
    return float(roc_auc_score(y_true.astype(int), y_score))


METRICS = {"rmse": rmse, "roc_auc": roc_auc}
HIGHER_IS_BETTER = {"rmse": False, "roc_auc": True}


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0 for a single value)."""
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return float("nan"), float("nan")
    m = float(np.mean(vals))
    sd = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
    return m, sd


def fmt_mean_sd(values: Sequence[float], digits: int = 3) -> str:
    m, sd = mean_sd(values)
    if not math.isfinite(m):
        return "n/a"
    return f"{m:.{digits}f} ± {sd:.{digits}f}"


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)) or b == 0:
        return None
    return a / b


def fmt_ratio(r: float | None, digits: int = 2) -> str:
    return "n/a" if r is None else f"{r:.{digits}f}x"


# --------------------------------------------------------------------------- #
# machine, versions
# --------------------------------------------------------------------------- #
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, object]:
    """CPU model, logical cores, RAM (GiB), OS, and GPU if torch sees one."""
    info: dict[str, object] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    try:
        import psutil

        info["ram_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover
        info["ram_gib"] = None
    try:
        import torch

        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # pragma: no cover - torch missing or broken CUDA
        info["gpu"] = None
    return info


def versions(packages: Sequence[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(root: Path = REPO_ROOT) -> str | None:
    """HEAD commit of ``root`` with ``+dirty`` when tracked files are modified.

    ``$DISCOVERY_GIT_COMMIT``, when set, is returned instead: a copy of the tree
    shipped elsewhere (``benchmarks/gpu_checks.sh`` to a GPU machine) may carry no
    ``.git`` or a stale one, so whoever made the copy names its commit.
    """
    named = os.environ.get("DISCOVERY_GIT_COMMIT")
    if named:
        return named
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10,
        )
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def load_average() -> tuple[float, float, float] | None:
    """1, 5 and 15-minute load averages (None where the OS has none)."""
    try:
        return tuple(round(x, 2) for x in os.getloadavg())  # type: ignore[return-value]
    except (AttributeError, OSError):
        return None


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


# --------------------------------------------------------------------------- #
# RESULTS.md section replacement
# --------------------------------------------------------------------------- #
def replace_section(text: str, name: str, body: str) -> str:
    """Replace (or append) the block between ``<!-- name:begin -->`` and ``<!-- name:end -->``.

    Parameters
    ----------
    text : str
        Current file content.
    name : str
        Section name used in the markers.
    body : str
        New content between the markers (markers are added here).
    """
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _m: block, text, count=1)
    sep = "" if text.endswith("\n\n") or not text else ("\n" if text.endswith("\n") else "\n\n")
    return f"{text}{sep}{block}\n"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(str(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)
