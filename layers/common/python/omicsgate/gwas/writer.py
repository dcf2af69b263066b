"""Adding, replacing and removing GWAS studies, one at a time (ingestion only).

A study is written in this order; a kill at any point leaves nothing a reader sees:

1. a slot number is claimed (``gwas/slots/<n>.json``, created exclusively; never reused);
2. the study's own array is written in its attempt directory (with a lease);
3. its rows are appended to the shared ``by_position`` array under that slot, and its
   variants to the ``rsids`` and ``variants`` indexes (one fragment per batch);
4. the record ``gwas/studies/<ID>@<slot>.json`` is written atomically: the commit point;
5. older records of the same ID (a re-ingestion) and their attempts are removed, and the
   catalogue snapshot is rewritten.

Readers only serve slots a record names, so rows of a killed or replaced ingestion are
invisible; :func:`consolidate` drops them for good and merges the fragments.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import tiledb

from omicsgate.gwas import _layout
from omicsgate.gwas._catalog import Study, newest_per_id, study_from_record
from omicsgate.gwas._codes import HITS_MIN_LP, LOCUS_DOMAIN_END, locus_of
from omicsgate.storage import DataStore, _tables
from omicsgate.storage.writer import (
    DEFAULT_PRUNE_GRACE_SECONDS,
    Lease,
    _gzip_json,
    _remove_dir,
    _remove_file,
    create_exclusively,
    write_atomically,
    write_json_atomically,
)

ATTRIBUTES: dict[str, Any] = {
    "rsid": str,
    "ea": str,
    "nea": str,
    "eaf": np.float64,
    "beta": np.float64,
    "se": np.float64,
    "lp": np.float64,
    "n": np.float64,
}
COLUMNS = ("chrom", "pos", *ATTRIBUTES)
CAPACITY = 2_000  # cells per data tile: a variant across 1,000 studies is about one tile


class InvalidStudy(ValueError):
    """A study that cannot be added: a bad ID, no rows, an ID taken (replace=False)."""


@dataclass(frozen=True)
class Batch:
    """Rows of one study: ``chrom`` (uint8 codes), ``pos`` (uint32) and ATTRIBUTES."""

    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.columns["pos"])


# Schemas ---------------------------------------------------------------------------------


def _filters() -> tiledb.FilterList:
    return tiledb.FilterList([tiledb.ZstdFilter(level=5)])


def _locus_dim(ctx: tiledb.Ctx, tile: int) -> tiledb.Dim:
    return tiledb.Dim(
        "locus", domain=(0, LOCUS_DOMAIN_END), tile=tile, dtype=np.uint64,
        filters=tiledb.FilterList([tiledb.DoubleDeltaFilter(), tiledb.ZstdFilter(level=5)]),
        ctx=ctx,
    )  # fmt: skip


def _slot_dim(ctx: tiledb.Ctx, tile: int) -> tiledb.Dim:
    return tiledb.Dim(
        "slot", domain=(0, 2**31), tile=tile, dtype=np.uint32, filters=_filters(), ctx=ctx
    )


def _attrs(ctx: tiledb.Ctx) -> list[tiledb.Attr]:
    return [
        tiledb.Attr(name, dtype=dtype, var=dtype is str, filters=_filters(), ctx=ctx)
        for name, dtype in ATTRIBUTES.items()
    ]


def _create_association_array(uri: str, ctx: tiledb.Ctx, by: str) -> None:
    """``by="position"``: cells ordered by (locus, slot), a variant across studies is one
    run of cells; ``by="study"``: ordered by (slot, locus), a study is one run."""
    if by == "position":
        dims = [_locus_dim(ctx, tile=2**32), _slot_dim(ctx, tile=2**31)]
    else:
        dims = [_slot_dim(ctx, tile=1), _locus_dim(ctx, tile=LOCUS_DOMAIN_END + 1)]
    schema = tiledb.ArraySchema(
        domain=tiledb.Domain(*dims, ctx=ctx),
        attrs=_attrs(ctx),
        sparse=True,
        allows_duplicates=True,  # multi-allelic sites: several rows at one position
        capacity=CAPACITY,
        ctx=ctx,
    )
    tiledb.Array.create(uri, schema, ctx=ctx)


def _create_rsids(uri: str, ctx: tiledb.Ctx) -> None:
    dim = tiledb.Dim("rsnum", domain=(1, 2**62), tile=2**40, dtype=np.uint64, ctx=ctx)
    schema = tiledb.ArraySchema(
        domain=tiledb.Domain(dim, ctx=ctx),
        attrs=[tiledb.Attr("locus", dtype=np.uint64, filters=_filters(), ctx=ctx)],
        sparse=True,
        allows_duplicates=False,  # every study writes its rsids: the newest write wins
        capacity=CAPACITY,
        ctx=ctx,
    )
    tiledb.Array.create(uri, schema, ctx=ctx)


def _create_genes(uri: str, ctx: tiledb.Ctx) -> None:
    dim = tiledb.Dim("name", domain=(None, None), tile=None, dtype="ascii", ctx=ctx)
    schema = tiledb.ArraySchema(
        domain=tiledb.Domain(dim, ctx=ctx),
        attrs=[
            tiledb.Attr("gene_id", dtype=str, var=True, ctx=ctx),
            tiledb.Attr("chrom", dtype=np.uint8, ctx=ctx),
            tiledb.Attr("start", dtype=np.uint32, ctx=ctx),
            tiledb.Attr("end", dtype=np.uint32, ctx=ctx),
        ],
        sparse=True,
        allows_duplicates=False,
        ctx=ctx,
    )
    tiledb.Array.create(uri, schema, ctx=ctx)


_SHARED = {
    _layout.BY_POSITION: lambda uri, ctx: _create_association_array(uri, ctx, "position"),
    _layout.BY_STUDY: lambda uri, ctx: _create_association_array(uri, ctx, "study"),
    _layout.HITS: lambda uri, ctx: _create_association_array(uri, ctx, "study"),
    _layout.RSIDS: _create_rsids,
    _layout.GENES: _create_genes,
}


def _shared_uri(store: DataStore, name: str) -> str:
    """The shared array, created on first use (two first writers: one creates it)."""
    uri = _layout.gwas_uri(store.root, name)
    if tiledb.object_type(uri, ctx=store.ctx) != "array":
        try:
            _SHARED[name](uri, store.ctx)
        except tiledb.TileDBError:
            if tiledb.object_type(uri, ctx=store.ctx) != "array":
                raise
    return uri


# Adding a study --------------------------------------------------------------------------


def add_study(
    store: DataStore,
    study_id: str,
    info: dict[str, Any],
    batches: Iterable[Batch],
    groups: frozenset[str] = frozenset(),
    files: dict[str, str] | None = None,
    replace: bool = True,
) -> Study:
    """Write one study from its batches of rows and make it visible. ``files``: name ->
    local path of the source files served by ``/gwasinfo/files`` (copied into the store
    when it is on S3; referenced in place when it is local)."""
    if not _layout.is_study_id(study_id):
        raise InvalidStudy(f"study ID {study_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
    if not replace and study_id in _records(store):
        raise InvalidStudy(f"study {study_id!r} exists (ingest it again to replace it)")
    attempt = f"{_layout.ATTEMPTS_DIR}/{_attempt_name()}"
    slot = _claim_slot(store, study_id, attempt)
    attempt_uri = _layout.gwas_uri(store.root, attempt)
    with _leased(store, attempt_uri, attempt) as leased:
        rows = _write_rows(store, slot, batches)
        stored_files = _store_files(store, attempt_uri, files or {})
        record = {
            "id": study_id,
            "slot": slot,
            "attempt": attempt,
            "groups": sorted(groups),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "info": {**info, "id": study_id, "nsnp": rows},
            "files": stored_files,
        }
        clumped = _preclumped(store, record)
        if clumped is not None:
            record["clumped"] = clumped
        uri = _layout.gwas_uri(store.root, _layout.STUDIES_DIR, _layout.record_name(study_id, slot))
        write_json_atomically(store, uri, record)
        leased.committed = True
    dropped = _drop_older_records(store, study_id, slot)
    update_snapshot(store, {_layout.record_name(study_id, slot): record}, dropped)
    return study_from_record(record)


def _preclumped(store: DataStore, record: dict[str, Any]) -> dict[str, Any] | None:
    """The study's top hits clumped at the preclumping settings, read back from the rows
    just written (a fresh reader: a shared one may hold arrays opened before them)."""
    from omicsgate.gwas._reader import GwasStore
    from omicsgate.gwas.ld import PRECLUMP, preclumped_rsids

    rsids = preclumped_rsids(GwasStore(store), study_from_record(record))
    return None if rsids is None else {**dataclasses.asdict(PRECLUMP), "rsids": rsids}


def _write_rows(store: DataStore, slot: int, batches: Iterable[Batch]) -> int:
    names = (_layout.BY_STUDY, _layout.HITS, _layout.BY_POSITION, _layout.RSIDS)
    shared = {name: _shared_uri(store, name) for name in names}
    rows = 0
    for batch in batches:
        if len(batch):
            _write_batch(store, shared, slot, batch)
            rows += len(batch)
    if rows == 0:
        raise InvalidStudy("the study has no association")
    return rows


def _write_batch(store: DataStore, shared: dict[str, str], slot: int, batch: Batch) -> None:
    """One fragment in each shared array; nothing is visible before the study's record."""
    cols = batch.columns
    locus = locus_of(cols["chrom"], cols["pos"])
    data = {name: _cells(cols[name]) for name in ATTRIBUTES}
    slots = np.full(len(batch), slot, dtype=np.uint32)
    with tiledb.open(shared[_layout.BY_STUDY], "w", ctx=store.ctx) as array:
        array[slots, locus] = data
    with tiledb.open(shared[_layout.BY_POSITION], "w", ctx=store.ctx) as array:
        array[locus, slots] = data
    hits = cols["lp"] >= HITS_MIN_LP
    if hits.any():
        with tiledb.open(shared[_layout.HITS], "w", ctx=store.ctx) as array:
            array[slots[hits], locus[hits]] = {k: v[hits] for k, v in data.items()}
    rsnum = _rsid_numbers(cols["rsid"])
    has = rsnum > 0
    if has.any():
        with tiledb.open(shared[_layout.RSIDS], "w", ctx=store.ctx) as array:
            array[rsnum[has]] = {"locus": locus[has]}


