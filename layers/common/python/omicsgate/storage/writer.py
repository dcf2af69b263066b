"""Writing a release: all or nothing, made current only when complete."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from omicsgate.storage import _layout, _tables
from omicsgate.storage._errors import ReleaseExists, RestrictedRelease
from omicsgate.storage._store import DataStore


class ReleaseWriter:
    """Use as a context manager; call :meth:`commit` at the end of the block.

    The release directory is invisible to readers until its manifest exists, and the
    manifest is written only after every array is consolidated. An exception (or a kill)
    before that leaves a directory without a manifest, which readers ignore and the next
    ingestion of the same ID replaces.
    """

    def __init__(
        self,
        store: DataStore,
        release_id: str,
        description: str = "",
        groups: frozenset[str] = frozenset(),
    ) -> None:
        self.store = store
        self.groups = groups
        self.release_id = _layout.check_release_id(release_id)
        self.description = description
        self.uri = _layout.release_uri(store.root, release_id)
        self.tables: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> ReleaseWriter:
        vfs = self.store.vfs()
        if vfs.is_file(_layout.manifest_uri(self.store.root, self.release_id)):
            raise ReleaseExists(f"release {self.release_id!r} already exists")
        if vfs.is_dir(self.uri):
            vfs.remove_dir(self.uri)  # leftovers of an interrupted run
        vfs.create_dir(self.uri)
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Nothing to undo: an uncommitted release has no manifest, so it does not exist."""

    def table_uri(self, name: str) -> str:
        return _layout.join(self.uri, name)

    def write_table(self, name: str, dims: Sequence[str], columns: dict[str, np.ndarray]) -> None:
        _tables.write_table(self.table_uri(name), dims, columns, self.store.ctx)
        rows = len(next(iter(columns.values())))
        self.tables[name] = {"dims": list(dims), "rows": rows}

    def create_table(self, name: str, dims: Sequence[str], sample: dict[str, np.ndarray]) -> None:
        _tables.create_table(self.table_uri(name), dims, sample, self.store.ctx)
        self.tables[name] = {"dims": list(dims), "rows": 0}

    def append_rows(self, name: str, columns: dict[str, np.ndarray]) -> None:
        _tables.append_rows(
            self.table_uri(name), self.tables[name]["dims"], columns, self.store.ctx
        )
        self.tables[name]["rows"] += len(next(iter(columns.values())))

    def commit(self, make_current: bool = True) -> None:
        for name in self.tables:
            _tables.consolidate(self.table_uri(name), self.store.ctx)
        manifest = {
            "format": 1,
            "release": self.release_id,
            "description": self.description,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "tables": self.tables,
            # Empty groups: public. Otherwise only members of one of the groups see it.
            "access": {"groups": sorted(self.groups)},
        }
        write_json_atomically(
            self.store, _layout.manifest_uri(self.store.root, self.release_id), manifest
        )
        if make_current:
            publish(self.store, self.release_id)


def write_json_atomically(store: DataStore, uri: str, document: dict[str, Any]) -> None:
    """Write next to the target, then move: readers see the old or the new file, whole."""
    vfs = store.vfs()
    temporary = f"{uri}.tmp-{time.time_ns()}"
    with vfs.open(temporary, "wb") as handle:
        handle.write(json.dumps(document, indent=2).encode())
    vfs.move_file(temporary, uri)


def publish(store: DataStore, release_id: str) -> None:
    """Point the store at a complete, public release (what anonymous callers see)."""
    store.resolve(release_id)  # refuses an incomplete or unknown release
    if store.manifest(release_id).get("access", {}).get("groups"):
        raise RestrictedRelease(f"release {release_id!r} is restricted: it cannot be current")
    write_json_atomically(store, _layout.pointer_uri(store.root), {"release": release_id})
