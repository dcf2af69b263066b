"""Data access: one TileDB context per container, data releases, cached tables.

Public surface: :func:`get_store`, :class:`DataStore` and the errors; ingestion writes
with :mod:`omicsgate.storage.writer`, which serving never imports. Everything heavy
(tiledb, numpy) is imported lazily inside the methods.
"""

from omicsgate.storage._errors import (
    DamagedFile,
    InvalidRelease,
    ReleaseExists,
    ReleaseNotFound,
    RestrictedRelease,
    StoreUnavailable,
)
from omicsgate.storage._store import DataStore, get_store, reset_store
from omicsgate.storage._tables import consecutive_runs

__all__ = [
    "DamagedFile",
    "DataStore",
    "InvalidRelease",
    "ReleaseExists",
    "ReleaseNotFound",
    "RestrictedRelease",
    "StoreUnavailable",
    "consecutive_runs",
    "get_store",
    "reset_store",
]
