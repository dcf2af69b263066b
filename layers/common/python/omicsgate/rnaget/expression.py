"""RNAget expressions: which matrices exist, who may see them, and slices read from TileDB.

Two kinds of expression, both features (rows) x samples (columns), float32, NaN missing:

- **A tissue of a release.** Its ID is its study's, ``<release>:<tissue>``: a client lists
  the studies (``/studies?parentProjectID=<release>``) and uses their IDs. The values are
  the columns of the release's ``expression`` array that hold the tissue's samples
  (:mod:`omicsgate.portal.expression_schema`), in TPM; features are the release's genes
  with an expression row (``GeneID`` the release's gene ID, ``GeneName`` its symbol);
  columns carry the ``samples`` table's metadata (``Sample``, ``Tissue``, ``Subject``,
  ``Sex``, ``AgeBracket``). Visible exactly when its release is.
- **A hosted matrix** (``omicsgate ingest rnaget-compliance DIR`` hosts the suite's): a
  dense TileDB array under ``rnaget/expressions/attempts/<attempt>/matrix`` and its record
  ``rnaget/expressions/<ID>.json`` (the commit point, with the row and column attributes).
  It belongs to a hosted study, has that study's tags and is public.

A slice reads only the rows and columns asked for: one multi-range TileDB query per array
(the tissues of one release share one), never the whole matrix. Several expressions (a
search) are combined into one matrix: the union of their features (first seen first; NaN
where an expression lacks one) by the concatenation of their columns.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from omicsgate.auth import Caller
from omicsgate.portal import expression as portal
from omicsgate.portal import expression_schema as xs
from omicsgate.rnaget import _records, catalog
from omicsgate.rnaget.formats import Matrix, TsvLayout
from omicsgate.storage import DataStore, consecutive_runs
from omicsgate.storage._layout import join
from omicsgate.storage._store import unavailable_on_tiledb_error

if TYPE_CHECKING:
    import numpy as np
    import tiledb

EXPRESSIONS_DIR = "expressions"
ATTEMPTS_DIR = "attempts"
MATRIX_ARRAY = "matrix"
VALUE = "value"  # the attribute of a hosted array
# One answer holds at most this many values: 8e7 bytes of float32, what a 1 GB Lambda can
# turn into a loom or TSV (a 1,000-gene slice of all 17,382 GTEx v8 samples is 1.7e7).
MAX_CELLS = 20_000_000
# TileDB's dense reader holds state per (range, fragment): 1,000 random rows of a GTEx-size
# matrix (59 fragments, as ingestion writes them) peaked 1.6 GB above the 66 MB result in
# one query, 123 MB in queries of 25 rows. A query takes at most this many row x column runs.
RANGES_PER_QUERY = 32
ROW_ATTRS = ("GeneID", "GeneName")
# Column attributes in the order files list them; TSV headers join the first three that a
# matrix has, ", "-separated ("Sample, Condition, Tissue", as the RNAget suite reads them).
COLUMN_ATTRS = ("Sample", "Condition", "Tissue", "Subject", "Sex", "AgeBracket")
LABEL_ATTRS = COLUMN_ATTRS[:3]

# name -> (fieldType, description). Object filters choose expressions (searches only).
OBJECT_FILTERS = {
    "version": ("string", "version to search for"),
    "tags": ("string", "tag to search for (an expression has its study's tags)"),
    "studyID": ("string", "ID of the study the expression belongs to (= its ID for a release)"),
    "projectID": ("string", "ID of the project the expression's study belongs to"),
}
# Sample filters choose columns: name -> (column attribute, description).
SAMPLE_FILTERS = {
    "tissue": ("Tissue", "tissue of the sample"),
    "condition": ("Condition", "condition of the sample"),
    "sex": ("Sex", "sex of the sample's subject"),
    "ageBracket": ("AgeBracket", "age bracket of the sample's subject (e.g. 60-69)"),
    "subjectID": ("Subject", "ID of the sample's subject"),
}
FEATURE_FILTERS = {
    "featureIDList": ("string", "comma-separated feature IDs: only these rows"),
    "featureNameList": ("string", "comma-separated feature names: only these rows"),
    "feature_min_value": ("float", "drop every feature with a value below this"),
    "feature_max_value": ("float", "drop every feature with a value above this"),
}
Obj = dict[str, Any]


class SliceError(ValueError):
    """A selection that cannot be answered; names the parameter at fault."""

    def __init__(self, parameter: str | None, problem: str, status: int = 400) -> None:
        super().__init__(problem)
        self.parameter, self.problem, self.status = parameter, problem, status


def expressions_uri(root: str, *parts: str) -> str:
    return join(root, catalog.CATALOG_DIR, EXPRESSIONS_DIR, *parts)


def record_uri(root: str, expression_id: str) -> str:
    return expressions_uri(root, f"{expression_id}.json")


# Axes and sources ---------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One axis of a stored matrix: storage coordinates and a string attribute per entry."""

    coords: list[int]
    attrs: dict[str, list[str]]

    def take(self, positions: Sequence[int] | range) -> Axis:
        return Axis(
            [self.coords[p] for p in positions],
            {name: [values[p] for p in positions] for name, values in self.attrs.items()},
        )


