"""Settings read from the environment.

=========================  ==============================================
variable                   meaning
=========================  ==============================================
``DISCOVERY_CACHE``        cache root (default ``~/.cache/discovery``)
``DISCOVERY_DATA_MIRROR``  folder laid out like ``shared/data`` to fetch
                           registered files from before downloading
``DISCOVERY_OFFLINE``      ``1``: never download, use cache/mirror only
``DISCOVERY_DEVICE``       ``auto`` (default), ``cpu``, ``cuda``, ``mps``
``DISCOVERY_JAX_CACHE``    ``0``: no persistent XLA compilation cache
                           (default: on, under ``$DISCOVERY_CACHE/jax``;
                           :mod:`discovery.screening.runtime`)
=========================  ==============================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    cache_dir: Path
    data_mirror: Path | None
    offline: bool
    device: str

    @classmethod
    def from_env(cls) -> "Settings":
        cache = os.environ.get("DISCOVERY_CACHE") or str(Path.home() / ".cache" / "discovery")
        mirror = os.environ.get("DISCOVERY_DATA_MIRROR") or None
        return cls(
            cache_dir=Path(cache).expanduser(),
            data_mirror=Path(mirror).expanduser() if mirror else None,
            offline=os.environ.get("DISCOVERY_OFFLINE", "0") not in ("", "0", "false", "no"),
            device=os.environ.get("DISCOVERY_DEVICE", "auto"),
        )


def get_settings() -> Settings:
    """Current settings (re-read from the environment on every call)."""
    return Settings.from_env()
