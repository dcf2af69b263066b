"""The expression part of a release, streamed from GTEx GCT or RatGTEx BED matrices.

Inputs (:class:`ExpressionInputs`): either one GTEx GCT (``#1.2``, a ``rows<TAB>cols`` line,
``Name<TAB>Description<TAB><SAMPID>...``, then one gene per line; gzipped or not) with its
sample-attributes TSV (``SAMPID``, ``SMTSD``, optional ``SUBJID``) and optionally the subject
phenotypes TSV (``SUBJID``, ``SEX`` 1=male 2=female, ``AGE`` like ``60-69``); or RatGTEx's
per-tissue BED matrices (``#chr start end phenotype_id <sample>...``), one per tissue label.

What is written is described in :mod:`omicsgate.portal.expression_schema`. Choices made here:

- Column order: tissues sorted by label (Python string order, so the same inputs give the
  same layout whatever the file's sample order or the order ``--bed`` options were given),
  then the samples of a tissue in file order. Each tissue is one column range
  ``[column_start, column_end)``; a batch of GCT rows is permuted with one numpy take.
- Streaming: rows are parsed about a million cells at a time (``numpy.loadtxt`` on the lines'
  value part, 95-150 ns a cell, 2.5x faster than ``np.array(line.split())``) into a batch of about
  64 MB, and each batch is written as one tile-aligned fragment ``[r0:r1, 0:S]`` of the
  dense ``expression`` array. Only per-gene summaries (G x T medians and flags) and the gene
  IDs stay in memory, so memory is bounded whatever the matrix size.
- One gene is one tile: tile extents ``(1, S)``; fragments are whole row ranges and never
  overlap, so only fragment metadata is consolidated and a one-gene read is one tile GET.
- BED: the first pass reads each file's header and gene IDs (the gene union, in order of
  first appearance over the tissues in label order); then the matrix is built in windows of
  whole gene rows (about 256 MB each, NaN where a tissue lacks a gene), each file streamed
  once per window. A RatGTEx-size matrix (30,000 genes x 3,160 samples) is two windows; no
  window is ever larger, and fragments stay whole-row as for GCT (no full consolidation).
- Compression: ``Zstd(3)`` alone. Measured on a 600 x 17,382 log-normal matrix with 4-digit
  values and gene-specific zero fractions: zstd3 ratio 2.05 at 131 MB/s; byte shuffle +
  zstd3 1.84 at 127 MB/s; byte shuffle + zstd1 1.85; bit shuffle + zstd3 1.60; byte
  shuffle + LZ4 1.41; zstd5 2.16 at 44 MB/s. One-gene reads cost the same (2-3 ms locally).
- Medians: ``numpy.median`` (``nanmedian`` where a BED tissue lacks a gene: NaN). Expressed
  (GTEx's rule): TPM >= 0.1 in at least 20 % of the tissue's samples that have a value
  (every sample for GCT); a gene a tissue lacks is not expressed there. Top genes: the 50
  highest finite medians per tissue, descending, ties by gene row; ``filterMt=1`` drops
  genes whose symbol starts with ``mt-`` (case-insensitive).
- BED sample IDs are the rats' IDs: the same ID appears once per tissue it was sequenced in
  (the ``samples`` table allows that), its subject is itself.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from omicsgate.ingest.errors import InputError
from omicsgate.ingest.textfile import numbered_lines
from omicsgate.portal import expression_schema as xs

if TYPE_CHECKING:
    import tiledb

    from omicsgate.storage.writer import PartWriter

BATCH_BYTES = 64 * 2**20  # one GCT batch, one fragment
WINDOW_BYTES = 256 * 2**20  # one BED window of whole gene rows
PARSE_CELLS = 2**20  # cells handed to numpy.loadtxt at once (64 GTEx lines, 4,000 RatGTEx)


def parse_lines(width: int) -> int:
    return max(1, PARSE_CELLS // max(1, width))


SUMMARY_TILE = 256  # gene rows per tile of expression_summary
ZSTD_LEVEL = 3
SEXES = {"1": "male", "2": "female", "male": "male", "female": "female", "m": "male", "f": "female"}


@dataclass
class ExpressionInputs:
    gct: str | None = None
    sample_attributes: str | None = None
    subject_phenotypes: str | None = None
    bed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SampleInfo:
    """A row of the sample attributes: tissue label and subject, and where it was read."""

    tissue: str
    subject: str
    line: int


@dataclass(frozen=True)
class Subject:
    sex: str  # "male", "female" or ""
    age: str  # e.g. "60-69" or ""


@dataclass(frozen=True)
class ColumnLayout:
    """Samples grouped by tissue: ``order[c]`` is the input position of stored column c."""

    tissues: list[str]
    starts: np.ndarray
    ends: np.ndarray
    order: np.ndarray

    @property
    def ranges(self) -> list[tuple[int, int]]:
        return [(int(s), int(e)) for s, e in zip(self.starts, self.ends, strict=True)]


# Small parsers ---------------------------------------------------------------------------


def subject_of(sample_id: str) -> str:
    """GTEx's donor of a sample: the first two dash-separated fields
    (GTEX-1117F-0226-SM-5GZZ7 -> GTEX-1117F); an ID without two dashes is its own subject."""
    parts = sample_id.split("-")
    return "-".join(parts[:2]) if len(parts) > 2 else sample_id


def parse_sex(path: str, line: int, text: str) -> str:
    value = text.strip()
    if not value:
        return ""
    sex = SEXES.get(value.lower())
    if sex is None:
        raise InputError(path, line, "SEX", f"{value!r} is not a sex code (1 = male, 2 = female)")
    return sex


def _header_index(path: str, header: list[str], name: str, required: bool = True) -> int:
    if name in header:
        return header.index(name)
    if required:
        raise InputError(path, 1, name, f"no {name} column in the header")
    return -1


def _table_rows(
    path: str, required: list[str], optional: list[str], progress: bool
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {column: value}) for the named columns of a TSV with a header line."""
    lines = numbered_lines(path, progress)
    first = next(lines, None)
    if first is None:
        raise InputError(path, 1, "header", "empty file")
    header = [cell.strip() for cell in first[1].split("\t")]
    wanted = {n: _header_index(path, header, n) for n in required}
    wanted |= {n: i for n in optional if (i := _header_index(path, header, n, False)) >= 0}
    last = max(wanted.values())
    for number, line in lines:
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) <= last:
            raise InputError(
                path,
                number,
                header[len(cells)],
                f"{len(cells)} cells, the header has {len(header)}",
            )
        yield number, {n: cells[i].strip() for n, i in wanted.items()}


