"""``omicsgate ingest continuous``: signal tracks into TileDB (see
:mod:`omicsgate.rnaget.continuous` for the layout and how it is served).

Sources, one matrix of tracks x positions per ingestion:

- bigWig, one file per track (``--bigwig NAME=FILE``), read with pyBigWig (ingestion only:
  the Lambda never imports it);
- bedGraph, one file per track (``--bedgraph NAME=FILE``): ``chrom start end value``
  lines (0-based, end exclusive), ``track``/``browser``/``#`` lines skipped; a malformed
  line stops the ingestion with ``file:line: field NAME: problem``;
- loom (``--loom FILE``): row attribute ``tracks``, column attribute ``position``
  (``"chr1:20"``), as the RNAget compliance suite's ``continuous.loom``.

The arrays are written into an attempt directory of their own; the record
``rnaget/continuous/<ID>.json`` written atomically after them is the commit point. A
failed or killed ingestion leaves the previous version serving; a re-ingestion replaces it.
The replaced version's arrays stay one more generation (a warm Lambda may hold the old
record for up to a release TTL and must still find them); the next re-ingestion removes
them.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tiledb

from omicsgate.gwas.writer import _attempt_name, _leased
from omicsgate.ingest.errors import InputError
from omicsgate.rnaget import catalog
from omicsgate.rnaget import continuous as layout
from omicsgate.storage import DataStore, ReleaseNotFound
from omicsgate.storage._layout import join
from omicsgate.storage.writer import _remove_dir, write_json_atomically

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # a file name and a URL segment
# Positions written per TileDB write (one fragment): 256 tiles, 4 MB per track.
BLOCK_POSITIONS = 256 * layout.POSITION_TILE
Values = Callable[[int, str, int, int], np.ndarray]  # track, chromosome, start, end


@dataclass
class Source:
    """Tracks and, per chromosome, its length (None when the source does not say) and a
    function giving a track's values over ``[start, end)`` (NaN where there is none)."""

    tracks: list[str]
    lengths: dict[str, int | None]
    values: Values
    # Where data may be, per chromosome: (first, end). Defaults to the whole length.
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)


# Sources --------------------------------------------------------------------------------


def _named(text: str, option: str) -> tuple[str, str]:
    name, _, path = text.partition("=")
    if not name or not path:
        raise InputError(text, 0, option, "expected NAME=FILE")
    return name, path


def _unique(names: list[str], option: str) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise InputError(name, 0, option, "track named twice")
        seen.add(name)


def bigwig_source(pairs: list[str]) -> Source:
    import pyBigWig

    named = [_named(p, "--bigwig") for p in pairs]
    _unique([n for n, _ in named], "--bigwig")
    handles: list[Any] = []
    lengths: dict[str, int] = {}
    for _, path in named:
        if not Path(path).is_file():
            raise InputError(path, 0, "file", "missing")
        try:
            handle = pyBigWig.open(path)
        except RuntimeError as error:
            raise InputError(path, 0, "file", f"not a bigWig ({error})") from None
        if handle is None or not handle.isBigWig():
            raise InputError(path, 0, "file", "not a bigWig")
        handles.append(handle)
        for chrom, length in handle.chroms().items():
            lengths[chrom] = max(lengths.get(chrom) or 0, int(length))

    def values(track: int, chrom: str, start: int, end: int) -> np.ndarray:
        handle = handles[track]
        length = handle.chroms().get(chrom)
        out = np.full(end - start, np.nan, dtype=np.float32)
        if length and start < length:
            stop = min(end, int(length))
            out[: stop - start] = handle.values(chrom, start, stop, numpy=True)
        return out

    return Source([n for n, _ in named], dict(lengths), values)


@dataclass
class _Intervals:
    """One track's intervals on one chromosome, sorted by start."""

    starts: np.ndarray
    ends: np.ndarray
    values: np.ndarray


def _painter(tracks: list[dict[str, _Intervals]]) -> Values:
    def values(track: int, chrom: str, start: int, end: int) -> np.ndarray:
        out = np.full(end - start, np.nan, dtype=np.float32)
        found = tracks[track].get(chrom)
        if found is None:
            return out
        first = int(np.searchsorted(found.ends, start, side="right"))
        last = int(np.searchsorted(found.starts, end, side="left"))
        for s, e, v in zip(
            found.starts[first:last], found.ends[first:last], found.values[first:last], strict=True
        ):
            out[max(s, start) - start : min(e, end) - start] = v
        return out

    return values


