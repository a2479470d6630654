"""Browser tests: Debian's headless Chromium driven over the DevTools Protocol.

The session fixture ``chromium`` installs Chromium, poppler-utils and a font
with ``scripts/install-chromium.sh`` when they are missing (CI runs as root
on a fresh Debian machine); the tests are skipped only when apt itself is
unavailable.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO_ROOT / "tests" / "unit" / "reports"))

from cdp import find_chromium  # noqa: E402
from reports_fixture import make_baseline, make_molprop_run  # noqa: E402


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of headless Chromium; installed with scripts/install-chromium.sh when missing."""
    exe = find_chromium()
    if exe is None or shutil.which("pdftoppm") is None:
        if shutil.which("apt-get") is None:
            pytest.skip("chromium/pdftoppm missing and apt-get is unavailable to install them")
        script = REPO_ROOT / "scripts" / "install-chromium.sh"
        proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900)
        if proc.returncode == 3:
            pytest.skip(f"cannot install chromium: {proc.stderr.strip()}")
        assert proc.returncode == 0, f"install-chromium.sh failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        exe = find_chromium()
    assert exe is not None, "chromium still not found after install-chromium.sh"
    assert shutil.which("pdftoppm"), "pdftoppm still not found after install-chromium.sh"
    return exe


@pytest.fixture(scope="session")
def fixture_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(runs folder with ESOL × 3 seeds and BBBP × 1, baseline JSON)."""
    root = tmp_path_factory.mktemp("browser-runs")
    for seed in range(3):
        make_molprop_run(root / f"esol-s{seed}", dataset="ESOL", seed=seed)
    make_molprop_run(root / "bbbp-s0", dataset="BBBP", seed=0, n=300)
    return root, make_baseline(root.parent / "molprop_vs_chemprop.json")
