"""Data access: one TileDB context per container, data releases, cached tables.

Public surface: :func:`get_store`, :class:`DataStore`, :class:`ReleaseWriter` and the
errors. Everything heavy (tiledb, numpy) is imported lazily inside the methods.
"""

from omicsgate.storage._errors import (
    InvalidRelease,
    ReleaseExists,
    ReleaseNotFound,
    StoreUnavailable,
)
from omicsgate.storage._store import DataStore, get_store, reset_store
from omicsgate.storage._writer import ReleaseWriter, publish

__all__ = [
    "DataStore",
    "InvalidRelease",
    "ReleaseExists",
    "ReleaseNotFound",
    "ReleaseWriter",
    "StoreUnavailable",
    "get_store",
    "publish",
    "reset_store",
]