class Source(Protocol):
    @property
    def array_key(self) -> str: ...  # sources of one array are read by one query

    def features(self, store: DataStore) -> Axis: ...
    def samples(self, store: DataStore) -> Axis: ...
    def array_samples(self, store: DataStore) -> Axis: ...  # of every source of its array
    def read(self, store: DataStore, rows: list[int], columns: list[int]) -> np.ndarray: ...


@dataclass(frozen=True)
class ReleaseTissue:
    release: str
    tissue: portal.Tissue

    @property
    def array_key(self) -> str:
        return f"release:{self.release}"

    def features(self, store: DataStore) -> Axis:
        return store.memo(self.release, "rnagetFeatures", lambda: _release_features(store, self))

    def samples(self, store: DataStore) -> Axis:
        every = self.array_samples(store)
        first = bisect.bisect_left(every.coords, self.tissue.start)
        return every.take(range(first, bisect.bisect_left(every.coords, self.tissue.end)))

    def array_samples(self, store: DataStore) -> Axis:
        """Every sample of the release, in column order (the tissues' samples together)."""
        return store.memo(self.release, "rnagetSamples", lambda: _release_samples(store, self))

    def read(self, store: DataStore, rows: list[int], columns: list[int]) -> np.ndarray:
        def query(array: tiledb.Array) -> np.ndarray:
            return _multi_range(array, portal.TPM, rows, columns)

        return store.read(self.release, xs.EXPRESSION, query)


def _release_features(store: DataStore, source: ReleaseTissue) -> Axis:
    """The release's genes with an expression row, in row order."""
    genes = sorted(
        (g for g in portal.index(store, source.release).genes.values() if g.row >= 0),
        key=lambda g: g.row,
    )
    return Axis(
        [g.row for g in genes],
        {"GeneID": [g.gene_id for g in genes], "GeneName": [g.symbol for g in genes]},
    )


def _release_samples(store: DataStore, source: ReleaseTissue) -> Axis:
    """Every sample of the release in column order, with its metadata; the tissue is the
    release's tissue ID (the study's), found from the tissues' column ranges."""
    import numpy as np

    table = store.read_all(source.release, xs.SAMPLES)
    order = np.argsort(np.asarray(table["column"]), kind="stable").tolist()
    columns = [int(table["column"][i]) for i in order]
    tissues = portal.index(store, source.release).tissues
    tissue_of = {c: t.tissue_id for t in tissues if t.has_expression for c in range(t.start, t.end)}

    def strings(name: str) -> list[str]:
        return [str(table[name][i]) for i in order]

    return Axis(
        columns,
        {
            "Sample": strings("sampleId"),
            "Tissue": [tissue_of.get(c, "") for c in columns],
            "Subject": strings("subjectId"),
            "Sex": strings("sex"),
            "AgeBracket": strings("ageBracket"),
        },
    )


