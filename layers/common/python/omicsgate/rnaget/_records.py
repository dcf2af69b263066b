"""Committed records of hosted RNAget matrices (expressions, continuous): one ``<id>.json``
per object in a directory, written last by ingestion (the commit point), listed again at
most once per release TTL, as releases are."""

from __future__ import annotations

import threading
import time
from typing import Any

from omicsgate.storage import DataStore
from omicsgate.storage._layout import base_name, join
from omicsgate.storage._store import unavailable_on_tiledb_error

Obj = dict[str, Any]

_cache: dict[str, tuple[list[Obj], float]] = {}
_lock = threading.Lock()


def committed(store: DataStore, directory: str) -> list[Obj]:
    """The records in ``directory`` whose ``id`` matches their file name, by ID."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(directory)
        if cached and now - cached[1] < store.settings.release_ttl_seconds:
            return cached[0]
    vfs = store.vfs()
    with unavailable_on_tiledb_error(f"listing {directory}"):
        names = [base_name(u) for u in vfs.ls(directory)] if vfs.is_dir(directory) else []
    found = []
    for name in sorted(n for n in names if n.endswith(".json")):
        record = store.read_json(join(directory, name))
        if isinstance(record, dict) and record.get("id") == name.removesuffix(".json"):
            found.append(record)
    with _lock:
        _cache[directory] = (found, now)
    return found


def forget() -> None:
    """Drop every cached listing (after an ingestion in the same process)."""
    with _lock:
        _cache.clear()
