"""RNAget continuous signal: tracks x positions, read straight from TileDB.

Layout under the data URI (written by :mod:`omicsgate.ingest.continuous`):

    rnaget/continuous/<ID>.json                    record: the commit point of one matrix
    rnaget/continuous/attempts/<attempt>/c<i>      one dense array per chromosome

Each chromosome's array is dense on (track, position), float32, NaN where nothing was
measured, zstd-compressed, tiles of :data:`TRACK_TILE` tracks by :data:`POSITION_TILE`
positions; only tiles holding data are written, so a region over empty tiles reads
nothing and answers NaN. Positions are 0-based; a region is ``[start, end)``.

A continuous matrix belongs to a study (hosted or of a release) and is visible exactly
when its study is: a restricted release's matrices do not exist for anyone outside its
groups. Its tags are its study's; its project is its study's parent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from omicsgate.auth import Caller
from omicsgate.rnaget import _records, catalog
from omicsgate.storage import DataStore
from omicsgate.storage._layout import join
from omicsgate.storage._store import unavailable_on_tiledb_error

if TYPE_CHECKING:
    import numpy as np
    import tiledb

CONTINUOUS_DIR = "continuous"
ATTEMPTS_DIR = "attempts"
TRACK_TILE = 16
POSITION_TILE = 4096
# RNAget's start/end are int32: a chromosome of unknown length gets the whole int32 range.
MAX_POSITION = 2**31 - 1
# One answer holds at most this many positions (columns) and cells. RNAget gives every base
# its own column: 10^6 positions is a 1 Mb window, and 2 * 10^7 float32 cells (80 MB) is
# what a Lambda builds into a loom or TSV without running out of memory; the answer then
# goes through a ticket (S3), never the 6 MB response.
MAX_POSITIONS = 1_000_000
MAX_CELLS = 20_000_000
# name -> (fieldType, description): what /continuous/ticket|bytes filter on.
FILTERS = {
    "version": ("string", "version to search for"),
    "tags": ("string", "tag to search for (a matrix has its study's tags)"),
    "studyID": ("string", "ID of the study the matrix belongs to"),
    "projectID": ("string", "ID of the project the matrix's study belongs to"),
}
Obj = dict[str, Any]


class RegionError(ValueError):
    """A region or track selection the matrices cannot answer; names the parameter."""

    def __init__(self, parameter: str, problem: str, status: int = 400) -> None:
        super().__init__(problem)
        self.parameter, self.problem, self.status = parameter, problem, status


def continuous_uri(root: str, *parts: str) -> str:
    return join(root, catalog.CATALOG_DIR, CONTINUOUS_DIR, *parts)


def record_uri(root: str, continuous_id: str) -> str:
    return continuous_uri(root, f"{continuous_id}.json")


def canonical_chromosome(name: str) -> str:
    """RNAget names references ``chr?``: ``1`` is stored and served as ``chr1``."""
    return name if name.lower().startswith("chr") else f"chr{name}"


# Records -------------------------------------------------------------------------------

_arrays: dict[str, tiledb.Array] = {}
_lock = threading.Lock()


def records(store: DataStore) -> list[Obj]:
    """Every committed record, by ID; listed again at most once per release TTL."""
    return _records.committed(store, continuous_uri(store.root))


def forget() -> None:
    """Drop the cached records (after an ingestion in the same process)."""
    _records.forget()


@dataclass(frozen=True)
class Continuous:
    """One committed matrix as a caller sees it: its record and its RNAget object."""

    record: Obj
    obj: Obj

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def tracks(self) -> list[str]:
        return list(self.record["tracks"])

    @property
    def chromosomes(self) -> dict[str, Obj]:
        return dict(self.record["chromosomes"])


def visible(store: DataStore, caller: Caller) -> list[Continuous]:
    """The matrices whose study the caller may see, in ID order."""
    studies = {s["id"]: s for s in catalog.studies(store, caller)}
    found = []
    for record in records(store):
        study = studies.get(record.get("study"))
        if study is not None:
            found.append(Continuous(record, _object(record, study)))
    return found


def one(store: DataStore, caller: Caller, continuous_id: str) -> Continuous | None:
    return next((c for c in visible(store, caller) if c.id == continuous_id), None)


def _object(record: Obj, study: Obj) -> Obj:
    obj: Obj = {
        "id": record["id"],
        "version": str(record.get("version") or "1.0"),
        "studyID": study["id"],
        "units": record.get("units") or "",
        "tags": list(study.get("tags") or []),
    }
    if study.get("parentProjectID"):
        obj["projectID"] = study["parentProjectID"]
    return obj


def search(found: list[Continuous], filters: dict[str, str]) -> list[Continuous]:
    """The matrices matching every filter exactly (UnknownFilter for a name not known)."""
    kept = {id(o) for o in catalog.search([c.obj for c in found], filters, FILTERS)}
    return [c for c in found if id(c.obj) in kept]


def filters(found: list[Continuous]) -> list[Obj]:
    return catalog.filters([c.obj for c in found], FILTERS)


# Regions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    chromosome: str
    start: int
    end: int  # exclusive


def regions(
    found: Sequence[Continuous], chromosome: str | None, start: int | None, end: int | None
) -> list[Region]:
    """What a request covers: the chromosome asked for (``[start, end)``; a missing bound
    is where the matrices' data begin or end), or every chromosome's data when none is."""
    if chromosome is None:
        names = _ordered(c for m in found for c in m.chromosomes)
        return [_region(found, name, None, None) for name in names]
    name = canonical_chromosome(chromosome)
    if not any(name in m.chromosomes for m in found):
        known = ", ".join(_ordered(c for m in found for c in m.chromosomes)) or "none"
        raise RegionError("chr", f"no data on {chromosome!r}; chromosomes: {known}")
    return [_region(found, name, start, end)]


def _ordered(names: Iterable[str]) -> list[str]:
    """Chromosomes in natural order: chr2 before chr10."""

    def key(name: str) -> tuple[int, int | str]:
        bare = name[3:] if name.lower().startswith("chr") else name
        return (0, int(bare)) if bare.isdigit() else (1, bare)

    return sorted(set(names), key=key)


def _region(found: Sequence[Continuous], name: str, start: int | None, end: int | None) -> Region:
    spans = [m.chromosomes[name] for m in found if name in m.chromosomes]
    lengths = [int(s["length"]) for s in spans if s.get("length")]
    first = start if start is not None else min(int(s["start"]) for s in spans)
    last = end if end is not None else max(int(s["end"]) for s in spans)
    if lengths and end is not None and end > max(lengths):
        raise RegionError("end", f"{name} has {max(lengths)} positions")
    if last <= first:
        parameter = "start" if start is not None else "end"
        raise RegionError(parameter, f"[{first}, {last}) on {name} is empty: no data there")
    return Region(name, first, last)


def check_size(regions_: Sequence[Region], tracks: int) -> None:
    """Refuse an answer larger than :data:`MAX_POSITIONS` / :data:`MAX_CELLS`."""
    positions = sum(r.end - r.start for r in regions_)
    parameter = "end" if len(regions_) == 1 else "chr"
    if positions > MAX_POSITIONS:
        raise RegionError(
            parameter,
            f"{positions} positions asked for; at most {MAX_POSITIONS} per answer "
            "(ask for a narrower chr, start and end)",
        )
    if positions * tracks > MAX_CELLS:
        raise RegionError(
            parameter,
            f"{positions} positions x {tracks} tracks; at most {MAX_CELLS} values per answer "
            "(ask for fewer positions or tracks with sampleIDList)",
        )


# Reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """Which tracks of which matrix make the answer's rows, in order."""

    matrix: Continuous
    indexes: list[int]
    names: list[str]


def rows(found: Sequence[Continuous], wanted: list[str] | None) -> list[Rows]:
    """Each matrix's rows: all its tracks, or those named in ``wanted`` (sampleIDList). An
    answer combining several matrices names each row ``<continuousID>/<track>``; a name
    in ``wanted`` may be either form. A name no matrix has is a 400."""
    qualify = len(found) > 1
    picked: list[Rows] = []
    seen: set[str] = set()
    for matrix in found:
        indexes, names = [], []
        for index, track in enumerate(matrix.tracks):
            full = f"{matrix.id}/{track}"
            if wanted is None or track in wanted or full in wanted:
                indexes.append(index)
                names.append(full if qualify else track)
                seen.update((track, full))
        if indexes:
            picked.append(Rows(matrix, indexes, names))
    missing = [w for w in wanted or [] if w not in seen]
    if missing:
        raise RegionError("sampleIDList", f"no track named {', '.join(missing)}")
    return picked


def read(store: DataStore, picked: Sequence[Rows], regions_: Sequence[Region]) -> Any:
    """The values as a :class:`omicsgate.rnaget.formats.Matrix`: rows are tracks (row
    attribute ``tracks``), columns positions (column attribute ``position``,
    ``"chr1:20"``). Only the tiles of the asked tracks and positions are read."""
    import numpy as np

    from omicsgate.rnaget.formats import Matrix

    width = sum(r.end - r.start for r in regions_)
    blocks = [_read_rows(store, p, regions_, width) for p in picked]
    values = np.concatenate(blocks) if blocks else np.zeros((0, width), dtype=np.float32)
    positions = [f"{r.chromosome}:{p}" for r in regions_ for p in range(r.start, r.end)]
    names = [n for p in picked for n in p.names]
    return Matrix(
        values,
        {"tracks": names},
        {"position": positions},
    )


def _read_rows(
    store: DataStore, picked: Rows, regions_: Sequence[Region], width: int
) -> np.ndarray:
    import numpy as np

    block = np.full((len(picked.indexes), width), np.nan, dtype=np.float32)
    column = 0
    for region in regions_:
        span = picked.matrix.chromosomes.get(region.chromosome)
        size = region.end - region.start
        if span is not None and size:
            array = _array(store, picked.matrix, str(span["array"]))
            ranges = [(i, i) for i in picked.indexes]
            with unavailable_on_tiledb_error(f"reading continuous {picked.matrix.id}"):
                found = array.multi_index[ranges, region.start : region.end - 1]["value"]
            block[:, column : column + size] = found
        column += size
    return block


def _array(store: DataStore, matrix: Continuous, name: str) -> tiledb.Array:
    """An open handle, kept: an attempt's arrays never change (re-ingestion writes a new
    attempt and a new record)."""
    uri = continuous_uri(store.root, str(matrix.record["attempt"]), name)
    with _lock:
        if uri not in _arrays:
            import tiledb

            with unavailable_on_tiledb_error(f"opening continuous {matrix.id}"):
                _arrays[uri] = tiledb.open(uri, mode="r", ctx=store.ctx)
        return _arrays[uri]
