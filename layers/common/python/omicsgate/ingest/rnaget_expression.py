"""Hosted RNAget expression matrices into TileDB (the layout and how it is served:
:mod:`omicsgate.rnaget.expression`). ``omicsgate ingest rnaget-compliance DIR`` hosts the
suite's ``expression.loom`` (or ``expression.tsv``) this way, read in place.

Sources, features (rows) x samples (columns):

- loom (h5py only): ``/matrix``, row attributes ``GeneID`` and ``GeneName`` (``Gene`` or
  ``Accession`` for the ID as loompy's own files name it), column attributes ``Sample``
  and any of ``Condition``, ``Tissue`` (``CellID`` stands in for ``Sample``);
- TSV: ``#`` comment lines, a header ``ID<TAB>name<TAB>label...`` where each sample's label
  is ``Sample[, Condition[, Tissue]]``, then one line per feature. A malformed line stops
  the ingestion with ``file:line: field NAME: problem``.

The array is written into an attempt directory; the record written atomically after it is
the commit point, so a failed ingestion leaves the previous version serving, and a
re-ingestion removes the old attempt once the new record is in place.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tiledb

from omicsgate.gwas.writer import _attempt_name, _leased
from omicsgate.ingest.errors import InputError
from omicsgate.rnaget import catalog
from omicsgate.rnaget import expression as layout
from omicsgate.rnaget.formats import Matrix
from omicsgate.storage import DataStore
from omicsgate.storage.writer import _remove_dir, write_json_atomically

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # a file name and a URL segment
FEATURE_TILE = 16  # a few genes across many samples per tile: gene slices read few tiles
SAMPLE_TILE = 4096


@dataclass(frozen=True)
class Meta:
    expression_id: str
    study: str
    units: str
    version: str = "1.0"
    source: str = ""


# Sources --------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def loom_matrix(path: str) -> Matrix:
    import h5py

    try:
        with h5py.File(path, "r") as loom:
            values = np.asarray(loom["matrix"][:], dtype=np.float32)
            rows = {k: [_text(v) for v in loom["row_attrs"][k][:]] for k in loom["row_attrs"]}
            cols = {k: [_text(v) for v in loom["col_attrs"][k][:]] for k in loom["col_attrs"]}
    except FileNotFoundError:
        raise InputError(path, 0, "file", "missing") from None
    except (OSError, KeyError) as error:
        raise InputError(path, 0, "loom", f"not a loom file ({error})") from None
    gene_ids = rows.get("GeneID") or rows.get("Accession") or rows.get("Gene")
    samples = cols.get("Sample") or cols.get("CellID")
    if gene_ids is None or samples is None:
        raise InputError(path, 0, "attrs", "needs row attribute GeneID and column attribute Sample")
    names = rows.get("GeneName") or rows.get("Gene") or gene_ids
    col_attrs = {"Sample": samples, **{k: cols[k] for k in ("Condition", "Tissue") if k in cols}}
    return _checked(path, Matrix(values, {"GeneID": gene_ids, "GeneName": names}, col_attrs))


def tsv_matrix(path: str) -> Matrix:
    header: list[str] | None = None
    ids: list[str] = []
    names: list[str] = []
    rows: list[list[float]] = []
    if not Path(path).is_file():
        raise InputError(path, 0, "file", "missing")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t")
            if header is None:
                header = fields
                continue
            if len(fields) != len(header):
                raise InputError(
                    path, number, "columns", f"{len(fields)}, header has {len(header)}"
                )
            ids.append(fields[0])
            names.append(fields[1])
            rows.append([_number(path, number, header[i], v) for i, v in enumerate(fields[2:], 2)])
    if header is None or len(header) < 3:
        raise InputError(path, 0, "header", "needs feature ID, feature name and sample columns")
    labels = [label.split(", ") for label in header[2:]]
    col_attrs = {
        name: [parts[i] if i < len(parts) else "" for parts in labels]
        for i, name in enumerate(layout.LABEL_ATTRS)
        if any(len(parts) > i for parts in labels)
    }
    values = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(header) - 2)
    return _checked(path, Matrix(values, {"GeneID": ids, "GeneName": names}, col_attrs))


def _number(path: str, line: int, column: str, text: str) -> float:
    if text.strip().lower() in ("", "na", "nan"):
        return float("nan")
    try:
        return float(text)
    except ValueError:
        raise InputError(path, line, column, f"{text!r} is not a number") from None


def _checked(path: str, matrix: Matrix) -> Matrix:
    rows, columns = matrix.shape
    if not rows or not columns:
        raise InputError(path, 0, "matrix", "no values")
    for name, values in [*matrix.row_attrs.items(), *matrix.col_attrs.items()]:
        if len(values) != (rows if name in matrix.row_attrs else columns):
            raise InputError(path, 0, name, f"{len(values)} values for a {rows} x {columns} matrix")
    for name, values in (
        ("GeneID", matrix.row_attrs["GeneID"]),
        ("Sample", matrix.col_attrs["Sample"]),
    ):
        if len(set(values)) != len(values):
            raise InputError(path, 0, name, "values repeat")
    return matrix


# Writing --------------------------------------------------------------------------------


def write_expression(store: DataStore, meta: Meta, matrix: Matrix) -> dict[str, Any]:
    """Store the matrix as hosted expression ``meta.expression_id`` of a hosted study
    (replacing any) and return its record, the commit point."""
    if not _ID.match(meta.expression_id):
        raise InputError(meta.expression_id, 0, "id", "not a slash-free ID")
    if not any(s["id"] == meta.study for s in catalog.hosted(store)["studies"]):
        raise InputError(meta.expression_id, 0, "study", f"no hosted study {meta.study!r}")
    uri = layout.record_uri(store.root, meta.expression_id)
    previous = store.read_json(uri)
    attempt = f"{layout.ATTEMPTS_DIR}/{_attempt_name()}"
    attempt_uri = layout.expressions_uri(store.root, attempt)
    base = layout.expressions_uri(store.root, layout.ATTEMPTS_DIR)
    vfs = store.vfs()
    if not base.startswith("s3://") and not vfs.is_dir(base):
        vfs.create_dir(base)
    with _leased(store, attempt_uri, attempt) as leased:
        _write_array(
            store, layout.expressions_uri(store.root, attempt, layout.MATRIX_ARRAY), matrix
        )
        record = {
            "id": meta.expression_id,
            "study": meta.study,
            "version": meta.version,
            "units": meta.units,
            "attempt": attempt,
            "rows": matrix.row_attrs,
            "columns": matrix.col_attrs,
            "source": meta.source,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        write_json_atomically(store, uri, record)
        leased.committed = True
    if isinstance(previous, dict) and previous.get("attempt") not in (None, attempt):
        _remove_dir(store, layout.expressions_uri(store.root, str(previous["attempt"])))
    layout.forget()
    return record


def _write_array(store: DataStore, uri: str, matrix: Matrix) -> None:
    """Dense (feature, sample), float32 ``value``, NaN fill, zstd; one fragment."""
    ctx = store.ctx
    rows, columns = matrix.shape
    dims = [
        tiledb.Dim("feature", (0, rows - 1), min(rows, FEATURE_TILE), dtype=np.int64, ctx=ctx),
        tiledb.Dim("sample", (0, columns - 1), min(columns, SAMPLE_TILE), dtype=np.int64, ctx=ctx),
    ]
    attr = tiledb.Attr(
        name=layout.VALUE,
        dtype=np.float32,
        fill=np.float32(np.nan),
        filters=tiledb.FilterList([tiledb.ZstdFilter(level=5)]),
        ctx=ctx,
    )
    schema = tiledb.ArraySchema(tiledb.Domain(*dims, ctx=ctx), [attr], sparse=False, ctx=ctx)
    tiledb.Array.create(uri, schema, ctx=ctx)
    with tiledb.open(uri, "w", ctx=ctx) as array:
        array[:, :] = np.ascontiguousarray(matrix.values, dtype=np.float32)


def source_file(directory: Path, stem: str) -> Path | None:
    """``<stem>.loom`` when the directory has it, else ``<stem>.tsv``, else None."""
    for suffix in (".loom", ".tsv"):
        if (directory / f"{stem}{suffix}").is_file():
            return directory / f"{stem}{suffix}"
    return None


def read_matrix(path: Path) -> Matrix:
    return loom_matrix(str(path)) if path.suffix == ".loom" else tsv_matrix(str(path))