def _cells(values: np.ndarray) -> np.ndarray:
    return values.astype(object) if values.dtype.kind in "US" else values


def _rsid_numbers(rsids: np.ndarray) -> np.ndarray:
    """``rs123`` -> 123, anything else -> 0 (vectorised: batches are large)."""
    text = np.char.lower(rsids.astype(str))
    is_rs = np.char.startswith(text, "rs")
    digits = np.char.lstrip(text, "rs")
    ok = is_rs & np.char.isdigit(digits) & (np.char.str_len(digits) <= 15)
    out = np.zeros(len(rsids), dtype=np.uint64)
    if ok.any():
        out[ok] = digits[ok].astype(np.uint64)
    return out


def _store_files(store: DataStore, attempt_uri: str, files: dict[str, str]) -> dict[str, str]:
    """Files served by ``/gwasinfo/files``: uploaded next to the study on S3; on a local
    store referenced where they are (never copied)."""
    import os

    if not store.root.startswith("s3://"):
        return {name: os.path.abspath(path) for name, path in files.items()}
    stored: dict[str, str] = {}
    for name, path in files.items():
        uri = _layout.join(attempt_uri, "files", os.path.basename(path))
        with open(path, "rb") as source, store.vfs().open(uri, "wb") as target:
            shutil.copyfileobj(source, target, length=8 * 2**20)
        stored[name] = uri
    return stored


