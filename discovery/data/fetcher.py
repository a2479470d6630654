"""Fetch registered files: cache -> mirror -> download, every file sha256-checked.

Order for each file (:func:`fetch_file`):

1. **cache**: ``<Settings.cache_dir>/data/<relpath>``. Used when its sha256
   matches. A verified ``(size, mtime_ns, sha256)`` stamp is kept under
   ``<cache>/data/.stamps/`` so a file is hashed once, not on every call; a
   file whose size or mtime changed is hashed again. A cached file with the
   wrong hash is never used: it is deleted (with a warning) and fetched again.
2. **mirror**: ``<Settings.data_mirror>/<relpath>`` (``DISCOVERY_DATA_MIRROR``,
   a folder laid out like ``shared/data``). Copied into the cache while being
   hashed; a wrong hash raises :class:`~discovery.errors.DataIntegrityError`.
3. **download** from the file's canonical URL with :mod:`urllib` (skipped when
   ``DISCOVERY_OFFLINE=1``); a wrong hash raises
   :class:`~discovery.errors.DataIntegrityError`.

Copies and downloads go to a temporary name beside the cache file and are
renamed into place only when complete and verified
(:func:`discovery.fsutil.atomic_path`), so an interrupted fetch never leaves a
file that looks finished.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Literal
from urllib.parse import quote

from ..config import Settings, get_settings
from ..errors import DataIntegrityError, DiscoveryError
from ..fsutil import atomic_path, atomic_write_text, sha256_file
from .registry import DatasetInfo, FileInfo, get

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
#: ``progress(done_bytes, total_bytes_or_None)``, called while downloading.
ProgressCallback = Callable[[int, "int | None"], None]


class DataUnavailableError(DiscoveryError):
    """A registered file is in neither the cache nor the mirror and cannot be downloaded.

    The message lists every place that was tried and why each failed.
    """

    exit_code = 2


# --------------------------------------------------------------------------- paths


def cache_path(file: FileInfo, settings: Settings | None = None) -> Path:
    """Where ``file`` lives in the cache: ``<cache_dir>/data/<relpath>``."""
    settings = settings or get_settings()
    return settings.cache_dir / "data" / Path(*file.relpath.split("/"))


def mirror_path(file: FileInfo, settings: Settings | None = None) -> Path | None:
    """Where ``file`` would be in the mirror, or ``None`` when no mirror is configured."""
    settings = settings or get_settings()
    if settings.data_mirror is None:
        return None
    return settings.data_mirror / Path(*file.relpath.split("/"))


def _stamp_path(file: FileInfo, settings: Settings) -> Path:
    return settings.cache_dir / "data" / ".stamps" / Path(*(file.relpath + ".json").split("/"))


def _write_stamp(file: FileInfo, path: Path, settings: Settings) -> None:
    st = path.stat()
    stamp = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": file.sha256}
    try:
        atomic_write_text(_stamp_path(file, settings), json.dumps(stamp))
    except OSError as err:  # a read-only cache still works, it just re-hashes
        log.debug("could not write stamp for %s: %s", path, err)


def _stamp_matches(file: FileInfo, path: Path, settings: Settings) -> bool:
    try:
        stamp = json.loads(_stamp_path(file, settings).read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return (
        stamp.get("sha256") == file.sha256
        and stamp.get("size") == st.st_size
        and stamp.get("mtime_ns") == st.st_mtime_ns
    )


def _drop_stamp(file: FileInfo, settings: Settings) -> None:
    try:
        _stamp_path(file, settings).unlink()
    except FileNotFoundError:
        pass


# --------------------------------------------------------------------------- checks


def _integrity_error(file: FileInfo, where: Path | str, actual: str, size: int, origin: str) -> DataIntegrityError:
    return DataIntegrityError(
        f"sha256 mismatch for registered file {file.relpath} ({origin}): expected {file.sha256}, "
        f"got {actual} ({size} bytes, expected {file.bytes})",
        file=str(where),
        hint=f"the {origin} copy is corrupt or a different version; replace it with the file from "
        f"{file.url or file.repo + ' ' + file.commit + ' ' + file.source_path}",
    )


def _copy_hashing(src: BinaryIO, dest: Path, file: FileInfo, origin: str, where: str,
                  total: int | None = None, progress: ProgressCallback | None = None) -> None:
    """Stream ``src`` into ``dest`` atomically, checking size and sha256 before the rename."""
    h = hashlib.sha256()
    n = 0
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as out:
            for block in iter(lambda: src.read(_CHUNK), b""):
                h.update(block)
                out.write(block)
                n += len(block)
                if progress is not None:
                    progress(n, total)
        if total is not None and n != total:
            raise DataUnavailableError(
                f"transfer of {file.relpath} stopped after {n} of {total} bytes; nothing was written",
                file=where,
                hint="try again; check the network or the mirror",
            )
        actual = h.hexdigest()
        if actual != file.sha256:
            raise _integrity_error(file, where, actual, n, origin)


def _cached_ok(file: FileInfo, path: Path, settings: Settings) -> tuple[bool, str | None]:
    """Is the cached ``path`` the registered file? Returns (ok, actual sha256 if hashed)."""
    if _stamp_matches(file, path, settings):
        return True, None
    if path.stat().st_size != file.bytes:
        return False, sha256_file(path)
    actual = sha256_file(path)
    if actual == file.sha256:
        _write_stamp(file, path, settings)
        return True, actual
    return False, actual


# --------------------------------------------------------------------------- fetch


def _log_progress(relpath: str) -> ProgressCallback:
    state = {"next": 0.1}

    def report(done: int, total: int | None) -> None:
        if total and done / total >= state["next"]:
            log.info("downloading %s: %d%% of %.1f MB", relpath, 100 * done // total, total / 1e6)
            state["next"] += 0.1

    return report


def _download(file: FileInfo, url: str, dest: Path, progress: ProgressCallback | None) -> None:
    import http.client
    import urllib.error
    import urllib.request

    from .. import __version__

    log.info("downloading %s from %s", file.relpath, url)
    req = urllib.request.Request(url, headers={"User-Agent": f"discovery/{__version__}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            _copy_hashing(resp, dest, file, "downloaded", url, total=total,
                          progress=progress or _log_progress(file.relpath))
    except (DataIntegrityError, DataUnavailableError):
        raise
    except urllib.error.HTTPError as err:
        raise DataUnavailableError(
            f"download of {file.relpath} failed: HTTP {err.code} {err.reason}", file=url,
            hint="check the URL, or put the file in the mirror (DISCOVERY_DATA_MIRROR)",
        ) from err
    except (OSError, http.client.HTTPException) as err:
        raise DataUnavailableError(
            f"download of {file.relpath} failed: {err}; nothing was written", file=url,
            hint="check the network, or put the file in the mirror (DISCOVERY_DATA_MIRROR)",
        ) from err


def fetch_file(
    file: FileInfo,
    *,
    settings: Settings | None = None,
    url: str | None = None,
    offline: bool | None = None,
    progress: ProgressCallback | None = None,
) -> Path:
    """Return a local, sha256-verified copy of one registered file.

    Parameters
    ----------
    file : FileInfo
        The file (from :meth:`DatasetInfo.files <discovery.data.registry.DatasetInfo>`).
    settings : Settings, optional
        Default: :func:`discovery.config.get_settings` (read from the environment now).
    url : str, optional
        Download from this address instead of ``file.url`` (a local server, an
        internal mirror over HTTP). The content must still hash to ``file.sha256``.
    offline : bool, optional
        Never download; default ``settings.offline`` (``DISCOVERY_OFFLINE``).
    progress : callable, optional
        ``progress(done_bytes, total_bytes_or_None)`` during a download;
        default: log at INFO level every 10%.

    Returns
    -------
    Path
        The cache copy (``<cache_dir>/data/<relpath>``); the mirror file itself
        only when the cache cannot be written.

    Raises
    ------
    DataIntegrityError
        The mirror or downloaded copy does not hash to ``file.sha256``.
    DataUnavailableError
        The file is in neither cache nor mirror and downloading is off or failed.
    """
    settings = settings or get_settings()
    offline = settings.offline if offline is None else offline
    tried: list[str] = []

    # 1. cache
    cached = cache_path(file, settings)
    if cached.is_file():
        ok, actual = _cached_ok(file, cached, settings)
        if ok:
            return cached
        log.warning(
            "cached %s has sha256 %s, expected %s; deleting it and fetching it again",
            cached, actual, file.sha256,
        )
        cached.unlink()
        _drop_stamp(file, settings)
        tried.append(f"cache {cached} (corrupt, deleted)")
    else:
        tried.append(f"cache {cached} (missing)")

    # 2. mirror
    mirrored = mirror_path(file, settings)
    if mirrored is None:
        tried.append("mirror (DISCOVERY_DATA_MIRROR not set)")
    elif not mirrored.is_file():
        state = "missing" if settings.data_mirror and settings.data_mirror.is_dir() else "mirror folder does not exist"
        tried.append(f"mirror {mirrored} ({state})")
    else:
        try:
            with open(mirrored, "rb") as src:
                _copy_hashing(src, cached, file, "mirror", str(mirrored))
        except DataIntegrityError:
            raise
        except OSError as err:
            # the cache cannot be written (read-only, disk full) or the mirror cannot be read:
            # use the mirror file in place when it can be read and verified
            try:
                actual = sha256_file(mirrored)
            except OSError:
                tried.append(f"mirror {mirrored} (unreadable: {err})")
            else:
                if actual != file.sha256:
                    raise _integrity_error(file, mirrored, actual, mirrored.stat().st_size, "mirror") from err
                log.warning("could not copy %s into the cache (%s); using the mirror file in place", mirrored, err)
                return mirrored
        else:
            _write_stamp(file, cached, settings)
            log.debug("copied %s from mirror %s", file.relpath, mirrored)
            return cached

    # 3. download
    address = url or file.url
    if offline:
        tried.append(f"download {address or '(no URL)'} (skipped: offline, DISCOVERY_OFFLINE=1)")
    elif address is None:
        tried.append(
            f"download (no direct URL: the file is {file.source_path} inside {file.repo} {file.commit})"
        )
    else:
        _download(file, address, cached, progress)
        _write_stamp(file, cached, settings)
        return cached

    raise DataUnavailableError(
        f"registered file {file.relpath} is not available; looked in: " + "; ".join(tried),
        hint="set DISCOVERY_DATA_MIRROR to a folder laid out like shared/data"
        + (", or unset DISCOVERY_OFFLINE to download it" if offline and address else ""),
    )


def fetch(
    name: str | DatasetInfo,
    *,
    base_url: str | None = None,
    settings: Settings | None = None,
    offline: bool | None = None,
    progress: ProgressCallback | None = None,
) -> list[Path]:
    """Return local, sha256-verified copies of every file of a registered dataset.

    Parameters
    ----------
    name : str or DatasetInfo
        Dataset name or alias (any case), or its record.
    base_url : str, optional
        Download from ``<base_url>/<relpath>`` instead of the canonical URLs.
    settings, offline, progress
        As in :func:`fetch_file`.

    Returns
    -------
    list of Path
        One path per file, in :attr:`DatasetInfo.files` order.
    """
    info = name if isinstance(name, DatasetInfo) else get(name)
    paths = []
    for f in info.files:
        url = None if base_url is None else base_url.rstrip("/") + "/" + quote(f.relpath, safe="/")
        paths.append(fetch_file(f, settings=settings, url=url, offline=offline, progress=progress))
    return paths


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class FileStatus:
    """Result of re-hashing one copy of a registered file.

    Attributes
    ----------
    dataset : str
        Canonical dataset name.
    relpath : str
        The file's registry path.
    location : {"cache", "mirror"} or None
        Which copy was checked; ``None`` when no copy exists anywhere.
    path : Path or None
        The copy checked.
    status : {"ok", "missing", "mismatch"}
    expected_sha256 : str
    actual_sha256 : str or None
        ``None`` when missing.
    """

    dataset: str
    relpath: str
    location: Literal["cache", "mirror"] | None
    path: Path | None
    status: Literal["ok", "missing", "mismatch"]
    expected_sha256: str
    actual_sha256: str | None


def verify(name: str | None = None, *, settings: Settings | None = None) -> list[FileStatus]:
    """Re-hash the cached and mirrored copies of registered files (stamps are ignored).

    Parameters
    ----------
    name : str, optional
        One dataset (name or alias); default every registered dataset.
    settings : Settings, optional
        Default: read from the environment.

    Returns
    -------
    list of FileStatus
        One entry per existing copy (cache, then mirror), or one ``"missing"``
        entry for a file with no copy at all. Nothing is deleted or fetched;
        a cache copy found to mismatch loses its stamp, so the next
        :func:`fetch_file` replaces it.
    """
    from .registry import REGISTRY

    settings = settings or get_settings()
    infos = [get(name)] if name is not None else list(REGISTRY)
    out: list[FileStatus] = []
    for info in infos:
        for f in info.files:
            found = False
            for location, path in (("cache", cache_path(f, settings)), ("mirror", mirror_path(f, settings))):
                if path is None or not path.is_file():
                    continue
                found = True
                actual = sha256_file(path)
                ok = actual == f.sha256
                if location == "cache" and ok:
                    _write_stamp(f, path, settings)
                elif location == "cache":
                    _drop_stamp(f, settings)
                out.append(FileStatus(info.name, f.relpath, location, path, "ok" if ok else "mismatch",
                                      f.sha256, actual))
            if not found:
                out.append(FileStatus(info.name, f.relpath, None, None, "missing", f.sha256, None))
    return out
