"""Writing a release: all or nothing, made current only when complete.

Each ingestion writes into an attempt directory of its own and commits by creating the
release's manifest only if no manifest exists yet: one atomic step (a hard link locally, a
conditional PutObject on S3). Of two concurrent writers of one release ID exactly one wins;
the other gets :class:`ReleaseExists` and removes its attempt. A writer keeps a lease file
fresh in its attempt so that ``prune`` can tell a live attempt from a dead one.
"""

from __future__ import annotations

import calendar
import gzip
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from omicsgate.storage import _layout, _manifest, _tables
from omicsgate.storage._errors import ReleaseExists, RestrictedRelease, StorageError
from omicsgate.storage._store import DataStore

LEASE_REFRESH_SECONDS = 30.0
# An attempt whose lease is older than this is dead: its writer would have refreshed it.
DEFAULT_PRUNE_GRACE_SECONDS = 600.0
MIN_PRUNE_GRACE_SECONDS = 2 * LEASE_REFRESH_SECONDS


class ReleaseWriter:
    """Use as a context manager; call :meth:`commit` at the end of the block.

    Nothing is visible to readers until the manifest exists, and the manifest is written
    only after every array is consolidated. An exception removes the attempt; a kill leaves
    it for ``omicsgate releases prune``.
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
        self.attempt = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:12]}"
        self.uri = _layout.join(_layout.attempts_uri(store.root, release_id), self.attempt)
        self.tables: dict[str, dict[str, Any]] = {}
        self.packed: dict[str, dict[str, list[Any]]] = {}
        self.committed = False
        self._lease = _Lease(store, _layout.join(self.uri, _layout.LEASE_FILE), self.attempt)

    def __enter__(self) -> ReleaseWriter:
        self._refuse_if_committed()
        self.store.vfs().create_dir(self.uri)
        self._lease.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lease.stop()
        if not self.committed:
            _remove_dir(self.store, self.uri)

    def _refuse_if_committed(self) -> None:
        if self.store.vfs().is_file(_layout.manifest_uri(self.store.root, self.release_id)):
            raise ReleaseExists(f"release {self.release_id!r} already exists")

    def table_uri(self, name: str) -> str:
        return _layout.join(self.uri, name)

    def write_table(
        self,
        name: str,
        dims: Sequence[str],
        columns: dict[str, np.ndarray],
        packed: bool = False,
    ) -> None:
        """A whole table. ``packed``: small and always read whole, so it also goes into the
        release's pack, one object a cold reader fetches instead of opening each array."""
        _tables.write_table(self.table_uri(name), dims, columns, self.store.ctx)
        rows = len(next(iter(columns.values())))
        self.tables[name] = {"dims": list(dims), "rows": rows}
        if packed:
            self.packed[name] = {column: values.tolist() for column, values in columns.items()}

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
        manifest = self._manifest()
        if self.packed:
            pack = {"tables": self.packed}
            _write_file(self.store, self.table_uri(_layout.PACK_FILE), _gzip_json(pack))
        uri = _layout.manifest_uri(self.store.root, self.release_id)
        if not create_exclusively(self.store, uri, _json(manifest)):
            raise ReleaseExists(
                f"release {self.release_id!r} was committed by another ingestion while this "
                "one ran; this attempt was discarded"
            )
        self.committed = True
        self._lease.stop()
        _remove_file(self.store, self._lease.uri)
        if make_current:
            publish(self.store, self.release_id)

    def _manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = {
            "format": _manifest.FORMAT,
            "release": self.release_id,
            "description": self.description,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "data": f"{_layout.ATTEMPTS_DIR}/{self.attempt}",
            "tables": self.tables,
            # Empty groups: public. Otherwise only members of one of the groups see it.
            "access": {"groups": sorted(self.groups)},
        }
        if self.packed:
            manifest["packed"] = {"file": _layout.PACK_FILE, "tables": sorted(self.packed)}
        return manifest


class _Lease:
    """A file the writer rewrites every LEASE_REFRESH_SECONDS while it works."""

    def __init__(self, store: DataStore, uri: str, attempt: str) -> None:
        self.store, self.uri, self.attempt = store, uri, attempt
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.refresh()
        self._thread = threading.Thread(target=self._run, name="lease", daemon=True)
        self._thread.start()

    def refresh(self) -> None:
        lease = {
            "attempt": self.attempt,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "heartbeat": time.time(),
        }
        _write_file(self.store, self.uri, _json(lease))

    def _run(self) -> None:
        while not self._stopped.wait(LEASE_REFRESH_SECONDS):
            self.refresh()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()


# Files ---------------------------------------------------------------------------------


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, indent=2).encode()


def _gzip_json(document: dict[str, Any]) -> bytes:
    return gzip.compress(json.dumps(document, separators=(",", ":")).encode(), mtime=0)


def _write_file(store: DataStore, uri: str, data: bytes) -> None:
    with store.vfs().open(uri, "wb") as handle:
        handle.write(data)


def _remove_file(store: DataStore, uri: str) -> None:
    vfs = store.vfs()
    if vfs.is_file(uri):
        vfs.remove_file(uri)