def _attempt_name() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:12]}"


class _Attempt:
    committed = False


@contextmanager
def _leased(store: DataStore, attempt_uri: str, attempt: str) -> Iterator[_Attempt]:
    """The attempt directory with a fresh lease; removed unless the study was committed."""
    store.vfs().create_dir(attempt_uri)
    lease = Lease(store, _layout.join(attempt_uri, "lease.json"), attempt)
    lease.start()
    state = _Attempt()
    try:
        yield state
    finally:
        lease.stop()
        if state.committed:
            _remove_file(store, lease.uri)
        else:
            _remove_dir(store, attempt_uri)


def _claim_slot(store: DataStore, study_id: str, attempt: str) -> int:
    """The next slot number, claimed by creating its file exclusively (a concurrent
    ingestion that took the same number makes this one try the next)."""
    base = _layout.gwas_uri(store.root, _layout.SLOTS_DIR)
    vfs = store.vfs()
    if not vfs.is_dir(base):
        vfs.create_dir(base)
    taken = [_slot_number(uri) for uri in vfs.ls(base)]
    slot = max([n for n in taken if n is not None], default=0) + 1
    claim = json.dumps({"study": study_id, "attempt": attempt, "claimed": time.time()}).encode()
    while not create_exclusively(store, _layout.join(base, f"{slot}.json"), claim):
        slot += 1
    return slot