def read_sample_attributes(path: str, progress: bool = False) -> dict[str, SampleInfo]:
    """SAMPID -> tissue (SMTSD) and subject (SUBJID, or derived from SAMPID). Rows with an
    empty SMTSD are kept (GTEx lists samples that were not RNA-sequenced); a GCT sample
    without a tissue is refused when the GCT names it."""
    samples: dict[str, SampleInfo] = {}
    for number, row in _table_rows(path, ["SAMPID", "SMTSD"], ["SUBJID"], progress):
        sample = row["SAMPID"]
        if not sample:
            raise InputError(path, number, "SAMPID", "empty sample ID")
        if sample in samples:
            first = samples[sample].line
            raise InputError(path, number, "SAMPID", f"{sample!r} appears twice (line {first})")
        subject = row.get("SUBJID") or subject_of(sample)
        samples[sample] = SampleInfo(row["SMTSD"], subject, number)
    return samples


def read_subject_phenotypes(path: str, progress: bool = False) -> dict[str, Subject]:
    """SUBJID -> sex ("male"/"female"/"") and age bracket (as written, e.g. "60-69")."""
    subjects: dict[str, Subject] = {}
    lines: dict[str, int] = {}
    for number, row in _table_rows(path, ["SUBJID"], ["SEX", "AGE"], progress):
        subject = row["SUBJID"]
        if not subject:
            raise InputError(path, number, "SUBJID", "empty subject ID")
        if subject in subjects:
            raise InputError(
                path, number, "SUBJID", f"{subject!r} appears twice (line {lines[subject]})"
            )
        sex = parse_sex(path, number, row.get("SEX", ""))
        subjects[subject] = Subject(sex, row.get("AGE", ""))
        lines[subject] = number
    return subjects


def group_columns(tissue_of_column: list[str]) -> ColumnLayout:
    """Stored column order: tissues sorted by label, then input order within a tissue."""
    tissues = sorted(set(tissue_of_column))
    index = {t: i for i, t in enumerate(tissues)}
    codes = np.array([index[t] for t in tissue_of_column], dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(tissues))
    ends = np.cumsum(counts)
    return ColumnLayout(tissues, ends - counts, ends, order)