def _remove_dir(store: DataStore, uri: str) -> None:
    vfs = store.vfs()
    if vfs.is_dir(uri):
        vfs.remove_dir(uri)


def write_json_atomically(store: DataStore, uri: str, document: dict[str, Any]) -> None:
    """Write next to the target, then move: readers see the old or the new file, whole."""
    vfs = store.vfs()
    temporary = f"{uri}.tmp-{uuid.uuid4().hex}"
    _write_file(store, temporary, _json(document))
    vfs.move_file(temporary, uri)


def create_exclusively(store: DataStore, uri: str, data: bytes) -> bool:
    """Create ``uri`` holding ``data`` unless it exists, in one atomic step; False if it
    existed (another writer won)."""
    if uri.startswith("s3://"):
        return _put_if_absent(store, uri, data)
    path = uri.removeprefix("file://")
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)  # fails if the target exists, and never shows half a file
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)
    return True


def _put_if_absent(store: DataStore, uri: str, data: bytes) -> bool:
    """S3 conditional write (``If-None-Match: *``): 412 when the key exists; 409 while a
    concurrent conditional write of the key is in flight, so ask again."""
    import boto3
    from botocore.exceptions import ClientError

    bucket, key = uri.removeprefix("s3://").split("/", 1)
    settings = store.settings
    client = boto3.client(
        "s3", endpoint_url=settings.s3_endpoint or None, region_name=settings.region
    )
    for attempt in range(5):
        try:
            client.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
            return True
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 412:
                return False
            if status != 409:
                raise
            time.sleep(0.2 * (attempt + 1))
    return False


def publish(store: DataStore, release_id: str) -> None:
    """Point the store at a complete, public release (what anonymous callers see). The
    pointer carries the manifest, so a cold reader needs no second file."""
    store.resolve(release_id)  # refuses an incomplete or unknown release
    manifest = store.manifest(release_id)
    if manifest.get("access", {}).get("groups"):
        raise RestrictedRelease(f"release {release_id!r} is restricted: it cannot be current")
    pointer = {"release": release_id, "manifest": manifest}
    write_json_atomically(store, _layout.pointer_uri(store.root), pointer)


# Pruning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Orphan:
    """What a failed or killed ingestion left behind."""

    uri: str
    reason: str


def find_orphans(
    store: DataStore, grace_seconds: float = DEFAULT_PRUNE_GRACE_SECONDS
) -> list[Orphan]:
    """Attempts no manifest names whose lease is older than ``grace_seconds`` (their writer
    is gone), and arrays of format-1 releases that were never committed. A live writer's
    attempt is never listed."""
    if grace_seconds < MIN_PRUNE_GRACE_SECONDS:
        raise ValueError(
            f"a grace of {grace_seconds:g} s is shorter than {MIN_PRUNE_GRACE_SECONDS:g} s "
            "(two lease refreshes): live writers would look dead"
        )
    orphans: list[Orphan] = []
    now = time.time()
    for release_id in store.release_dirs():
        committed = _committed_data(store, release_id)
        release = _layout.release_uri(store.root, release_id)
        if committed is None:
            orphans += _legacy_leftovers(store, release)
        attempts = _layout.attempts_uri(store.root, release_id)
        for uri in _children(store, attempts):
            name = _layout.base_name(uri)
            if committed == f"{_layout.ATTEMPTS_DIR}/{name}":
                continue
            age = now - _last_heartbeat(store, uri, name)
            if age > grace_seconds:
                orphans.append(Orphan(uri, f"uncommitted attempt, writer silent for {age:.0f} s"))
    return orphans


def prune(store: DataStore, orphans: list[Orphan]) -> None:
    for orphan in orphans:
        _remove_dir(store, orphan.uri)
        _remove_file(store, orphan.uri)


def _committed_data(store: DataStore, release_id: str) -> str | None:
    """The attempt the release's manifest names ("" for format 1), or None if uncommitted."""
    if not store.vfs().is_file(_layout.manifest_uri(store.root, release_id)):
        return None
    return str(store.manifest(release_id).get("data", ""))


def _legacy_leftovers(store: DataStore, release: str) -> list[Orphan]:
    return [
        Orphan(uri, "left by an interrupted ingestion (format 1)")
        for uri in _children(store, release)
        if _layout.base_name(uri) != _layout.ATTEMPTS_DIR
    ]


def _children(store: DataStore, uri: str) -> list[str]:
    vfs = store.vfs()
    return [child.rstrip("/") for child in vfs.ls(uri)] if vfs.is_dir(uri) else []


def _last_heartbeat(store: DataStore, attempt_uri: str, name: str) -> float:
    """The lease's heartbeat; without a readable lease, the time in the attempt's name."""
    try:
        lease: Any = store.read_json(_layout.join(attempt_uri, _layout.LEASE_FILE))
        return float(lease["heartbeat"])
    except (StorageError, TypeError, KeyError, ValueError):
        pass
    try:
        return float(calendar.timegm(time.strptime(name.split("-", 1)[0], "%Y%m%dT%H%M%SZ")))
    except ValueError:
        return 0.0  # not an attempt this code made
