"""Dataset registry: pinned public datasets, fetched and sha256-checked.

Every registered dataset records its files (canonical URL, sha256, size,
license), citation, task, SMILES and target columns, and known quirks. Files
come from the cache, then the mirror (``DISCOVERY_DATA_MIRROR``), then a
download; a file whose hash differs is never handed out.

Examples
--------
>>> from discovery import data
>>> data.names()[:3]
['bace', 'bbbp', 'clintox']
>>> df = data.load("ESOL")            # doctest: +SKIP
>>> path, info = data.resolve("delaney")  # doctest: +SKIP
>>> info.smiles_column, info.target_columns  # doctest: +SKIP
('smiles', ('logp',))
>>> data.citations("esol")[0]
'Delaney, J. S. ESOL: Estimating Aqueous Solubility Directly from Molecular Structure. J. Chem. Inf. Comput. Sci. 2004, 44, 1000-1005. doi:10.1021/ci034243x'

pandas is imported only inside :func:`load`.
"""

from __future__ import annotations

from .fetcher import (
    DataUnavailableError,
    FileStatus,
    cache_path,
    fetch,
    fetch_file,
    mirror_path,
    verify,
)
from .loaders import load, resolve
from .registry import (
    REGISTRY,
    Citation,
    DatasetInfo,
    FileInfo,
    Registry,
    citations,
    datasets,
    get,
    names,
)

__all__ = [
    "REGISTRY",
    "Citation",
    "DataUnavailableError",
    "DatasetInfo",
    "FileInfo",
    "FileStatus",
    "Registry",
    "cache_path",
    "citations",
    "datasets",
    "fetch",
    "fetch_file",
    "get",
    "load",
    "mirror_path",
    "names",
    "resolve",
    "verify",
]
