"""Reading the GWAS catalogue: study records, associations by study and by position."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from omicsgate.auth import Caller, can_see
from omicsgate.gwas import _blocks, _layout
from omicsgate.gwas._catalog import Study, newest_per_id, study_from_record
from omicsgate.gwas._codes import (
    HITS_MIN_LP,
    Locus,
    chrom_name,
    merged_ranges,
    rsid_number,
    split_locus,
)
from omicsgate.gwas._panels import Panel, UnknownPanel, load_panels
from omicsgate.storage import DataStore, get_store
from omicsgate.storage._store import unavailable_on_tiledb_error

if TYPE_CHECKING:
    import numpy as np
    import tiledb

T = TypeVar("T")


# How far the clock of the host that ingested a study may be behind ours (NTP keeps hosts
# within a second; a study committed less than this before a handle was opened is treated
# as possibly not in the handle's view).
CLOCK_SKEW_SECONDS = 30.0


Read = Literal["positions", "rsids", "tophits"]
_ARRAYS_READ: dict[str, str] = {"positions": _layout.BY_POSITION, "rsids": _layout.RSIDS}


class UnknownStudy(LookupError):
    """A study ID that does not exist, or that the caller may not see (told apart nowhere)."""


class GwasStore:
    """The catalogue and its arrays as one reader. Shared arrays are reopened at most once
    per TTL, so new studies show up; per-study arrays never change and stay open."""

    def __init__(self, store: DataStore) -> None:
        self.store = store
        self.root = _layout.gwas_uri(store.root)
        self._studies: tuple[dict[str, Study], float] | None = None
        # A handle that holds every listed study's rows was opened at this wall time or later.
        self._rows_since = 0.0
        self._shared: dict[str, _Handle] = {}
        self._opening: dict[str, Future[_Handle]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._panels: tuple[dict[str, Panel], float] | None = None
        self._lock = threading.Lock()
        # S3 only: a local store's file cache is the operating system's page cache.
        budget = _blocks.budget_bytes() if "://" in store.root else 0
        self._blocks = _blocks.BlockCache(budget) if budget > 0 else None
        self._snapshot_bounds: Any = None  # block bounds the last consolidation stored

    # Catalogue -----------------------------------------------------------------------

    def studies(self) -> dict[str, Study]:
        """Every committed study by ID (not filtered by access), re-listed once per TTL."""
        now = time.monotonic()
        ttl = self.store.settings.release_ttl_seconds
        if self._studies and now - self._studies[1] < ttl:
            return self._studies[0]
        listed = time.time()
        studies = self._load_studies()
        self._studies = (studies, now)
        self._rows_since = _rows_since(studies.values(), listed)
        return studies

    def visible(self, caller: Caller) -> dict[str, Study]:
        return {i: s for i, s in self.studies().items() if can_see(caller, s.groups)}

    def study(self, caller: Caller, study_id: str) -> Study:
        found = self.visible(caller).get(study_id)
        if found is None:
            raise UnknownStudy(study_id)
        return found

    def _load_studies(self) -> dict[str, Study]:
        base = _layout.gwas_uri(self.store.root, _layout.STUDIES_DIR)
        # The listing and the snapshot are independent requests: a cold reader waits for
        # the slower of the two, not their sum.
        pending = self._background().submit(self._snapshot)
        newest = newest_per_id(self._record_names(base))
        document = pending.result()
        snapshot = dict(document.get("records") or {})
        self._snapshot_bounds = document.get("blocks")
        studies: dict[str, Study] = {}
        for study_id, (_, name) in sorted(newest.items()):
            record = snapshot.get(name)
            if record is None:
                record = self.store.read_json(_layout.join(base, name))
            if record is not None:  # removed between the listing and the read
                studies[study_id] = study_from_record(record)
        return studies

    def _record_names(self, base: str) -> list[str]:
        """The record files' names; none when no study was ever added. Listed without an
        existence check first: on S3 a missing prefix lists empty (one request, not two)."""
        import tiledb

        vfs = self.store.vfs()
        with unavailable_on_tiledb_error(f"listing {base}"):
            try:
                return [_base(uri) for uri in vfs.ls(base)]
            except tiledb.TileDBError:
                if vfs.is_dir(base):
                    raise
                return []

    def _snapshot(self) -> dict[str, Any]:
        document = self.store.read_json(_layout.gwas_uri(self.store.root, _layout.SNAPSHOT_FILE))
        return document if isinstance(document, dict) else {}

    # LD reference panels -------------------------------------------------------------

    def panels(self) -> dict[str, Panel]:
        """The loaded panels by population, re-read once per TTL (a panel whose record
        did not change keeps its handles and caches)."""
        now = time.monotonic()
        if self._panels and now - self._panels[1] < self.store.settings.release_ttl_seconds:
            return self._panels[0]
        held = self._panels[0] if self._panels else {}
        panels = {
            pop: held[pop] if pop in held and held[pop].base == panel.base else panel
            for pop, panel in load_panels(self.store).items()
        }
        self._panels = (panels, now)
        return panels

    def panel(self, population: str) -> Panel:
        found = self.panels().get(population)
        if found is None:
            raise UnknownPanel(population)
        return found

    def snplist(self) -> list[dict[str, Any]]:
        uri = _layout.gwas_uri(self.store.root, _layout.PANELS_DIR, _layout.SNPLIST_FILE)
        document = self.store.read_json(uri)
        return list((document or {}).get("snps") or [])

    # Associations --------------------------------------------------------------------

    def associations(self, studies: Sequence[Study], loci: Sequence[Locus]) -> list[dict]:
        """Every row of the studies at the loci, as OpenGWAS association records, ordered
        by study (as given), chromosome and position."""
        if not studies or not loci:
            return []
        columns = self._by_position(loci, [s.slot for s in studies], min_lp=None)
        return _records(columns, studies, order="position")

    def phewas(self, studies: Sequence[Study], loci: Sequence[Locus], max_p: float) -> list[dict]:
        """Rows with p <= max_p of every given study at the loci, ordered by (id, p)."""
        if not studies or not loci:
            return []
        columns = self._by_position(loci, None, min_lp=_lp(max_p))
        return _records(columns, studies, order="p")

    def tophits(self, study: Study, max_p: float) -> list[dict]:
        """The study's rows with p <= max_p, most significant first."""
        ranges = [[(study.slot, study.slot)], slice(None)]
        min_lp = _lp(max_p)
        columns = _decoded(self._read_ranges(_tophits_array(min_lp), ranges, min_lp))
        return _records(columns, [study], order="p")

    def _by_position(
        self, loci: Sequence[Locus], slots: list[int] | None, min_lp: float | None
    ) -> dict[str, np.ndarray]:
        """One query: the loci as ranges of the locus key, the slots as one span, or
        every slot when the span holds most of them (rows of other slots are dropped
        here). Slots as points made TileDB compute the tile overlap of every locus x slot
        pair: 3x the time of the whole read at 10^8 rows (10 loci x 10 studies); a span
        costs a third more than no range on the slot."""
        import numpy as np

        keys = merged_ranges(locus.key_range for locus in loci)
        read = self._from_blocks(keys)
        if read is None:
            span: Any = slice(None)
            if slots and 2 * (max(slots) - min(slots) + 1) <= len(self.studies()):
                span = [(min(slots), max(slots))]
            read = {
                k: np.asarray(v)
                for k, v in self._read_ranges(_layout.BY_POSITION, [keys, span]).items()
            }
        keep = np.ones(len(read["locus"]), dtype=bool)
        if slots is not None:
            keep &= np.isin(read["slot"], np.asarray(slots, dtype=read["slot"].dtype))
        if min_lp is not None:
            keep &= read["lp"] >= min_lp
        columns = _decoded({k: v[keep] for k, v in read.items()})
        if any(locus.rsid for locus in loci):
            keep = _kept(columns, loci)
            columns = {k: v[keep] for k, v in columns.items()}
        return columns

    def _from_blocks(self, keys: list[tuple[int, int]]) -> dict[str, np.ndarray] | None:
        """The ``by_position`` rows in the key ranges (every slot) from the block cache,
        missing blocks read in one query; None when there is no cache or a range is wide
        (a long region is read directly)."""
        cache = self._blocks
        if cache is None or not keys:
            return None
        self.studies()
        assert self._studies is not None
        listed = self._studies
        generation = frozenset(s.slot for s in listed[0].values())
        with cache.lock:
            if cache.generation != generation:
                bounds = self._block_bounds()
                if bounds is None:
                    return None
                cache.reset(generation, bounds)
            first, last = cache.spans(keys)
            if int((last - first).max()) + 1 > _blocks.MAX_BLOCKS_PER_RANGE:
                return None
            # At most two blocks a range: its first and its last.
            held = {int(b): cache.get(int(b)) for b in set(first.tolist()) | set(last.tolist())}
            missing = sorted(b for b, c in held.items() if c is None)
            admitted = [b for b in missing if cache.admit(b)]
        found = {b: c for b, c in held.items() if c is not None}
        if not missing:
            return _blocks.select(cache, found, keys)
        # One query: up to FILL_PER_QUERY missing blocks asked for before whole (then
        # kept), the loci of the others exactly (a cold query stays a direct read).
        filled = admitted[: _blocks.FILL_PER_QUERY]
        rest = set(missing) - set(filled)
        exact = [
            (max(lo, cache.key_range(b)[0]), min(hi, cache.key_range(b)[1]))
            for (lo, hi), one, other in zip(keys, first.tolist(), last.tolist(), strict=True)
            for b in {one, other}
            if b in rest
        ]
        read = merged_ranges([*(cache.key_range(b) for b in filled), *exact])

        def query(array: tiledb.Array) -> dict[str, Any]:
            return dict(array.multi_index[read, :])

        # An array opened after the slot set was listed holds all of those slots' rows.
        result = self._read_shared(_layout.BY_POSITION, query)
        fresh = _blocks.split_blocks(cache, missing, result)
        with cache.lock:
            if cache.generation == generation:
                for block in filled:
                    cache.put(block, fresh[block])
        found.update(fresh)
        return _blocks.select(cache, found, keys)

    def _block_bounds(self) -> np.ndarray | None:
        """Block bounds stored by the last consolidation (in the catalogue snapshot), else
        from the tile MBRs of the array's largest fragment."""
        import numpy as np
        import tiledb

        stored = self._snapshot_bounds
        if isinstance(stored, list) and stored and stored[0] == 0:
            return np.array(stored, dtype=np.uint64)
        if not self._exists(_layout.BY_POSITION):
            return None
        uri = _layout.gwas_uri(self.store.root, _layout.BY_POSITION)
        with unavailable_on_tiledb_error(f"listing the fragments of {uri}"):
            fragments = tiledb.array_fragments(uri, include_mbrs=True, ctx=self.store.ctx)
            capacity = self._shared_array(_layout.BY_POSITION).schema.capacity
        if not len(fragments):
            return np.zeros(1, dtype=np.uint64)
        biggest = max(range(len(fragments)), key=lambda i: fragments[i].cell_num)
        return _blocks.block_bounds(fragments.mbrs[biggest], capacity)

    # Variants and genes --------------------------------------------------------------

    def locate_rsids(self, rsids: Iterable[str]) -> dict[str, list[Locus]]:
        """rsid -> the positions where a study reported it ([] when none did)."""
        import numpy as np

        numbers = {rsid: rsid_number(rsid) for rsid in rsids}
        wanted = sorted({n for n in numbers.values() if n is not None})
        found: dict[int, list[Locus]] = {}
        if wanted and self._exists(_layout.RSIDS):
            points = [(n, n) for n in wanted]
            result = self._read_ranges(_layout.RSIDS, [points])
            chroms, positions = split_locus(result["locus"])
            for number, chrom, pos in zip(
                np.asarray(result["rsnum"]), chroms, positions, strict=True
            ):
                found.setdefault(int(number), []).append(
                    Locus(int(chrom), int(pos), int(pos), f"rs{int(number)}")
                )
        return {
            rsid: [Locus(x.chrom, x.start, x.end, rsid) for x in found.get(number or -1, [])]
            for rsid, number in numbers.items()
        }

    def variants(self, loci: Sequence[Locus], studies: Sequence[Study]) -> list[dict[str, Any]]:
        """Variants the given studies reported in the loci: ``{rsid, chr, pos, ref, alt}``
        by position. Read from the studies' own rows, so a variant only a study the caller
        may not see reported is not shown. REF/ALT: the orientation most studies give
        (other allele, effect allele; GWAS-VCF's REF and ALT)."""
        import numpy as np

        if not loci or not studies:
            return []
        columns = self._by_position(loci, None, min_lp=None)
        if not columns or not len(columns.get("pos", ())):
            return []
        keep = np.isin(columns["slot"], [s.slot for s in studies])
        seen: dict[tuple[int, int, str, frozenset[str]], dict[tuple[str, str], int]] = {}
        for chrom, pos, rsid, nea, ea in zip(
            columns["chrom"][keep], columns["pos"][keep], columns["rsid"][keep],
            columns["nea"][keep], columns["ea"][keep], strict=True,
        ):  # fmt: skip
            key = (int(chrom), int(pos), str(rsid), frozenset((str(nea), str(ea))))
            orientations = seen.setdefault(key, {})
            orientations[(str(nea), str(ea))] = orientations.get((str(nea), str(ea)), 0) + 1
        rows = []
        for (chrom, pos, rsid, _), orientations in sorted(seen.items(), key=lambda i: i[0][:3]):
            ref, alt = max(sorted(orientations), key=lambda o: orientations[o])
            rows.append(
                {"rsid": rsid or None, "chr": chrom_name(chrom), "pos": pos, "ref": ref, "alt": alt}
            )
        return rows

    def gene(self, name: str) -> tuple[Locus, str] | None:
        """A gene of the GWAS annotation by symbol or ID: its locus and its ID."""
        if not self._exists(_layout.GENES):
            return None
        for key in {name, name.upper()}:
            result = self._read_ranges(_layout.GENES, [[(key, key)]])
            if len(result["chrom"]):
                locus = Locus(
                    int(result["chrom"][0]), int(result["start"][0]), int(result["end"][0])
                )
                return locus, str(result["gene_id"][0])
        return None

    # Arrays --------------------------------------------------------------------------

    def _exists(self, name: str) -> bool:
        import tiledb

        uri = _layout.gwas_uri(self.store.root, name)
        with unavailable_on_tiledb_error(f"checking {uri}"):
            return uri in self._shared or tiledb.object_type(uri, ctx=self.store.ctx) == "array"

    def _read_ranges(
        self, name: str, ranges: list[Any], min_lp: float | None = None
    ) -> dict[str, Any]:
        """The cells of a shared array in the ranges (one list per dimension), with
        ``lp >= min_lp`` when given."""

        def read(array: tiledb.Array) -> dict[str, Any]:
            return dict(array.multi_index[tuple(ranges)])

        result = self._read_shared(name, read)
        if min_lp is None:
            return result
        # Filtered here, not by a TileDB query condition: tiledb-py opens the array again
        # for every query that has one (three more S3 requests per read).
        import numpy as np

        keep = np.asarray(result["lp"]) >= min_lp
        return {k: np.asarray(v)[keep] for k, v in result.items()}

    def _read_shared(self, name: str, read: Callable[[tiledb.Array], T]) -> T:
        """Read a shared array from a handle that holds every listed study's rows; a handle
        whose fragments were vacuumed meanwhile is reopened and the read tried once more."""
        import tiledb

        try:
            return read(self._shared_array(name))
        except tiledb.TileDBError:
            self._shared.pop(_layout.gwas_uri(self.store.root, name), None)
        with unavailable_on_tiledb_error(f"reading gwas/{name}"):
            return read(self._shared_array(name))

    def open_ahead(self, *reads: Read, tophits_p: float = 5e-8) -> None:
        """Start opening the arrays a request is about to read (on S3 an open is a dozen
        requests), so that a cold reader opens them while it lists the catalogue:
        ``positions`` (associations, PheWAS, variants), ``rsids`` (rsids to positions),
        ``tophits`` (the array :meth:`tophits` reads for ``tophits_p``)."""
        for read in reads:
            name = _tophits_array(_lp(tophits_p)) if read == "tophits" else _ARRAYS_READ[read]
            uri = _layout.gwas_uri(self.store.root, name)
            pool = self._background()
            with self._lock:
                if uri not in self._shared and uri not in self._opening:
                    self._opening[uri] = pool.submit(self._open, uri)

    def _shared_array(self, name: str) -> tiledb.Array:
        """The held handle if it holds every listed study's rows (opened after
        ``_rows_since``) and is younger than the TTL; else it is reopened."""
        uri = _layout.gwas_uri(self.store.root, name)
        with self._lock:
            pending = self._opening.pop(uri, None)
        if pending is not None:
            try:
                opened = pending.result()
            except Exception:
                opened = None
            if opened is not None:
                with self._lock:
                    self._shared.setdefault(uri, opened)
        with self._lock:
            held = self._shared.get(uri)
            if held and held.holds(self._rows_since, self.store.settings.release_ttl_seconds):
                return held.array
            with unavailable_on_tiledb_error(f"opening gwas/{name}"):
                if held:
                    held.array.reopen()
                    fresh = _Handle(held.array, time.monotonic(), time.time())
                else:
                    fresh = self._open(uri)
            self._shared[uri] = fresh
            return fresh.array

    def _open(self, uri: str) -> _Handle:
        import tiledb

        opened_at, since = time.monotonic(), time.time()
        array = tiledb.open(uri, mode="r", ctx=self.store.scattered_ctx)
        return _Handle(array, opened_at, since)

    def _background(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gwas-open")
            return self._pool


@dataclass(frozen=True)
class _Handle:
    """An open shared array and when its opening began (monotonic, and wall clock: study
    records carry the wall time of their commit)."""

    array: tiledb.Array
    opened_at: float
    since: float

    def holds(self, rows_since: float, ttl: float) -> bool:
        return self.since >= rows_since and time.monotonic() - self.opened_at < ttl


def _rows_since(studies: Iterable[Study], listed: float) -> float:
    """The wall time after which an opened array holds every one of these studies' rows.
    A study's rows are committed before its record, so an array opened after the listing
    holds them; so does one opened after the newest record's commit time (plus a margin for
    clocks), which lets a cold reader open arrays while it lists."""
    committed = [s.committed for s in studies]
    if not committed:
        return 0.0
    if any(c is None for c in committed):
        return listed
    newest = max(c for c in committed if c is not None)
    return min(listed, newest + 1.0 + CLOCK_SKEW_SECONDS)  # "committed" is whole seconds


def _base(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _lp(max_p: float) -> float:
    import math

    return -math.log10(max_p)


def _tophits_array(min_lp: float) -> str:
    # Hits are a few rows of a study kept apart: a study's every row is megabytes.
    return _layout.HITS if min_lp >= HITS_MIN_LP else _layout.BY_STUDY


def _decoded(result: dict[str, Any]) -> dict[str, np.ndarray]:
    """Query result -> columns, the locus key split into ``chrom`` and ``pos``."""
    import numpy as np

    columns = {k: np.asarray(v) for k, v in result.items()}
    columns["chrom"], columns["pos"] = split_locus(columns.pop("locus"))
    return columns


def _kept(columns: dict[str, np.ndarray], loci: Sequence[Locus]) -> np.ndarray:
    """Rows matching a locus by place, and by rsid when the locus names one. Point loci
    with an rsid (how rsids are located) are matched by a set lookup, places by masks:
    a proxy lookup asks for thousands of loci."""
    import numpy as np

    chrom, pos, rsid = columns["chrom"], columns["pos"], columns["rsid"]
    named = {(x.chrom, x.start, x.rsid) for x in loci if x.rsid and x.start == x.end}
    keep = np.zeros(len(pos), dtype=bool)
    if named:
        triples = zip(chrom.tolist(), pos.tolist(), rsid.tolist(), strict=True)
        keep |= np.fromiter((t in named for t in triples), dtype=bool, count=len(pos))
    for x in loci:
        if x.rsid and x.start == x.end:
            continue
        place = (chrom == x.chrom) & (pos >= x.start) & (pos <= x.end)
        keep |= place & (rsid == x.rsid) if x.rsid else place
    return keep


def _records(columns: dict[str, np.ndarray], studies: Sequence[Study], order: str) -> list[dict]:
    """Rows -> OpenGWAS association records for the given studies (rows of other slots are
    dropped: a study that is not visible, or not committed, has no rows). Columns are
    turned into Python lists once: per-cell numpy access costs 25 us a record."""
    import numpy as np

    if not columns or not len(columns.get("pos", ())):
        return []
    rank = np.full(int(max(s.slot for s in studies)) + 1, -1, dtype=np.int64)
    for i, study in enumerate(studies):
        rank[study.slot] = i
    slots = np.asarray(columns["slot"]).astype(np.int64)
    known = slots < len(rank)
    known[known] = rank[slots[known]] >= 0
    cols = {k: np.asarray(v)[known] for k, v in columns.items()}
    study_rank = rank[cols["slot"].astype(np.int64)]
    if order == "p":
        index = np.lexsort((-cols["lp"], study_rank))
    else:
        index = np.lexsort((cols["pos"], cols["chrom"], study_rank))
    ordered = {k: v[index] for k, v in cols.items()}
    ordered["p"] = 10.0 ** -ordered["lp"]
    as_lists = {k: v.tolist() for k, v in ordered.items()}
    ids, traits = [s.id for s in studies], [s.trait for s in studies]
    names = {int(c): chrom_name(c) for c in set(as_lists["chrom"])}
    return [
        {
            "id": ids[r],
            "trait": traits[r],
            "chr": names[chrom],
            "position": pos,
            "rsid": str(rsid),
            "ea": str(ea),
            "nea": str(nea),
            "eaf": None if eaf != eaf else eaf,
            "beta": beta,
            "se": se,
            "p": p,
            "n": None if n != n else n,
        }
        for r, chrom, pos, rsid, ea, nea, eaf, beta, se, p, n in zip(
            study_rank[index].tolist(), *(as_lists[k] for k in _RECORD_COLUMNS), strict=True
        )
    ]


_RECORD_COLUMNS = ("chrom", "pos", "rsid", "ea", "nea", "eaf", "beta", "se", "p", "n")


_readers: dict[int, GwasStore] = {}


def get_gwas(store: DataStore | None = None) -> GwasStore:
    """The reader of the store's GWAS catalogue, one per store (per container)."""
    store = store or get_store()
    reader = _readers.get(id(store))
    if reader is None or reader.store is not store:
        reader = _readers[id(store)] = GwasStore(store)
    return reader


def reset_gwas() -> None:
    _readers.clear()