def _spans(tracks: list[dict[str, _Intervals]]) -> dict[str, tuple[int, int]]:
    spans: dict[str, tuple[int, int]] = {}
    for track in tracks:
        for chrom, found in track.items():
            first, end = int(found.starts[0]), int(found.ends[-1])
            have = spans.get(chrom)
            spans[chrom] = (min(first, have[0]), max(end, have[1])) if have else (first, end)
    return spans


def bedgraph_source(pairs: list[str]) -> Source:
    named = [_named(p, "--bedgraph") for p in pairs]
    _unique([n for n, _ in named], "--bedgraph")
    tracks = [parse_bedgraph(path) for _, path in named]
    spans = _spans(tracks)
    return Source([n for n, _ in named], dict.fromkeys(spans), _painter(tracks), spans)


def parse_bedgraph(path: str) -> dict[str, _Intervals]:
    """One bedGraph track: intervals per chromosome (stored as ``chr?``), sorted; a
    malformed line or two overlapping intervals stop with file:line: field."""
    rows: dict[str, list[tuple[int, int, float, int]]] = {}
    for number, fields in _lines(path):
        if len(fields) != 4:
            raise InputError(path, number, "columns", f"{len(fields)} columns; expected 4")
        chrom, start, end, value = fields
        first = _position(path, number, "start", start)
        last = _position(path, number, "end", end)
        if last <= first:
            raise InputError(path, number, "end", f"{last} is not after start {first}")
        try:
            signal = float(value)
        except ValueError:
            raise InputError(path, number, "value", f"{value!r} is not a number") from None
        if math.isinf(signal):
            raise InputError(path, number, "value", f"{value!r} is not finite")
        rows.setdefault(layout.canonical_chromosome(chrom), []).append(
            (first, last, signal, number)
        )
    if not rows:
        raise InputError(path, 0, "file", "no data lines")
    return {chrom: _sorted_intervals(path, found) for chrom, found in rows.items()}


def _lines(path: str) -> Iterator[tuple[int, list[str]]]:
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                text = line.strip()
                if not text or text.startswith(("#", "track", "browser")):
                    continue
                yield number, text.split()
    except FileNotFoundError:
        raise InputError(path, 0, "file", "missing") from None
    except UnicodeDecodeError:
        raise InputError(path, 0, "file", "not UTF-8 text") from None