@dataclass(frozen=True)
class HostedMatrix:
    record: Obj = field(hash=False, compare=False)
    uri: str

    @property
    def array_key(self) -> str:
        return f"hosted:{self.uri}"

    def features(self, store: DataStore) -> Axis:
        rows = self.record["rows"]
        return Axis(list(range(len(rows["GeneID"]))), {n: list(rows[n]) for n in ROW_ATTRS})

    def samples(self, store: DataStore) -> Axis:
        columns = self.record["columns"]
        count = len(columns["Sample"])
        return Axis(list(range(count)), {n: list(v) for n, v in columns.items()})

    def array_samples(self, store: DataStore) -> Axis:
        return self.samples(store)

    def read(self, store: DataStore, rows: list[int], columns: list[int]) -> np.ndarray:
        array = _hosted_array(store, self.uri)
        with unavailable_on_tiledb_error(f"reading {self.uri}"):
            return _multi_range(array, VALUE, rows, columns)


_arrays: dict[str, tiledb.Array] = {}
_lock = threading.Lock()


def _hosted_array(store: DataStore, uri: str) -> tiledb.Array:
    """Open once per container (an attempt's array never changes)."""
    with _lock:
        if uri not in _arrays:
            import tiledb

            with unavailable_on_tiledb_error(f"opening {uri}"):
                _arrays[uri] = tiledb.open(uri, mode="r", ctx=store.ctx)
        return _arrays[uri]


