"""Writing a release: all or nothing, made current only when complete.

Each ingestion writes into an attempt directory of its own and commits by creating the
release's manifest only if no manifest exists yet: one atomic step (a hard link locally, a
conditional PutObject on S3). Of two concurrent writers of one release ID exactly one wins;
the other gets :class:`ReleaseExists` and removes its attempt. A writer keeps a lease file
fresh in its attempt so that ``prune`` can tell a live attempt from a dead one.
"""

from __future__ import annotations

import calendar
import contextlib
import gzip
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import tiledb

from omicsgate.storage import _layout, _manifest, _tables
from omicsgate.storage._errors import (
    DamagedFile,
    ReleaseExists,
    ReleaseNotFound,
    RestrictedRelease,
    StorageError,
)
from omicsgate.storage._store import DataStore

LEASE_REFRESH_SECONDS = 30.0
# An attempt whose lease is older than this is dead: its writer would have refreshed it.
DEFAULT_PRUNE_GRACE_SECONDS = 600.0
MIN_PRUNE_GRACE_SECONDS = 2 * LEASE_REFRESH_SECONDS


class AttemptWriter:
    """Arrays written into an attempt directory of their own. Use as a context manager: an
    exception removes the attempt; a kill leaves it for ``omicsgate releases prune``."""

    def __init__(self, store: DataStore, release_id: str) -> None:
        self.store = store
        self.release_id = _layout.check_release_id(release_id)
        self.attempt = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:12]}"
        self.data = f"{_layout.ATTEMPTS_DIR}/{self.attempt}"
        self.uri = _layout.join(_layout.attempts_uri(store.root, release_id), self.attempt)
        self.tables: dict[str, dict[str, Any]] = {}
        self.packed: dict[str, dict[str, list[Any]]] = {}
        self.committed = False
        self.notes: list[str] = []  # what publishing wants said, though nothing is wrong
        self._consolidation: dict[str, tuple[str, ...]] = {}
        self._lease = Lease(store, _layout.join(self.uri, _layout.LEASE_FILE), self.attempt)

    def __enter__(self) -> Self:
        refuse_if_published(self.store, self.release_id)
        self.store.vfs().create_dir(self.uri)
        self._lease.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lease.stop()
        if not self.committed:
            _remove_dir(self.store, self.uri)

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

    def add_array(
        self,
        name: str,
        dims: Sequence[str],
        rows: int,
        consolidate: tuple[str, ...] = ("fragment_meta",),
    ) -> None:
        """Register an array the caller wrote itself at :meth:`table_uri`. ``consolidate``:
        the TileDB consolidation modes to run before commit (fragment metadata alone keeps
        tile-aligned fragments as written and makes opening one read)."""
        self.tables[name] = {"dims": list(dims), "rows": rows}
        self._consolidation[name] = consolidate

    def _finish(self) -> None:
        """Consolidate every array and write the pack: what commit needs on storage."""
        for name in self.tables:
            modes = self._consolidation.get(name, _tables.CONSOLIDATION_MODES)
            _tables.consolidate(self.table_uri(name), self.store.ctx, modes)
        if self.packed:
            pack = {"tables": self.packed}
            _write_file(self.store, self.table_uri(_layout.PACK_FILE), _gzip_json(pack))

    def _records(self) -> dict[str, dict[str, Any]]:
        return {name: {**info, "data": self.data} for name, info in self.tables.items()}

    def _packed(self) -> dict[str, Any] | None:
        if not self.packed:
            return None
        return {"file": f"{self.data}/{_layout.PACK_FILE}", "tables": sorted(self.packed)}

    def _release_lease(self) -> None:
        self._lease.stop()
        _remove_file(self.store, self._lease.uri)


class PartWriter(AttemptWriter):
    """One part of a draft release (``reference``, ``expression``...). Commit records the
    part in the draft, replacing an earlier version of it; the draft's other parts are never
    touched, and readers see nothing of a draft until it is published."""

    def __init__(
        self,
        store: DataStore,
        release_id: str,
        part: str,
        description: str = "",
        groups: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(store, release_id)
        self.part = part
        self.record_uri = _layout.part_uri(store.root, release_id, part)
        self.description = description
        self.groups = groups

    def commit(self) -> None:
        self._finish()
        record = {
            "part": self.part,
            "release": self.release_id,
            "attempt": self.data,
            "created": _now(),
            "description": self.description,
            "groups": sorted(self.groups),
            "tables": self._records(),
            "packed": self._packed(),
        }
        try:
            write_json_atomically(self.store, self.record_uri, record)
        except (OSError, tiledb.TileDBError):
            # The winner of a race publishes and removes the draft under our feet.
            if not _is_published(self.store, self.release_id):
                raise
        if _is_published(self.store, self.release_id):
            # Published while this part was written: the release did not take it.
            raise ReleaseExists(
                f"release {self.release_id!r} was committed by another command while this "
                f"{self.part} part was written; the part was discarded"
            )
        self.committed = True
        self._release_lease()


class ReleaseWriter(PartWriter):
    """A release written in one go: one part, published at commit."""

    def __init__(
        self,
        store: DataStore,
        release_id: str,
        description: str = "",
        groups: frozenset[str] = frozenset(),
        part: str = "reference",
    ) -> None:
        super().__init__(store, release_id, part, description, groups)

    def commit(self, make_current: bool = True) -> None:
        super().commit()
        publish_draft(self.store, self.release_id, make_current=make_current)


# Drafts and publishing ----------------------------------------------------------------


class DraftInconsistent(StorageError):
    """The draft's parts do not fit together; ``problems`` lists every reason."""

    def __init__(self, release_id: str, problems: list[str]) -> None:
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"draft release {release_id!r} cannot be published:\n{listed}")