def _slot_number(uri: str) -> int | None:
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    stem = name.removesuffix(".json")
    return int(stem) if name.endswith(".json") and stem.isdigit() else None


# Catalogue -------------------------------------------------------------------------------


def _record_names(store: DataStore) -> list[str]:
    base = _layout.gwas_uri(store.root, _layout.STUDIES_DIR)
    vfs = store.vfs()
    return [u.rstrip("/").rsplit("/", 1)[-1] for u in vfs.ls(base)] if vfs.is_dir(base) else []


def _records(store: DataStore) -> dict[str, tuple[int, str]]:
    return newest_per_id(_record_names(store))


def _drop_older_records(store: DataStore, study_id: str, keep_slot: int) -> set[str]:
    base = _layout.gwas_uri(store.root, _layout.STUDIES_DIR)
    dropped = set()
    for name in _record_names(store):
        parsed = _layout.parse_record_name(name)
        if parsed and parsed[0] == study_id and parsed[1] != keep_slot:
            _remove_record(store, _layout.join(base, name))
            dropped.add(name)
    return dropped


def _remove_record(store: DataStore, uri: str) -> None:
    record = store.read_json(uri)
    _remove_file(store, uri)  # invisible from here on
    if isinstance(record, dict) and record.get("attempt"):
        _remove_dir(store, _layout.gwas_uri(store.root, str(record["attempt"])))


def remove_study(store: DataStore, study_id: str) -> bool:
    """Take a study away: its record first (readers stop serving it), then its data. Its
    rows in the shared arrays are dropped by the next :func:`consolidate`."""
    base = _layout.gwas_uri(store.root, _layout.STUDIES_DIR)
    names = [
        n for n in _record_names(store) if (_layout.parse_record_name(n) or ("",))[0] == study_id
    ]
    for name in names:
        _remove_record(store, _layout.join(base, name))
    if names:
        update_snapshot(store, {}, set(names))
    return bool(names)


def update_snapshot(store: DataStore, added: dict[str, Any], dropped: set[str]) -> None:
    """One file holding every record, so a cold reader lists once and reads one object.
    It is a cache: two writers updating it at once may lose each other's entry, and readers
    trust the listing and read what the snapshot lacks (records never change)."""
    uri = _layout.gwas_uri(store.root, _layout.SNAPSHOT_FILE)
    current = store.read_json(uri) or {}
    records = {
        name: record
        for name, record in dict(current.get("records") or {}).items()
        if name not in dropped
    }
    records.update(added)
    write_atomically(store, uri, _gzip_json({**current, "records": records}))


def list_studies(store: DataStore) -> list[Study]:
    """Every committed study, by ID, read as serving reads it (listing and snapshot)."""
    from omicsgate.gwas._reader import GwasStore

    return list(GwasStore(store).studies().values())


# Genes -----------------------------------------------------------------------------------


def write_genes(store: DataStore, genes: list[tuple[str, str, int, int, int]]) -> None:
    """The GWAS build's gene annotation: (symbol, gene ID, chrom code, start, end). Each
    gene is findable by symbol (as given and upper-case) and by ID."""
    uri = _shared_uri(store, _layout.GENES)
    keys, ids, chroms, starts, ends = [], [], [], [], []
    for symbol, gene_id, chrom, start, end in genes:
        for key in dict.fromkeys((symbol, symbol.upper(), gene_id)):
            keys.append(key)
            ids.append(gene_id)
            chroms.append(chrom)
            starts.append(start)
            ends.append(end)
    with tiledb.open(uri, "w", ctx=store.ctx) as array:
        array[np.array(keys, dtype=object)] = {
            "gene_id": np.array(ids, dtype=object),
            "chrom": np.array(chroms, dtype=np.uint8),
            "start": np.array(starts, dtype=np.uint32),
            "end": np.array(ends, dtype=np.uint32),
        }


# Consolidation ---------------------------------------------------------------------------