def _multi_range(array: tiledb.Array, attr: str, rows: list[int], columns: list[int]) -> np.ndarray:
    """The rows x columns block (both sorted ascending) by multi-range queries of at most
    :data:`RANGES_PER_QUERY` row x column runs each, written into one result."""
    import numpy as np

    block = np.empty((len(rows), len(columns)), dtype=np.float32)
    if not rows or not columns:
        return block
    column_runs = consecutive_runs(columns)
    row_runs = consecutive_runs(rows)
    step = max(1, RANGES_PER_QUERY // len(column_runs))
    at = 0
    for first in range(0, len(row_runs), step):
        group = row_runs[first : first + step]
        height = sum(end - start + 1 for start, end in group)
        part = array.query(attrs=[attr]).multi_index[group, column_runs][attr]
        block[at : at + height] = np.asarray(part, dtype=np.float32).reshape(height, len(columns))
        at += height
    return block


# Expressions as callers see them --------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    id: str
    study_id: str
    project_id: str
    version: str
    tags: tuple[str, ...]
    units: str
    data_version: str  # changes whenever the values may have changed
    source: Source = field(compare=False)

    def fields(self) -> dict[str, Any]:
        """What object filters match against."""
        return {
            "version": self.version,
            "tags": list(self.tags),
            "studyID": self.study_id,
            "projectID": self.project_id,
        }


def _release_expressions(store: DataStore, release: str) -> list[Expression]:
    tissues = {t.tissue_id: t for t in portal.index(store, release).tissues}
    found = []
    for study in catalog.release_studies(store, release):
        tissue = tissues[study["id"].partition(catalog.STUDY_SEPARATOR)[2]]
        found.append(
            Expression(
                study["id"],
                study["id"],
                release,
                study["version"],
                tuple(study.get("tags") or ()),
                portal.UNIT,
                f"release:{release}",  # a release is immutable
                ReleaseTissue(release, tissue),
            )
        )
    return found


def records(store: DataStore) -> list[Obj]:
    """Every committed hosted record; listed again at most once per release TTL."""
    return _records.committed(store, expressions_uri(store.root))


def forget() -> None:
    """Drop the cached records (after an ingestion in the same process)."""
    _records.forget()


def _hosted_expressions(store: DataStore) -> list[Expression]:
    studies = {s["id"]: s for s in catalog.hosted(store)["studies"]}
    found = []
    for record in records(store):
        study = studies.get(record["study"])
        if study is None:
            continue  # its study is gone: so is the expression
        uri = expressions_uri(store.root, record["attempt"], MATRIX_ARRAY)
        found.append(
            Expression(
                record["id"],
                study["id"],
                str(study.get("parentProjectID") or ""),
                str(record.get("version") or catalog.RELEASE_VERSION),
                tuple(study.get("tags") or ()),
                str(record["units"]),
                str(record["attempt"]),
                HostedMatrix(record, uri),
            )
        )
    return found


def visible(store: DataStore, caller: Caller) -> list[Expression]:
    """Every expression the caller may see: releases' (visible ones) first, then hosted;
    an ID taken by a release is not shadowed by a hosted matrix."""
    found: dict[str, Expression] = {}
    for release in catalog.visible_expression_releases(store, caller):
        for expression in _release_expressions(store, release):
            found.setdefault(expression.id, expression)
    for expression in _hosted_expressions(store):
        found.setdefault(expression.id, expression)
    return list(found.values())


def find(store: DataStore, caller: Caller, expression_id: str) -> Expression | None:
    """One expression, None when it does not exist or the caller may not see it."""
    release, separator, tissue = expression_id.partition(catalog.STUDY_SEPARATOR)
    if separator and tissue and catalog.study(store, caller, expression_id) is not None:
        visible_release = catalog.visible_release(store, caller, release)
        if visible_release is not None:
            for expression in _release_expressions(store, visible_release):
                if expression.id == expression_id:
                    return expression
    return next((e for e in _hosted_expressions(store) if e.id == expression_id), None)


def search(store: DataStore, caller: Caller, filters: Mapping[str, str]) -> list[Expression]:
    """The caller's expressions matching every object filter (UnknownFilter otherwise)."""
    pairs = [(e, e.fields()) for e in visible(store, caller)]
    matched = {id(f) for f in catalog.search([f for _, f in pairs], filters, OBJECT_FILTERS)}
    return [e for e, f in pairs if id(f) in matched]


def units(store: DataStore, caller: Caller) -> list[str]:
    return sorted({e.units for e in visible(store, caller)})


def filters(store: DataStore, caller: Caller, kind: str | None) -> list[Obj]:
    """``/expressions/filters``: ``sample`` filters (with the values of the caller's
    samples), ``feature`` filters, or without ``kind`` those and the object filters a
    search takes (with the values of the caller's expressions)."""
    found = visible(store, caller) if kind in (None, "sample") else []
    listed: list[Obj] = []
    if kind is None:
        listed += catalog.filters([e.fields() for e in found], OBJECT_FILTERS)
    if kind in (None, "sample"):
        listed += _sample_filters(store, found)
    if kind in (None, "feature"):
        listed += [
            {"filter": name, "fieldType": field_type, "description": description}
            for name, (field_type, description) in FEATURE_FILTERS.items()
        ]
    return listed


def _sample_filters(store: DataStore, found: Iterable[Expression]) -> list[Obj]:
    values: dict[str, set[str]] = {name: set() for name in SAMPLE_FILTERS}
    arrays = {e.source.array_key: e.source for e in found}  # a release's tissues: once
    for source in arrays.values():
        attrs = source.array_samples(store).attrs
        for name, (attr, _) in SAMPLE_FILTERS.items():
            values[name].update(v for v in attrs.get(attr, ()) if v)
    return [
        {
            "filter": name,
            "fieldType": "string",
            "description": description,
            "values": sorted(values[name]),
        }
        for name, (_, description) in SAMPLE_FILTERS.items()
        if values[name]
    ]


# Slicing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """What a request keeps: None means no restriction on that axis."""

    feature_ids: tuple[str, ...] | None = None
    feature_names: tuple[str, ...] | None = None
    sample_ids: tuple[str, ...] | None = None
    sample_filters: tuple[tuple[str, str], ...] = ()  # (filter name, value)
    min_value: float | None = None
    max_value: float | None = None

    def canonical(self) -> dict[str, Any]:
        return {
            "featureIDList": self.feature_ids,
            "featureNameList": self.feature_names,
            "sampleIDList": self.sample_ids,
            "samples": self.sample_filters,
            "min": self.min_value,
            "max": self.max_value,
        }

    def feature_positions(self, features: Axis) -> list[int]:
        ids = set(self.feature_ids) if self.feature_ids is not None else None
        names = set(self.feature_names) if self.feature_names is not None else None
        return [
            i
            for i, (gene_id, name) in enumerate(
                zip(features.attrs["GeneID"], features.attrs["GeneName"], strict=True)
            )
            if (ids is None or gene_id in ids) and (names is None or name in names)
        ]

    def sample_positions(self, samples: Axis) -> list[int]:
        """A sample filter on an attribute the matrix lacks keeps none of its samples."""
        count = len(samples.coords)
        kept: Sequence[int] = range(count)
        if self.sample_ids is not None:
            wanted = set(self.sample_ids)
            kept = [i for i in kept if samples.attrs["Sample"][i] in wanted]
        for name, value in self.sample_filters:
            values = samples.attrs.get(SAMPLE_FILTERS[name][0])
            kept = [i for i in kept if values is not None and values[i] == value]
        return list(kept)


def check_bounds(min_value: float | None, max_value: float | None) -> None:
    for name, value in (("feature_min_value", min_value), ("feature_max_value", max_value)):
        if value is not None and not math.isfinite(value):
            raise SliceError(name, f"{value} is not a finite number")
    if min_value is not None and max_value is not None and min_value > max_value:
        raise SliceError("feature_min_value", f"{min_value} is above feature_max_value")


@dataclass
class _Part:
    """The columns of one array that a request keeps, from one or more expressions."""

    source: Source
    rows: Axis
    columns: list[Axis] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """What a slice will read: per array, the kept rows and each expression's kept columns."""

    chosen: tuple[Expression, ...]
    parts: tuple[_Part, ...]
    selection: Selection

    @property
    def cells(self) -> int:
        rows = len({i for p in self.parts for i in p.rows.attrs["GeneID"]})
        return rows * sum(len(c.coords) for p in self.parts for c in p.columns)


def plan(store: DataStore, chosen: Sequence[Expression], selection: Selection) -> Plan:
    """Which rows and columns the selection keeps (no values read); SliceError when the
    answer would exceed MAX_CELLS. An expression left without columns is left out."""
    parts: dict[str, _Part] = {}
    for expression in chosen:
        source = expression.source
        samples = source.samples(store)
        kept = samples.take(selection.sample_positions(samples))
        if not kept.coords:
            continue
        if source.array_key not in parts:
            features = source.features(store)
            rows = features.take(selection.feature_positions(features))
            parts[source.array_key] = _Part(source, rows)
        parts[source.array_key].columns.append(kept)
    found = Plan(tuple(chosen), tuple(parts.values()), selection)
    if found.cells > MAX_CELLS:
        raise SliceError(
            None,
            f"the selection holds {found.cells:,} values, more than the {MAX_CELLS:,} one "
            "answer holds: narrow it with featureIDList, sampleIDList or studyID",
        )
    return found


def read(store: DataStore, planned: Plan) -> tuple[Matrix, TsvLayout]:
    """The planned slice as one matrix (features x samples) and its TSV layout."""
    matrix = _combine([_read_part(store, part) for part in planned.parts])
    selection = planned.selection
    matrix = _bounded(matrix, selection.min_value, selection.max_value)
    return matrix, _layout(matrix, planned.chosen)


def slice_matrix(
    store: DataStore, chosen: Sequence[Expression], selection: Selection
) -> tuple[Matrix, TsvLayout]:
    return read(store, plan(store, chosen, selection))


def _read_part(store: DataStore, part: _Part) -> tuple[Axis, Axis, np.ndarray]:
    """One query for all the part's columns, then each expression's columns in its order."""
    import numpy as np

    wanted = sorted({c for axis in part.columns for c in axis.coords})
    block = part.source.read(store, part.rows.coords, wanted)
    position = {c: i for i, c in enumerate(wanted)}
    order = [position[c] for axis in part.columns for c in axis.coords]
    names = [n for n in COLUMN_ATTRS if any(n in axis.attrs for axis in part.columns)]
    attrs = {
        n: [v for axis in part.columns for v in axis.attrs.get(n, [""] * len(axis.coords))]
        for n in names
    }
    if order != list(range(len(wanted))):  # the columns as read are usually the answer's
        block = block[:, order]
    return part.rows, Axis(order, attrs), np.asarray(block, dtype=np.float32)


def _combine(blocks: list[tuple[Axis, Axis, np.ndarray]]) -> Matrix:
    """Rows: the union of feature IDs, first seen first; columns: each block's in turn."""
    import numpy as np

    if len(blocks) == 1:
        rows, columns, values = blocks[0]
        return Matrix(values, dict(rows.attrs), dict(columns.attrs))
    row_of: dict[str, int] = {}
    names: list[str] = []
    for rows, _, _ in blocks:
        for gene_id, name in zip(rows.attrs["GeneID"], rows.attrs["GeneName"], strict=True):
            if gene_id not in row_of:
                row_of[gene_id] = len(names)
                names.append(name)
    width = sum(len(columns.coords) for _, columns, _ in blocks)
    values = np.full((len(names), width), np.nan, dtype=np.float32)
    column_names = [n for n in COLUMN_ATTRS if any(n in c.attrs for _, c, _ in blocks)]
    col_attrs: dict[str, list[str]] = {n: [] for n in column_names}
    at = 0
    for rows, columns, block in blocks:
        width = len(columns.coords)
        targets = [row_of[g] for g in rows.attrs["GeneID"]]
        values[targets, at : at + width] = block
        for n in column_names:
            col_attrs[n] += columns.attrs.get(n, [""] * width)
        at += width
    return Matrix(values, {"GeneID": list(row_of), "GeneName": names}, col_attrs)


def _bounded(matrix: Matrix, low: float | None, high: float | None) -> Matrix:
    """Drop every feature with a value outside [low, high] in any column of the answer;
    a missing value (NaN) is no value, so it never drops a feature."""
    import numpy as np

    if low is None and high is None:
        return matrix
    values = matrix.values
    with np.errstate(invalid="ignore"):
        outside = np.zeros(values.shape, dtype=bool)
        if low is not None:
            outside |= values < np.float32(low)
        if high is not None:
            outside |= values > np.float32(high)
    keep = np.flatnonzero(~outside.any(axis=1)).tolist()
    return Matrix(
        values[keep],
        {n: [v[i] for i in keep] for n, v in matrix.row_attrs.items()},
        matrix.col_attrs,
    )


def _layout(matrix: Matrix, chosen: Sequence[Expression]) -> TsvLayout:
    labels = [n for n in LABEL_ATTRS if n in matrix.col_attrs]
    count = matrix.shape[1]
    headers = [
        ", ".join(matrix.col_attrs[n][i] for n in labels) if labels else str(i)
        for i in range(count)
    ]
    ids = ", ".join(e.id for e in chosen)
    comments = (
        "RNAget expression matrix (OmicsGate)",
        f"expressions: {ids}",
        f"units: {', '.join(sorted({e.units for e in chosen}))}",
        f"rows: features; columns: samples, headed {', '.join(labels) or 'by position'}",
    )
    return TsvLayout(comments, ROW_ATTRS, tuple(headers))