# Values -----------------------------------------------------------------------------------


def parse_values(path: str, numbers: list[int], rests: list[str], samples: list[str]) -> np.ndarray:
    """The TPM cells of several lines (each ``rests[i]`` holds just the values of line
    ``numbers[i]``, in the order of ``samples``) as float32 rows. Refuses a wrong cell count,
    a non-number, NaN, infinity or a negative value, naming the sample of the cell."""
    width = len(samples)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # loadtxt warns on empty input
            values = np.loadtxt(
                rests, delimiter="\t", dtype=np.float32, comments=None, ndmin=2, quotechar=None
            )
    except ValueError:
        values = None
    if values is None or values.shape != (len(rests), width):
        _diagnose(path, numbers, rests, samples)
        raise InputError(path, numbers[0], "values", "cannot be read as numbers")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        value = float(values[row, column])
        problem = "is not a finite number" if not math.isfinite(value) else "is a negative TPM"
        cell = rests[row].split("\t")[column]
        raise InputError(path, numbers[row], samples[column], f"{cell!r} {problem}")
    return values


def _diagnose(path: str, numbers: list[int], rests: list[str], samples: list[str]) -> None:
    """Find the first bad cell of lines numpy refused (slow; only failing files pay)."""
    for number, rest in zip(numbers, rests, strict=True):
        cells = rest.split("\t")
        if len(cells) != len(samples):
            raise InputError(
                path,
                number,
                "cells",
                f"{len(cells)} values, the header names {len(samples)} samples",
            )
        for cell, sample in zip(cells, samples, strict=True):
            try:
                if "_" in cell:
                    raise ValueError(cell)
                float(cell)
            except ValueError:
                raise InputError(path, number, sample, f"{cell!r} is not a number") from None


# Summaries --------------------------------------------------------------------------------