def consolidate(
    store: DataStore, grace_seconds: float = DEFAULT_PRUNE_GRACE_SECONDS
) -> dict[str, Any]:
    """Drop rows of slots no record names whose writer is gone, merge each shared array's
    fragments into one, and remove what was merged. Readers holding an older view keep
    reading it until they reopen (at most once per TTL, or at once if a read fails)."""
    committed = {slot for slot, _ in _records(store).values()}
    dead = [s for s in _dead_slots(store, grace_seconds) if s not in committed]
    arrays = [name for name in _SHARED if _exists(store, name)]
    for name in (_layout.BY_STUDY, _layout.HITS, _layout.BY_POSITION):
        if name in arrays:
            _delete_slots(store, _layout.gwas_uri(store.root, name), dead)
    modes = ("fragments", "fragment_meta", "commits")
    for name in arrays:
        _consolidate(_layout.gwas_uri(store.root, name), store.ctx, modes)
    _mark_purged(store, dead)
    if _layout.BY_POSITION in arrays:
        _store_block_bounds(store)
    return {"dropped_slots": dead, "arrays": arrays}


def _store_block_bounds(store: DataStore) -> None:
    """The read cache's block bounds (``_blocks``) in the catalogue snapshot, so a cold
    reader does not list the fragments' tile MBRs (bounds only shape the cache: stale
    ones after later ingestions are still correct)."""
    from omicsgate.gwas._blocks import stored_bounds

    bounds = stored_bounds(_layout.gwas_uri(store.root, _layout.BY_POSITION), store.ctx)
    uri = _layout.gwas_uri(store.root, _layout.SNAPSHOT_FILE)
    current = store.read_json(uri) or {}
    document = {k: v for k, v in current.items() if k != "blocks"}
    if bounds is not None:
        document["blocks"] = bounds
    write_atomically(store, uri, _gzip_json({"records": {}, **document}))


def _exists(store: DataStore, name: str) -> bool:
    return bool(tiledb.object_type(_layout.gwas_uri(store.root, name), ctx=store.ctx) == "array")


def _delete_slots(store: DataStore, uri: str, slots: list[int]) -> None:
    """TileDB delete queries: the cells disappear from reads at once, and from storage at
    the next consolidation (purge_deleted_cells)."""
    for start in range(0, len(slots), 100):
        chunk = slots[start : start + 100]
        with tiledb.open(uri, "d", ctx=store.ctx) as array:
            tiledb.Query(array, cond=" or ".join(f"slot == {s}" for s in chunk)).submit()


def _dead_slots(store: DataStore, grace_seconds: float) -> list[int]:
    """Claimed slots not yet purged whose writer is gone: the claim and the attempt's
    lease (refreshed every 30 s while the writer lives) are both older than the grace."""
    base = _layout.gwas_uri(store.root, _layout.SLOTS_DIR)
    vfs = store.vfs()
    if not vfs.is_dir(base):
        return []
    now = time.time()
    dead = []
    for uri in vfs.ls(base):
        slot = _slot_number(uri)
        claim = store.read_json(uri.rstrip("/")) if slot is not None else None
        if not isinstance(claim, dict) or claim.get("purged"):
            continue
        if now - _heartbeat(store, claim) > grace_seconds:
            dead.append(int(slot))  # type: ignore[arg-type]
    return sorted(dead)


def _heartbeat(store: DataStore, claim: dict[str, Any]) -> float:
    lease_uri = _layout.gwas_uri(store.root, str(claim.get("attempt", "")), "lease.json")
    lease = store.read_json(lease_uri) if claim.get("attempt") else None
    beat = float(lease.get("heartbeat", 0)) if isinstance(lease, dict) else 0.0
    return max(beat, float(claim.get("claimed", 0)))


def _mark_purged(store: DataStore, slots: list[int]) -> None:
    base = _layout.gwas_uri(store.root, _layout.SLOTS_DIR)
    for slot in slots:
        uri = _layout.join(base, f"{slot}.json")
        claim = store.read_json(uri) or {}
        write_json_atomically(store, uri, {**claim, "purged": True})


def _consolidate(uri: str, ctx: tiledb.Ctx, modes: tuple[str, ...]) -> None:
    _tables.consolidate(uri, ctx, modes, {"sm.consolidation.purge_deleted_cells": "true"})