class Draft:
    """The parts of a draft release, read-only: what publish checks and derives from."""

    def __init__(self, store: DataStore, release_id: str, parts: dict[str, dict[str, Any]]):
        self.store, self.release_id, self.parts = store, release_id, parts

    def part_of(self, table: str) -> str | None:
        """The part holding a table (the last one listed wins a name two parts use)."""
        found = None
        for part, record in self.parts.items():
            if table in record["tables"]:
                found = part
        return found

    def has(self, table: str) -> bool:
        return self.part_of(table) is not None

    def table_uri(self, table: str) -> str:
        record = self.parts[self._part(table)]
        return _layout.join(
            _layout.release_uri(self.store.root, self.release_id),
            record["tables"][table]["data"],
            table,
        )

    def read_all(self, table: str) -> dict[str, np.ndarray]:
        record = self.parts[self._part(table)]
        packed = record.get("packed") or {}
        if table in packed.get("tables", []):
            columns = self._pack(packed["file"])[table]
            return {column: np.asarray(values) for column, values in columns.items()}
        import tiledb

        with tiledb.open(self.table_uri(table), ctx=self.store.ctx) as array:
            if array.schema.sparse:
                return _tables.read_all(array)
            return dict(array[:])

    def _part(self, table: str) -> str:
        part = self.part_of(table)
        if part is None:
            raise KeyError(table)
        return part

    def _pack(self, file: str) -> dict[str, dict[str, list[Any]]]:
        uri = _layout.join(_layout.release_uri(self.store.root, self.release_id), file)
        document = self.store.read_json(uri)
        if document is None:
            raise DamagedFile(uri, "missing, though a part names it")
        return dict(document.get("tables", {}))


Assemble = Callable[[Draft, AttemptWriter], list[str]]


def draft_parts(store: DataStore, release_id: str) -> dict[str, dict[str, Any]]:
    """The draft's part records by part name ({} when there is no draft)."""
    vfs = store.vfs()
    base = _layout.draft_uri(store.root, release_id)
    if not vfs.is_dir(base):
        return {}
    parts: dict[str, dict[str, Any]] = {}
    for uri in sorted(vfs.ls(base)):
        name = _layout.base_name(uri)
        if not name.endswith(".json"):
            continue  # a temporary file of an atomic write in flight
        record = store.read_json(uri)
        if not isinstance(record, dict) or not isinstance(record.get("tables"), dict):
            raise DamagedFile(uri, "not a part record")
        parts[name.removesuffix(".json")] = record
    return parts


def publish_draft(
    store: DataStore,
    release_id: str,
    assemble: Assemble | None = None,
    make_current: bool = False,
) -> dict[str, Any]:
    """Check the draft's parts fit together, derive what comes from several parts, and make
    the release visible by creating its manifest: one atomic step; made current if asked."""
    refuse_if_published(store, release_id)
    parts = draft_parts(store, release_id)
    if not parts:
        # A racing writer may have published the release and removed its draft since the
        # check above: then this attempt lost the race, which is not a missing draft.
        refuse_if_published(store, release_id)
        raise ReleaseNotFound(f"no draft release {release_id!r} (ingest a part first)")
    groups = {tuple(record.get("groups", [])) for record in parts.values()}
    problems = [] if len(groups) == 1 else [f"parts disagree on access groups: {sorted(groups)}"]
    with AttemptWriter(store, release_id) as derived:
        if assemble is not None:
            problems += assemble(Draft(store, release_id, parts), derived)
        if problems:
            raise DraftInconsistent(release_id, problems)
        derived._finish()
        manifest = _release_manifest(release_id, parts, derived, sorted(next(iter(groups))))
        uri = _layout.manifest_uri(store.root, release_id)
        if not create_exclusively(store, uri, _json(manifest)):
            raise ReleaseExists(
                f"release {release_id!r} was committed by another ingestion while this "
                "one ran; this attempt was discarded"
            )
        derived.committed = True
        derived._release_lease()
    # A losing writer may be adding a part record to the draft; prune removes it then.
    with contextlib.suppress(tiledb.TileDBError):
        _remove_dir(store, _layout.draft_uri(store.root, release_id))
    if make_current and not manifest["access"]["groups"]:
        publish(store, release_id)
    return manifest