def summarize(block: np.ndarray, ranges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Per gene row and tissue column range: the median TPM (NaN-aware) and whether the gene
    is expressed (TPM >= 0.1 in at least 20 % of the samples with a value)."""
    medians = np.full((block.shape[0], len(ranges)), np.nan, dtype=np.float32)
    expressed = np.zeros((block.shape[0], len(ranges)), dtype=np.uint8)
    for t, (start, end) in enumerate(ranges):
        part = block[:, start:end]
        if end <= start or not part.shape[0]:
            continue
        missing = np.isnan(part)
        if missing.any():
            valid = (~missing).sum(axis=1)
            full = valid == end - start
            if (full | (valid == 0)).all():  # BED gaps are whole rows: a fast median
                medians[full, t] = np.median(part[full], axis=1)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: NaN
                    medians[:, t] = np.nanmedian(part, axis=1)
        else:
            valid = np.full(part.shape[0], end - start)
            medians[:, t] = np.median(part, axis=1)
        above = (part >= np.float32(xs.EXPRESSED_TPM)).sum(axis=1)
        # At least 20 %: compared exactly (count * 5 >= valid), no rounding of 0.2 * n.
        needed = np.ceil(valid * xs.EXPRESSED_FRACTION - 1e-9)
        expressed[:, t] = (valid > 0) & (above >= needed)
    return medians, expressed


def is_mitochondrial(symbol: str) -> bool:
    return symbol.lower().startswith(xs.MT_PREFIX)


def top_genes(medians: np.ndarray, symbols: list[str], count: int = xs.TOP_GENES) -> dict:
    """The ``count`` genes with the highest finite median per tissue, with and without
    mitochondrial genes: columns of the ``expression_top`` table."""
    mt = np.array([is_mitochondrial(s) for s in symbols], dtype=bool)
    out: dict[str, list[Any]] = {k: [] for k in ("tissue_index", "filterMt", "rank", "gene_row")}
    chosen_medians: list[float] = []
    for t in range(medians.shape[1]):
        column = medians[:, t]
        for filter_mt in (0, 1):
            keep = np.isfinite(column) & ~(mt if filter_mt else np.zeros_like(mt))
            rows = np.flatnonzero(keep)
            best = rows[np.argsort(-column[rows], kind="stable")[:count]]
            out["tissue_index"] += [t] * len(best)
            out["filterMt"] += [filter_mt] * len(best)
            out["rank"] += list(range(len(best)))
            out["gene_row"] += best.tolist()
            chosen_medians += column[best].tolist()
    return {
        "tissue_index": np.array(out["tissue_index"], dtype=np.int64),
        "filterMt": np.array(out["filterMt"], dtype=np.uint8),
        "rank": np.array(out["rank"], dtype=np.int64),
        "gene_row": np.array(out["gene_row"], dtype=np.int64),
        "median": np.array(chosen_medians, dtype=np.float32),
    }


# Arrays -----------------------------------------------------------------------------------


def _zstd() -> tiledb.FilterList:
    import tiledb

    return tiledb.FilterList([tiledb.ZstdFilter(level=ZSTD_LEVEL)])


def create_matrix(uri: str, genes: int, columns: int, ctx: tiledb.Ctx) -> None:
    """The ``expression`` array: one tile is one gene across every sample."""
    import tiledb

    domain = tiledb.Domain(
        tiledb.Dim(name="gene_row", domain=(0, genes - 1), tile=1, dtype=np.int64, ctx=ctx),
        tiledb.Dim(name="column", domain=(0, columns - 1), tile=columns, dtype=np.int64, ctx=ctx),
        ctx=ctx,
    )
    attr = tiledb.Attr(name="tpm", dtype=np.float32, filters=_zstd(), fill=np.nan, ctx=ctx)
    schema = tiledb.ArraySchema(
        domain=domain,
        attrs=[attr],
        sparse=False,
        cell_order="row-major",
        tile_order="row-major",
        ctx=ctx,
    )
    tiledb.Array.create(uri, schema, ctx=ctx)


def write_summary(uri: str, medians: np.ndarray, expressed: np.ndarray, ctx: tiledb.Ctx) -> None:
    """The ``expression_summary`` array, written whole (G x T is small)."""
    import tiledb

    genes, tissues = medians.shape
    domain = tiledb.Domain(
        tiledb.Dim(
            name="gene_row",
            domain=(0, genes - 1),
            tile=min(SUMMARY_TILE, genes),
            dtype=np.int64,
            ctx=ctx,
        ),
        tiledb.Dim(
            name="tissue_index", domain=(0, tissues - 1), tile=tissues, dtype=np.int64, ctx=ctx
        ),
        ctx=ctx,
    )
    attrs = [
        tiledb.Attr(name="median", dtype=np.float32, filters=_zstd(), fill=np.nan, ctx=ctx),
        tiledb.Attr(name="expressed", dtype=np.uint8, filters=_zstd(), ctx=ctx),
    ]
    schema = tiledb.ArraySchema(domain=domain, attrs=attrs, sparse=False, ctx=ctx)
    tiledb.Array.create(uri, schema, ctx=ctx)
    with tiledb.open(uri, "w", ctx=ctx) as array:
        array[0:genes, 0:tissues] = {"median": medians, "expressed": expressed}


class _Matrix:
    """Accumulates whole gene rows and writes each full batch as one fragment."""

    def __init__(self, writer: PartWriter, genes: int, layout: ColumnLayout, rows: int) -> None:
        import tiledb

        self.uri = writer.table_uri(xs.EXPRESSION)
        self.ctx = writer.store.ctx
        self.layout = layout
        self.columns = len(layout.order)
        create_matrix(self.uri, genes, self.columns, self.ctx)
        self.medians = np.full((genes, len(layout.tissues)), np.nan, dtype=np.float32)
        self.expressed = np.zeros((genes, len(layout.tissues)), dtype=np.uint8)
        self.batch = np.empty((rows, self.columns), dtype=np.float32)
        self.filled = 0
        self.first_row = 0
        self.fragments = 0
        self.array = tiledb.open(self.uri, "w", ctx=self.ctx)

    def add(self, values: np.ndarray) -> None:
        """Rows in input column order (GCT)."""
        done = 0
        while done < len(values):
            take = min(len(values) - done, len(self.batch) - self.filled)
            chunk = values[done : done + take]
            self.batch[self.filled : self.filled + take] = chunk[:, self.layout.order]
            self.filled += take
            done += take
            if self.filled == len(self.batch):
                self.flush()

    def flush(self) -> None:
        if not self.filled:
            return
        rows = self.batch[: self.filled]
        r0, r1 = self.first_row, self.first_row + self.filled
        self.array[r0:r1, 0 : self.columns] = {"tpm": rows}
        self.medians[r0:r1], self.expressed[r0:r1] = summarize(rows, self.layout.ranges)
        self.first_row, self.filled = r1, 0
        self.fragments += 1

    def close(self) -> None:
        self.array.close()


# GCT --------------------------------------------------------------------------------------


def read_gct_header(path: str, lines: Iterator[tuple[int, str]]) -> tuple[int, list[str]]:
    """Consume ``#1.2``, the dimensions line and the column header: (genes, sample IDs)."""
    first = next(lines, None)
    if first is None:
        raise InputError(path, 1, "header", "empty file (a GCT starts with #1.2)")
    if first[1].strip() != "#1.2":
        raise InputError(path, 1, "header", f"{first[1][:40]!r} is not the GCT header #1.2")
    second = next(lines, None)
    if second is None:
        raise InputError(path, 2, "dimensions", "missing (expected rows<TAB>columns)")
    cells = [c.strip() for c in second[1].split("\t") if c.strip()]
    if len(cells) != 2 or not all(c.isascii() and c.isdigit() for c in cells):
        raise InputError(path, 2, "dimensions", f"{second[1][:40]!r} is not rows<TAB>columns")
    rows, columns = int(cells[0]), int(cells[1])
    third = next(lines, None)
    if third is None:
        raise InputError(path, 3, "header", "missing (expected Name<TAB>Description<TAB>...)")
    header = third[1].split("\t")
    if [h.strip() for h in header[:2]] != ["Name", "Description"]:
        raise InputError(path, 3, "header", "does not start with Name<TAB>Description")
    samples = [h.strip() for h in header[2:]]
    if len(samples) != columns:
        raise InputError(
            path, 3, "header", f"names {len(samples)} samples, line 2 declares {columns}"
        )
    if not samples:
        raise InputError(path, 3, "header", "no sample columns")
    _check_unique(path, 3, samples)
    if rows < 1:
        raise InputError(path, 2, "dimensions", "declares no gene rows")
    return rows, samples


def _check_unique(path: str, line: int, samples: list[str]) -> None:
    seen: set[str] = set()
    for sample in samples:
        if not sample:
            raise InputError(path, line, "header", "an empty sample ID")
        if sample in seen:
            raise InputError(path, line, sample, "sample ID appears twice in the header")
        seen.add(sample)


def _gct_samples(
    inputs: ExpressionInputs, gct: str, samples: list[str], progress: bool
) -> list[SampleInfo]:
    if not inputs.sample_attributes:
        raise InputError(gct, 0, "--sample-attributes", "a GCT needs its sample attributes")
    attributes = read_sample_attributes(inputs.sample_attributes, progress)
    infos = []
    for sample in samples:
        info = attributes.get(sample)
        if info is None:
            raise InputError(
                gct, 3, sample, f"sample not in the sample attributes {inputs.sample_attributes}"
            )
        if not info.tissue:
            raise InputError(
                inputs.sample_attributes, info.line, "SMTSD", f"no tissue for sample {sample!r}"
            )
        infos.append(info)
    return infos


def _rows_bar(path: str, total: int, progress: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=os.path.basename(path),
        unit=" genes",
        disable=not progress,
        leave=False,
        mininterval=0.5,
    )


def _write_gct(writer: PartWriter, inputs: ExpressionInputs, progress: bool) -> None:
    gct = str(inputs.gct)
    lines = numbered_lines(gct)
    genes, samples = read_gct_header(gct, lines)
    infos = _gct_samples(inputs, gct, samples, progress)
    subjects = _subjects(inputs, progress)  # fail fast: before streaming the matrix
    layout = group_columns([info.tissue for info in infos])
    rows_per_batch = max(1, min(genes, BATCH_BYTES // (4 * len(samples))))
    matrix = _Matrix(writer, genes, layout, rows_per_batch)
    gene_ids: list[str] = []
    symbols: list[str] = []
    seen: dict[str, int] = {}
    numbers: list[int] = []
    rests: list[str] = []
    chunk = parse_lines(len(samples))
    last = 3
    try:
        with _rows_bar(gct, genes, progress) as bar:
            for number, line in lines:
                last = number
                if not line.strip():
                    continue
                cells = line.split("\t", 2)
                if len(cells) < 3:
                    raise InputError(
                        gct, number, "cells", f"{len(cells)} cells, expected {len(samples) + 2}"
                    )
                name = cells[0].strip()
                if not name:
                    raise InputError(gct, number, "Name", "empty gene ID")
                if name in seen:
                    raise InputError(
                        gct, number, "Name", f"{name!r} appears twice (line {seen[name]})"
                    )
                if len(gene_ids) == genes:
                    raise InputError(
                        gct,
                        number,
                        "dimensions",
                        f"more gene rows than the {genes} line 2 declares",
                    )
                seen[name] = number
                gene_ids.append(name)
                symbols.append(cells[1].strip())
                numbers.append(number)
                rests.append(cells[2])
                if len(rests) == chunk:
                    matrix.add(parse_values(gct, numbers, rests, samples))
                    bar.update(len(rests))
                    numbers, rests = [], []
            if rests:
                matrix.add(parse_values(gct, numbers, rests, samples))
                bar.update(len(rests))
            if len(gene_ids) != genes:
                raise InputError(
                    gct,
                    last + 1,
                    "dimensions",
                    f"line 2 declares {genes} gene rows, the file has {len(gene_ids)}",
                )
            matrix.flush()
    finally:
        matrix.close()
    sample_rows = [(samples[i], infos[i].tissue, infos[i].subject) for i in layout.order.tolist()]
    _write_tables(writer, matrix, layout, gene_ids, symbols, sample_rows, subjects)


def _subjects(inputs: ExpressionInputs, progress: bool) -> dict[str, Subject]:
    if not inputs.subject_phenotypes:
        return {}
    return read_subject_phenotypes(inputs.subject_phenotypes, progress)


def _write_tables(
    writer: PartWriter,
    matrix: _Matrix,
    layout: ColumnLayout,
    gene_ids: list[str],
    symbols: list[str],
    sample_rows: list[tuple[str, str, str]],
    subjects: dict[str, Subject],
) -> None:
    """Everything but the matrix (already written): genes, tissues, summary, top, samples."""
    genes = len(gene_ids)
    writer.add_array(xs.EXPRESSION, ["gene_row", "column"], genes, consolidate=("fragment_meta",))
    writer.write_table(
        xs.EXPRESSION_GENES,
        ["gene_row"],
        {
            "gene_row": np.arange(genes, dtype=np.int64),
            "geneId": np.array(gene_ids, dtype=object),
            "geneSymbol": np.array(symbols, dtype=object),
        },
    )
    writer.write_table(
        xs.EXPRESSION_TISSUES,
        ["tissue_index"],
        {
            "tissue_index": np.arange(len(layout.tissues), dtype=np.int64),
            "tissue": np.array(layout.tissues, dtype=object),
            "column_start": layout.starts.astype(np.int64),
            "column_end": layout.ends.astype(np.int64),
            "sampleCount": (layout.ends - layout.starts).astype(np.int64),
        },
        packed=True,
    )
    write_summary(
        writer.table_uri(xs.EXPRESSION_SUMMARY), matrix.medians, matrix.expressed, matrix.ctx
    )
    writer.add_array(
        xs.EXPRESSION_SUMMARY, ["gene_row", "tissue_index"], genes, consolidate=("fragment_meta",)
    )
    writer.write_table(
        xs.EXPRESSION_TOP, ["tissue_index"], top_genes(matrix.medians, symbols), packed=True
    )
    none = Subject("", "")
    people = [subjects.get(subject, none) for _, _, subject in sample_rows]
    writer.write_table(
        xs.SAMPLES,
        ["sampleId"],
        {
            "sampleId": np.array([s for s, _, _ in sample_rows], dtype=object),
            "column": np.arange(len(sample_rows), dtype=np.int64),
            "tissue": np.array([t for _, t, _ in sample_rows], dtype=object),
            "subjectId": np.array([s for _, _, s in sample_rows], dtype=object),
            "sex": np.array([p.sex for p in people], dtype=object),
            "ageBracket": np.array([p.age for p in people], dtype=object),
        },
    )


# BED --------------------------------------------------------------------------------------


@dataclass
class BedFile:
    """What the first pass learns of one tissue's BED file."""

    tissue: str
    path: str
    samples: list[str]
    genes: list[str]


def scan_bed(tissue: str, path: str, progress: bool = False) -> BedFile:
    """First pass: the header's samples and the gene IDs, checking cell counts."""
    lines = numbered_lines(path, progress)
    first = next(lines, None)
    if first is None:
        raise InputError(path, 1, "header", "empty file")
    header = first[1].split("\t")
    named = [h.strip().lower() for h in header[:3]]
    if named != ["#chr", "start", "end"] or len(header) < 4 or not header[3].strip():
        raise InputError(
            path, 1, "header", "expected #chr<TAB>start<TAB>end<TAB>phenotype_id<TAB>samples"
        )
    samples = [h.strip() for h in header[4:]]
    if not samples:
        raise InputError(path, 1, "header", "no sample columns")
    _check_unique(path, 1, samples)
    genes: list[str] = []
    seen: dict[str, int] = {}
    tabs = 3 + len(samples)
    for number, line in lines:
        if not line.strip():
            continue
        if line.count("\t") != tabs:
            cells = line.count("\t") + 1
            raise InputError(path, number, "cells", f"{cells} cells, the header has {tabs + 1}")
        gene = line.split("\t", 4)[3].strip()
        if not gene:
            raise InputError(path, number, "phenotype_id", "empty phenotype ID")
        if gene in seen:
            raise InputError(
                path, number, "phenotype_id", f"{gene!r} appears twice (line {seen[gene]})"
            )
        seen[gene] = number
        genes.append(gene)
    if not genes:
        raise InputError(path, 2, "phenotype_id", "no expression rows")
    return BedFile(tissue, path, samples, genes)


def _write_bed(writer: PartWriter, inputs: ExpressionInputs, progress: bool) -> None:
    if inputs.sample_attributes:
        raise InputError(
            inputs.sample_attributes, 0, "--sample-attributes", "applies to a GCT, not to BED"
        )
    files = [scan_bed(tissue, inputs.bed[tissue], progress) for tissue in sorted(inputs.bed)]
    subjects = _subjects(inputs, progress)
    row_of: dict[str, int] = {}
    for bed in files:
        for gene in bed.genes:
            row_of.setdefault(gene, len(row_of))
    gene_ids = list(row_of)
    layout = group_columns([bed.tissue for bed in files for _ in bed.samples])
    columns = len(layout.order)  # BED columns are already grouped: order is the identity
    window = max(1, min(len(gene_ids), WINDOW_BYTES // (4 * columns)))
    matrix = _Matrix(writer, len(gene_ids), layout, 0)
    total = sum(len(bed.genes) for bed in files)
    try:
        with _rows_bar("BED", total, progress) as bar:
            for w0 in range(0, len(gene_ids), window):
                w1 = min(len(gene_ids), w0 + window)
                block = np.full((w1 - w0, columns), np.nan, dtype=np.float32)
                for bed, (start, end) in zip(files, layout.ranges, strict=True):
                    for rows, values in _bed_rows(bed, row_of, w0, w1):
                        block[rows - w0, start:end] = values
                        bar.update(len(rows))
                matrix.batch, matrix.filled, matrix.first_row = block, w1 - w0, w0
                matrix.flush()
    finally:
        matrix.close()
    sample_rows = [(s, bed.tissue, s) for bed in files for s in bed.samples]
    _write_tables(writer, matrix, layout, gene_ids, gene_ids, sample_rows, subjects)


def _bed_rows(
    bed: BedFile, row_of: dict[str, int], w0: int, w1: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(gene rows, values) of the file's lines whose gene row is in [w0, w1)."""
    numbers: list[int] = []
    rows: list[int] = []
    rests: list[str] = []
    chunk = parse_lines(len(bed.samples))
    for number, line in numbered_lines(bed.path):
        if number == 1 or not line.strip():
            continue
        cells = line.split("\t", 4)
        row = row_of[cells[3].strip()]
        if not w0 <= row < w1:
            continue
        numbers.append(number)
        rows.append(row)
        rests.append(cells[4])
        if len(rests) == chunk:
            yield np.array(rows), parse_values(bed.path, numbers, rests, bed.samples)
            numbers, rows, rests = [], [], []
    if rests:
        yield np.array(rows), parse_values(bed.path, numbers, rests, bed.samples)


# Entry point ------------------------------------------------------------------------------


def write_expression(writer: PartWriter, inputs: ExpressionInputs, progress: bool) -> None:
    """Every expression table into ``writer``'s attempt; an InputError leaves the part
    uncommitted (the writer then removes the attempt; the draft's other parts stay)."""
    if inputs.gct and inputs.bed:
        raise InputError(inputs.gct, 0, "--bed", "give a GCT or BED files, not both")
    if inputs.gct:
        _write_gct(writer, inputs, progress)
    elif inputs.bed:
        _write_bed(writer, inputs, progress)
    else:
        raise InputError("expression", 0, "--gct", "no expression matrix given (--gct or --bed)")