def _position(path: str, number: int, name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(path, number, name, f"{text!r} is not an integer") from None
    if not 0 <= value <= layout.MAX_POSITION:
        raise InputError(path, number, name, f"{value} is outside 0..{layout.MAX_POSITION}")
    return value


def _sorted_intervals(path: str, found: list[tuple[int, int, float, int]]) -> _Intervals:
    found.sort()
    for before, after in itertools.pairwise(found):
        if after[0] < before[1]:
            raise InputError(path, after[3], "start", f"overlaps the interval of line {before[3]}")
    return _Intervals(
        np.asarray([f[0] for f in found], dtype=np.int64),
        np.asarray([f[1] for f in found], dtype=np.int64),
        np.asarray([f[2] for f in found], dtype=np.float32),
    )


def loom_source(path: str) -> Source:
    """A loom of tracks (rows) x positions (columns, ``chr:pos``), h5py only."""
    import h5py

    try:
        with h5py.File(path, "r") as loom:
            matrix = np.asarray(loom["matrix"][:], dtype=np.float32)
            tracks = [_text(t) for t in loom["row_attrs/tracks"][:]]
            positions = [_text(p) for p in loom["col_attrs/position"][:]]
    except FileNotFoundError:
        raise InputError(path, 0, "file", "missing") from None
    except (OSError, KeyError) as error:
        raise InputError(path, 0, "loom", f"not a continuous loom ({error})") from None
    if matrix.shape != (len(tracks), len(positions)):
        raise InputError(path, 0, "matrix", f"{matrix.shape} for {len(tracks)} x {len(positions)}")
    _unique(tracks, "tracks")
    by_chrom: dict[str, list[tuple[int, int]]] = {}
    for column, text in enumerate(positions):
        chrom, _, pos = text.rpartition(":")
        number = _position(path, column + 1, "position", pos) if chrom else -1
        if number < 0:
            raise InputError(path, column + 1, "position", f"{text!r} is not chr:position")
        by_chrom.setdefault(layout.canonical_chromosome(chrom), []).append((number, column))
    per_track: list[dict[str, _Intervals]] = [{} for _ in tracks]
    for chrom, columns in by_chrom.items():
        columns.sort()
        at = np.asarray([p for p, _ in columns], dtype=np.int64)
        cols = [c for _, c in columns]
        for row in range(len(tracks)):
            per_track[row][chrom] = _Intervals(at, at + 1, matrix[row, cols])
    spans = _spans(per_track)
    return Source(tracks, dict.fromkeys(spans), _painter(per_track), spans)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# Writing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Meta:
    continuous_id: str
    study: str
    units: str = ""
    version: str = "1.0"
    source: str = ""


def check_study(store: DataStore, study_id: str) -> None:
    """The study must exist (hosted, or a tissue of a release, whatever its access)."""
    hosted = {s["id"] for s in catalog.hosted(store)["studies"]}
    release, separator, _ = study_id.partition(catalog.STUDY_SEPARATOR)
    if study_id in hosted:
        return
    if separator:
        try:
            store.resolve(release)
            if any(s["id"] == study_id for s in catalog.release_studies(store, release)):
                return
        except (ReleaseNotFound, ValueError):
            pass
    raise InputError(study_id, 0, "--study", "no such study (hosted or of a release)")


def write_continuous(store: DataStore, meta: Meta, source: Source) -> dict[str, Any]:
    """Store the source as matrix ``meta.continuous_id`` (replacing any) and return its
    record, the commit point."""
    if not _ID.match(meta.continuous_id):
        raise InputError(meta.continuous_id, 0, "--id", "not a slash-free ID")
    check_study(store, meta.study)
    uri = layout.record_uri(store.root, meta.continuous_id)
    previous = store.read_json(uri)
    attempt = f"{layout.ATTEMPTS_DIR}/{_attempt_name()}"
    attempt_uri = layout.continuous_uri(store.root, attempt)
    vfs = store.vfs()
    base = layout.continuous_uri(store.root, layout.ATTEMPTS_DIR)
    if not base.startswith("s3://") and not vfs.is_dir(base):
        vfs.create_dir(base)
    with _leased(store, attempt_uri, attempt) as leased:
        chromosomes = _write_arrays(store, attempt_uri, source)
        if not chromosomes:
            raise InputError(meta.source or meta.continuous_id, 0, "data", "no values at all")
        record = {
            "id": meta.continuous_id,
            "study": meta.study,
            "version": meta.version,
            "units": meta.units,
            "attempt": attempt,
            "tracks": source.tracks,
            "chromosomes": chromosomes,
            "source": meta.source,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            # Kept one generation: a warm reader may hold the old record for a release TTL.
            "previous": previous.get("attempt") if isinstance(previous, dict) else None,
        }
        write_json_atomically(store, uri, record)
        leased.committed = True
    stale = previous.get("previous") if isinstance(previous, dict) else None
    if stale and stale not in (attempt, record["previous"]):
        _remove_dir(store, layout.continuous_uri(store.root, str(stale)))
    layout.forget()
    return record


def _write_arrays(store: DataStore, base: str, source: Source) -> dict[str, dict[str, Any]]:
    chromosomes: dict[str, dict[str, Any]] = {}
    for index, chrom in enumerate(sorted(source.lengths)):
        length = source.lengths[chrom]
        span = source.spans.get(chrom) or (0, int(length or 0))
        name = f"c{index}"
        extent = _write_chromosome(store, join(base, name), source, chrom, length, span)
        if extent is not None:
            served = layout.canonical_chromosome(chrom)
            entry: dict[str, Any] = {"array": name, "start": extent[0], "end": extent[1]}
            if length:
                entry["length"] = int(length)
            chromosomes[served] = entry
    return chromosomes


def _write_chromosome(
    store: DataStore,
    uri: str,
    source: Source,
    chrom: str,
    length: int | None,
    span: tuple[int, int],
) -> tuple[int, int] | None:
    """Write the tiles holding data; the data's extent ``(first, end)``, None if none."""
    ctx = store.ctx
    created = False
    extent: tuple[int, int] | None = None
    tile = layout.POSITION_TILE
    for block_start in range(span[0] - span[0] % tile, span[1], BLOCK_POSITIONS):
        block_end = min(block_start + BLOCK_POSITIONS, span[1] + (-span[1]) % tile)
        if length:
            block_end = min(block_end, length)
        values = np.stack(
            [source.values(t, chrom, block_start, block_end) for t in range(len(source.tracks))]
        )
        has = ~np.isnan(values).all(axis=0)
        if not has.any():
            continue
        if not created:
            _create(uri, ctx, len(source.tracks), length)
            created = True
        where = np.flatnonzero(has)
        first, end = block_start + int(where[0]), block_start + int(where[-1]) + 1
        extent = (first, end) if extent is None else (extent[0], end)
        with tiledb.open(uri, "w", ctx=ctx) as array:
            for run_start, run_end in _tile_runs(has, block_start):
                a, b = run_start - block_start, run_end - block_start
                array[0 : len(source.tracks), run_start:run_end] = values[:, a:b]
    if created:
        tiledb.consolidate(
            uri, ctx=ctx, config=tiledb.Config({"sm.consolidation.mode": "fragment_meta"})
        )
    return extent


def _tile_runs(has: np.ndarray, offset: int) -> list[tuple[int, int]]:
    """Runs of consecutive tiles holding data, as ``[start, end)`` positions."""
    tile = layout.POSITION_TILE
    pad = (-len(has)) % tile
    tiles = np.concatenate([has, np.zeros(pad, dtype=bool)]).reshape(-1, tile).any(axis=1)
    runs, start = [], None
    for index, full in enumerate([*tiles.tolist(), False]):
        if full and start is None:
            start = index
        elif not full and start is not None:
            runs.append((offset + start * tile, offset + min(index * tile, len(has))))
            start = None
    return runs


def _create(uri: str, ctx: tiledb.Ctx, tracks: int, length: int | None) -> None:
    last = (length or layout.MAX_POSITION) - 1
    dims = [
        tiledb.Dim(
            "track",
            domain=(0, tracks - 1),
            tile=min(tracks, layout.TRACK_TILE),
            dtype=np.uint64,
            ctx=ctx,
        ),
        tiledb.Dim(
            "position",
            domain=(0, last),
            tile=min(layout.POSITION_TILE, last + 1),
            dtype=np.uint64,
            ctx=ctx,
        ),
    ]
    attr = tiledb.Attr(
        "value",
        dtype=np.float32,
        fill=np.float32(np.nan),
        filters=tiledb.FilterList([tiledb.ZstdFilter(level=5)]),
        ctx=ctx,
    )
    schema = tiledb.ArraySchema(domain=tiledb.Domain(*dims, ctx=ctx), attrs=[attr], ctx=ctx)
    tiledb.Array.create(uri, schema, ctx=ctx)


# The demo ------------------------------------------------------------------------------

DEMO_UNITS = "signal"


def demo_bigwig() -> str | None:
    """The real bigWig that ships in pyranges (read from the installed package, never
    copied): 154 bases of signal on chromosomes 1 and 10 of mm10. None without pyranges."""
    import importlib.util

    spec = importlib.util.find_spec("pyranges")  # finds the package without importing it
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "example_data" / "bw.bw"
        if path.is_file():
            return str(path)
    return None


def demo_continuous_id(release: str) -> str:
    return f"{release}-signal"


def build_demo_continuous(store: DataStore, release: str) -> str | None:
    """The pyranges bigWig as continuous ``<release>-signal`` of the release's first study
    (so it is exactly as visible as the release); None when pyranges is not installed."""
    import importlib.util

    path = demo_bigwig()
    studies = catalog.release_studies(store, release)
    if path is None or importlib.util.find_spec("pyBigWig") is None or not studies:
        return None
    meta = Meta(demo_continuous_id(release), studies[0]["id"], DEMO_UNITS, source=path)
    write_continuous(store, meta, bigwig_source([f"pyranges_bw={path}"]))
    return meta.continuous_id
