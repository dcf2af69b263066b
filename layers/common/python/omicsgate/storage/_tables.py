"""Tables as sparse TileDB arrays: columns in, columns out.

A table is a sparse array whose dimensions are its lookup keys (strings or integers) and
whose attributes are the remaining columns. Duplicates are allowed so that one key can
hold many rows (exons of a gene, alleles at a position).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tiledb

Columns = Mapping[str, np.ndarray]
_INT_DOMAIN = (0, 2**40)


def _filters() -> tiledb.FilterList:
    return tiledb.FilterList([tiledb.ZstdFilter(level=7)])


def _dimension(name: str, values: np.ndarray, ctx: tiledb.Ctx) -> tiledb.Dim:
    if values.dtype.kind in "iu":
        return tiledb.Dim(
            name=name,
            domain=_INT_DOMAIN,
            tile=1_000_000,
            dtype=np.int64,
            ctx=ctx,
            filters=_filters(),
        )
    return tiledb.Dim(
        name=name, domain=(None, None), tile=None, dtype="ascii", ctx=ctx, filters=_filters()
    )


def _attribute(name: str, values: np.ndarray, ctx: tiledb.Ctx) -> tiledb.Attr:
    kind = values.dtype.kind
    if kind in "OUS":
        return tiledb.Attr(name=name, dtype=str, var=True, filters=_filters(), ctx=ctx)
    if kind == "b":
        return tiledb.Attr(name=name, dtype=np.uint8, filters=_filters(), ctx=ctx)
    return tiledb.Attr(name=name, dtype=values.dtype, filters=_filters(), ctx=ctx)


def _cell_values(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "US":
        return values.astype(object)
    if values.dtype.kind == "b":
        return values.astype(np.uint8)
    return values


def create_table(uri: str, dims: Sequence[str], columns: Columns, ctx: tiledb.Ctx) -> None:
    domain = tiledb.Domain(*[_dimension(d, columns[d], ctx) for d in dims], ctx=ctx)
    attrs = [_attribute(n, v, ctx) for n, v in columns.items() if n not in dims]
    schema = tiledb.ArraySchema(
        domain=domain,
        attrs=attrs,
        sparse=True,
        allows_duplicates=True,
        ctx=ctx,
        capacity=10_000,
    )
    tiledb.Array.create(uri, schema, ctx=ctx)


def append_rows(uri: str, dims: Sequence[str], columns: Columns, ctx: tiledb.Ctx) -> None:
    coords = [_cell_values(np.asarray(columns[d])) for d in dims]
    data = {n: _cell_values(np.asarray(v)) for n, v in columns.items() if n not in dims}
    with tiledb.open(uri, "w", ctx=ctx) as array:
        array[tuple(coords)] = data


def write_table(uri: str, dims: Sequence[str], columns: Columns, ctx: tiledb.Ctx) -> None:
    create_table(uri, dims, columns, ctx)
    append_rows(uri, dims, columns, ctx)


def consecutive_runs(coords: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted coordinates as inclusive ranges of consecutive ones: the fewest ranges of a
    multi-range TileDB query that reads exactly them."""
    runs: list[tuple[int, int]] = []
    for c in coords:
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return runs


def as_columns(result: Mapping[str, Any], schema: tiledb.ArraySchema) -> dict[str, np.ndarray]:
    """Decode a query result: ASCII dimensions to str, uint8 flags kept as stored."""
    out: dict[str, np.ndarray] = {}
    for name, values in result.items():
        if schema.domain.has_dim(name) and schema.domain.dim(name).dtype.kind in "SO":
            values = np.array(
                [v.decode() if isinstance(v, bytes) else v for v in values], dtype=object
            )
        out[name] = values
    return out


def read_all(array: tiledb.Array) -> dict[str, np.ndarray]:
    return as_columns(array[:], array.schema)


def read_points(array: tiledb.Array, points: Sequence[Sequence[Any]]) -> dict[str, np.ndarray]:
    """Rows whose coordinates take one of the listed values on each given dimension."""
    if not all(points):
        return {name: np.array([], dtype=object) for name in _names(array.schema)}
    ranges = tuple(sorted({(value, value) for value in values}) for values in points)
    return as_columns(array.multi_index[ranges], array.schema)


def _names(schema: tiledb.ArraySchema) -> list[str]:
    dims = [schema.domain.dim(i).name for i in range(schema.domain.ndim)]
    return dims + [schema.attr(i).name for i in range(schema.nattr)]


CONSOLIDATION_MODES = ("fragments", "fragment_meta")
# TileDB sizes consolidation buffers from sm.mem.total_budget (10 GB by default): 20 small
# fragments then cost 1.8 GB and 4.7 s; with 256 MB, 240 MB and 0.2 s.
CONSOLIDATION_MEMORY = {
    "sm.mem.total_budget": str(256 * 2**20),
    "sm.consolidation.buffer_size": str(8 * 2**20),
}


def consolidate(
    uri: str,
    ctx: tiledb.Ctx,
    modes: Sequence[str] = CONSOLIDATION_MODES,
    extra: Mapping[str, str] | None = None,
) -> None:
    """Merge fragments, then fragment metadata (the modes asked for), and drop what was
    merged. ``extra``: more consolidation settings."""
    for mode in modes:
        settings = {"sm.consolidation.mode": mode, "sm.vacuum.mode": mode}
        config = tiledb.Config({**CONSOLIDATION_MEMORY, **settings, **(extra or {})})
        tiledb.consolidate(uri, config=config, ctx=ctx)
        tiledb.vacuum(uri, config=config, ctx=ctx)