def _release_manifest(
    release_id: str, parts: dict[str, dict[str, Any]], derived: AttemptWriter, groups: list[str]
) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    packs: list[dict[str, Any]] = []
    for record in parts.values():
        tables.update(record["tables"])
        if record.get("packed"):
            packs.append(record["packed"])
    tables.update(derived._records())
    packed = _merge_packs(packs, derived, tables)
    description = next((r["description"] for r in parts.values() if r.get("description")), "")
    manifest: dict[str, Any] = {
        "format": _manifest.FORMAT,
        "release": release_id,
        "description": description,
        "created": _now(),
        "data": derived.data,
        "parts": {name: record["attempt"] for name, record in parts.items()},
        "tables": tables,
        # Empty groups: public. Otherwise only members of one of the groups see it.
        "access": {"groups": groups},
    }
    if packed:
        manifest["packed"] = packed
    if derived.notes:
        manifest["notes"] = derived.notes
    return manifest


def _merge_packs(
    packs: list[dict[str, Any]], derived: AttemptWriter, tables: dict[str, Any]
) -> dict[str, Any] | None:
    """One pack for the release: the parts' packed tables that publish did not replace, and
    the derived ones; written into the publish attempt so a cold reader fetches one object."""
    merged: dict[str, dict[str, list[Any]]] = {}
    for packed in packs:
        uri = _layout.join(
            _layout.release_uri(derived.store.root, derived.release_id), packed["file"]
        )
        document = derived.store.read_json(uri) or {}
        for name in packed["tables"]:
            if tables[name]["data"] != derived.data:
                merged[name] = document["tables"][name]
    merged.update(derived.packed)
    if not merged:
        return None
    _write_file(derived.store, derived.table_uri(_layout.PACK_FILE), _gzip_json({"tables": merged}))
    return {"file": _layout.PACK_FILE, "tables": sorted(merged)}


def refuse_if_published(store: DataStore, release_id: str) -> None:
    if _is_published(store, release_id):
        raise ReleaseExists(
            f"release {release_id!r} already exists: a published release is immutable"
        )


def _is_published(store: DataStore, release_id: str) -> bool:
    return bool(store.vfs().is_file(_layout.manifest_uri(store.root, release_id)))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Lease:
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
    write_atomically(store, uri, _json(document))


def write_atomically(store: DataStore, uri: str, data: bytes) -> None:
    """Write next to the target, then move: readers see the old or the new file, whole."""
    temporary = f"{uri}.tmp-{uuid.uuid4().hex}"
    _write_file(store, temporary, data)
    store.vfs().move_file(temporary, uri)


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
            kept = {record["attempt"] for record in draft_parts(store, release_id).values()}
        else:
            kept = committed
            draft = _layout.draft_uri(store.root, release_id)
            if store.vfs().is_dir(draft):
                orphans.append(Orphan(draft, "draft of a release already published"))
        attempts = _layout.attempts_uri(store.root, release_id)
        for uri in _children(store, attempts):
            name = _layout.base_name(uri)
            if f"{_layout.ATTEMPTS_DIR}/{name}" in kept:
                continue
            age = now - _last_heartbeat(store, uri, name)
            if age > grace_seconds:
                orphans.append(Orphan(uri, f"uncommitted attempt, writer silent for {age:.0f} s"))
    return orphans


def prune(store: DataStore, orphans: list[Orphan]) -> None:
    for orphan in orphans:
        _remove_dir(store, orphan.uri)
        _remove_file(store, orphan.uri)


def _committed_data(store: DataStore, release_id: str) -> set[str] | None:
    """The attempts the release's manifest names ({""} for format 1), or None if it has no
    manifest."""
    if not _is_published(store, release_id):
        return None
    manifest = store.manifest(release_id)
    named = {str(manifest.get("data", ""))} | set(manifest.get("parts", {}).values())
    return named | {str(t.get("data", "")) for t in manifest["tables"].values()}


def _legacy_leftovers(store: DataStore, release: str) -> list[Orphan]:
    return [
        Orphan(uri, "left by an interrupted ingestion (format 1)")
        for uri in _children(store, release)
        if _layout.base_name(uri) not in (_layout.ATTEMPTS_DIR, _layout.DRAFT_DIR)
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
