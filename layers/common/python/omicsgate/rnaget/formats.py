"""RNAget matrix files: TSV (streamed), loom 3 and h5ad (both HDF5 via
h5py, so neither loompy nor anndata/pandas is needed in the Lambda).

Shared by expressions and continuous. A :class:`Matrix` is float32 ``rows x columns`` (NaN:
no value) with string attributes per row and per column; what a row or column is depends
on the part (expressions: features x samples; continuous: tracks x positions).

- **tsv**: ``# `` comment lines, one header row (the row attribute columns, then one label
  per column), then one line per row; float32 values as their shortest decimal, ``NaN``.
- **loom**: loom 3.0.0 (``/matrix`` float32, ``/row_attrs``, ``/col_attrs``, ``/layers``,
  ``/row_graphs``, ``/col_graphs``, ``/attrs/LOOM_SPEC_VERSION``). Strings are ASCII with
  XML character references for anything else, as loompy writes and reads them.
- **h5ad**: AnnData's on-disk format 0.1.0 with ``X`` the matrix *as served* (rows = obs,
  columns = var), as RNAget 1.2 specifies ("features on the row axis"); ``obs``/``var`` hold
  the row/column attributes, indexed by the first of each. scanpy users want ``adata.T``.

HDF5 files are built in a temporary file and read back in chunks. numpy and h5py are
imported inside the writers: importing this module stays cheap.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import h5py
    import numpy as np

TSV = "tsv"
LOOM = "loom"
H5AD = "h5ad"
FORMATS = (LOOM, TSV, H5AD)
# Without ``format`` (the by-ID routes, where the spec has none), this one. The compliance
# suite reads the format of every later download from the first ticket's ``fileType``, for
# expressions and continuous alike: both parts must default to the same format.
DEFAULT_FORMAT = LOOM
MEDIA_TYPES = {
    TSV: "text/tab-separated-values",
    LOOM: "application/vnd.loom",
    H5AD: "application/octet-stream",  # no registered type; the spec's bytes routes list it
}
LOOM_SPEC_VERSION = "3.0.0"
NAN_TEXT = "NaN"
# Values formatted per chunk: a value's text costs ~130 bytes while formatted (numpy's
# fixed-width unicode, then a str), so a chunk stays near 10 MB however wide the matrix.
_TSV_BLOCK_CELLS = 65_536
_FILE_CHUNK_BYTES = 8 * 1024 * 1024  # an HDF5 file is read back in pieces of this size


@dataclass(frozen=True)
class Matrix:
    values: np.ndarray  # float32, rows x columns, NaN = missing
    row_attrs: dict[str, list[str]]
    col_attrs: dict[str, list[str]]

    @property
    def shape(self) -> tuple[int, int]:
        rows, columns = self.values.shape
        return int(rows), int(columns)


@dataclass(frozen=True)
class TsvLayout:
    """What a TSV file adds to a matrix: comment lines, the row attributes written as the
    first columns (in this order), and one header label per column."""

    comments: tuple[str, ...]
    row_columns: tuple[str, ...]
    column_labels: tuple[str, ...]


def file_chunks(matrix: Matrix, file_format: str, layout: TsvLayout) -> Iterator[bytes]:
    """The file of a format in FORMATS, in chunks."""
    if file_format == TSV:
        yield from tsv_chunks(matrix, layout.comments, layout.row_columns, layout.column_labels)
    elif file_format == LOOM:
        yield from hdf5_chunks(_write_loom, matrix)
    elif file_format == H5AD:
        yield from hdf5_chunks(_write_h5ad, matrix)
    else:
        raise ValueError(f"unknown format {file_format!r}; known: {', '.join(FORMATS)}")


def tsv_chunks(
    matrix: Matrix,
    comments: Sequence[str],
    row_columns: Sequence[str],
    column_labels: Sequence[str],
) -> Iterator[bytes]:
    """The TSV file in chunks: comments, header, then blocks of rows (streamable). A
    comment that starts with ``#`` is written as is (RNAget's ``#labels``/``#range``
    lines); any other gets ``# `` in front."""
    head = [f"{c}\n" if c.startswith("#") else f"# {c}\n" for c in comments]
    head.append("\t".join([*row_columns, *column_labels]) + "\n")
    yield "".join(head).encode()
    row_values = [matrix.row_attrs[name] for name in row_columns]
    rows, columns = matrix.shape
    block_rows = max(1, _TSV_BLOCK_CELLS // max(1, columns))
    for start in range(0, rows, block_rows):
        stop = min(start + block_rows, rows)
        texts = _decimal_texts(matrix.values[start:stop])
        lines = [
            "\t".join([*(values[start + i] for values in row_values), *texts[i]]) + "\n"
            for i in range(stop - start)
        ]
        yield "".join(lines).encode()


def _decimal_texts(block: np.ndarray) -> list[list[str]]:
    """float32 values as their shortest round-tripping decimal (0.7, not 0.699999988)."""
    import numpy as np

    values = np.asarray(block, dtype=np.float32)
    texts = values.astype(str)
    missing = np.isnan(values)
    if missing.any():
        texts[missing] = NAN_TEXT
    return texts.tolist()


def hdf5_chunks(write: Callable[[h5py.File, Matrix], None], matrix: Matrix) -> Iterator[bytes]:
    """An HDF5 file ``write`` fills, in chunks. It is built in a temporary file (Lambda's
    /tmp), not in memory: an in-memory file and its copy as bytes held 1.3x the slice on
    top of the matrix (benchmarks.rnaget: 3.4x the slice in all for a GTEx-size loom)."""
    import h5py

    with tempfile.TemporaryFile() as handle:
        with h5py.File(handle, "w") as f:
            write(f, matrix)
        handle.seek(0)
        while chunk := handle.read(_FILE_CHUNK_BYTES):
            yield chunk


def _write_loom(f: h5py.File, matrix: Matrix) -> None:
    """A loom 3.0.0 file (``loompy.connect`` opens it)."""
    import numpy as np

    f.create_dataset("matrix", data=np.asarray(matrix.values, np.float32), **_packed(matrix))
    for group in ("layers", "row_graphs", "col_graphs"):
        f.create_group(group)
    for group, attrs in (("row_attrs", matrix.row_attrs), ("col_attrs", matrix.col_attrs)):
        created = f.create_group(group)
        for name, values in attrs.items():
            _loom_strings(created, name, values)
    globals_ = f.create_group("attrs")
    _loom_strings(globals_, "LOOM_SPEC_VERSION", LOOM_SPEC_VERSION)
    f.attrs["LOOM_SPEC_VERSION"] = LOOM_SPEC_VERSION


def _packed(matrix: Matrix) -> dict[str, Any]:
    """Chunked and gzip-compressed as loompy writes (64 x 64 tiles); level 2: the file is
    written per request, so speed matters more than the last few percent."""
    rows, columns = matrix.shape
    if not rows or not columns:
        return {}  # HDF5 cannot chunk an empty dataset
    return {
        "chunks": (min(rows, 64), min(columns, 64)),
        "compression": "gzip",
        "compression_opts": 2,
    }


def _loom_strings(group: h5py.Group, name: str, values: Sequence[str] | str) -> None:
    import h5py

    def ascii(text: str) -> str:
        return text.encode("ascii", "xmlcharrefreplace").decode("ascii")

    if isinstance(values, str):
        group.create_dataset(name, data=ascii(values), dtype=h5py.string_dtype())
        return
    import numpy as np

    data = np.array([ascii(str(v)) for v in values], dtype=object)
    group.create_dataset(name, data=data, shape=(len(data),), dtype=h5py.string_dtype())


def _write_h5ad(f: h5py.File, matrix: Matrix) -> None:
    """An AnnData (h5ad) file: ``X`` = the matrix as served, ``obs`` = row attributes,
    ``var`` = column attributes (``anndata.read_h5ad`` opens it)."""
    import numpy as np

    _encoding(f, "anndata", "0.1.0")
    x = f.create_dataset("X", data=np.asarray(matrix.values, np.float32), **_packed(matrix))
    _encoding(x, "array", "0.2.0")
    _dataframe(f, "obs", matrix.row_attrs, matrix.shape[0])
    _dataframe(f, "var", matrix.col_attrs, matrix.shape[1])
    for name in ("uns", "obsm", "varm", "obsp", "varp", "layers"):
        _encoding(f.create_group(name), "dict", "0.1.0")


def _encoding(node: h5py.HLObject, kind: str, version: str) -> None:
    node.attrs["encoding-type"] = kind
    node.attrs["encoding-version"] = version


def _dataframe(f: h5py.File, name: str, attrs: dict[str, list[str]], length: int) -> None:
    """A string-only dataframe indexed by its first column (or by position without one)."""
    import h5py
    import numpy as np

    group = f.create_group(name)
    _encoding(group, "dataframe", "0.2.0")
    group.attrs["_index"] = "_index"
    group.attrs.create(
        "column-order", data=np.array(list(attrs), dtype=object), dtype=h5py.string_dtype()
    )
    index = next(iter(attrs.values()), [str(i) for i in range(length)])
    for column, values in [("_index", index), *attrs.items()]:
        data = np.array([str(v) for v in values], dtype=object)
        dataset = group.create_dataset(
            column, data=data, shape=(len(data),), dtype=h5py.string_dtype()
        )
        _encoding(dataset, "string-array", "0.2.0")
