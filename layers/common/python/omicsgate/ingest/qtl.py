"""The QTL part of a release, from the files tensorQTL writes.

Inputs (:class:`QtlInputs`), per tissue (and per modality for xQTLs):

- ``cis``: tissue -> the ``cis`` table of ``map_cis`` annotated by ``calculate_qvalues``
  (``<prefix>.cis_qtl.txt.gz``: ``pandas.to_csv(sep='\\t', float_format='%.6g')`` of a frame
  indexed by ``phenotype_id``; columns ``num_var, beta_shape1, beta_shape2, true_df,
  pval_true_df, variant_id, start_distance, end_distance, ma_samples, ma_count, af,
  pval_nominal, slope, slope_se, pval_perm, pval_beta, qval, pval_nominal_threshold``).
  Read: ``phenotype_id, variant_id, pval_beta, pval_nominal_threshold, qval, slope``.
- ``independent``: (modality, tissue) -> the ``cis_independent`` table of
  ``map_independent`` (``<prefix>.cis_independent_qtl.txt.gz``, written with
  ``index=False``: ``phenotype_id`` is an ordinary column; the ``cis`` columns plus
  ``rank``). Read: ``phenotype_id, variant_id, rank, pval_beta, pval_nominal, slope`` and
  ``log2_aFC`` when present (aFC.py adds it, as GTEx, RatGTEx and the demo do; NaN
  otherwise, served as null).
- ``pairs``: tissue -> the ``<prefix>.cis_qtl_pairs.<chr>.parquet`` files of
  ``map_nominal`` (``phenotype_id`` string, ``variant_id`` string, ``start_distance`` int32,
  optional ``end_distance`` int32, ``af`` float32, ``ma_samples`` int32, ``ma_count`` int32,
  ``pval_nominal`` float64, ``slope`` float32, ``slope_se`` float32). Read:
  ``phenotype_id, variant_id, pval_nominal, slope``.

What is written is described in :mod:`omicsgate.portal.qtl_schema`. Choices made here:

- Parquet is read with pyarrow (the Arrow project's reference reader, what pandas'
  ``to_parquet`` in tensorQTL writes with), one batch of at most :data:`PAIR_BATCH` rows
  at a time with only the four needed columns: memory is bounded whatever the file size
  (GTEx pairs files are GBs). DuckDB would also stream, but through SQL strings and its
  own type mapping; pyarrow's batches go to numpy directly and report the offending row.
  Measured (5 M pairs, 156 MB file, 1 M-row row groups as pandas writes them): 1.5 s with
  10 % of pairs kept, 3.4 s with 50 %; peak RSS 280-315 MB of which 80 MB is Python and
  pyarrow themselves, whatever the file size (one row group's pages, ``pre_buffer`` off).
  The filter and the variant parsing are Arrow compute and numpy: no Python per pair.
- Significance: a pair is kept when ``pval_nominal <= pval_nominal_threshold`` of its
  phenotype in the ``cis`` table of the same tissue (a NaN p-value or threshold is never
  significant; a phenotype the ``cis`` table lacks has no threshold: its pairs are
  dropped, as tensorQTL's own ``signif_pairs`` step does). Pairs of a tissue that has no
  ``cis`` table are refused.
- ``geneId`` from ``phenotype_id``: the ``:``-separated part that is an Ensembl gene ID
  (``ENS...G<digits>``, version kept) wherever it is (RatGTEx ``ENSRNOG...:...`` first,
  GTEx sQTL ``chr1:14829:14970:clu_1_-:ENSG....5`` last), else the first part (a rat gene
  symbol, or an ID without ``:``). ``phenotypeId`` is the whole ID.
- ``variantId``: tensorQTL writes ``chr1_12345_A_G_b38`` (GTEx) or ``chr1:12345``
  (RatGTEx); both are parsed into chromosome and position and served as ``chr1:12345``
  (RatGTEx style, the ``variantId`` of ``genotype_variants``). Alleles are not kept here:
  they come from the genotype part.
- Errors are :class:`InputError` (file, line, column). For parquet the line is the
  1-based row of the file, 0 for the schema. Out of range p-values (outside [0, 1], as
  ``--logp`` output would be) are refused; empty, ``NA`` and ``nan`` cells (how pandas
  writes NaN) are NaN. Only kept pairs have their ``variant_id`` parsed: a malformed ID
  in a pair that is not significant is not noticed (it is not stored either).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from omicsgate.ingest.errors import InputError
from omicsgate.ingest.textfile import MAX_POSITION, numbered_lines
from omicsgate.portal import qtl_schema as qs
from omicsgate.portal.reference import gene_key

if TYPE_CHECKING:
    from omicsgate.storage.writer import PartWriter

PAIR_BATCH = 1 << 18  # parquet rows read at once (~10 MB of Arrow data, four columns)
READ_BUFFER = 1 << 20  # bytes of a column chunk read at once (no pre-buffering of row groups)
FLUSH_ROWS = 1 << 18  # kept pairs buffered before one append (one fragment, ~50 MB)
EXPRESSION = "expression"
_MISSING = {"", "na", "nan"}
_ENSEMBL_GENE = re.compile(r"^ENS[A-Z]*G\d+(\.\d+)?$")
_GTEX_VARIANT = re.compile(r"^([^_:]+)_(\d+)_[^_]+_[^_]+(_[^_]+)?$")
_RAT_VARIANT = re.compile(r"^([^_:]+):(\d+)$")

CIS_COLUMNS = ["phenotype_id", "variant_id", "pval_beta", "pval_nominal_threshold", "qval", "slope"]
INDEPENDENT_COLUMNS = ["phenotype_id", "variant_id", "rank", "pval_beta", "pval_nominal", "slope"]
PAIR_COLUMNS = ["phenotype_id", "variant_id", "pval_nominal", "slope"]
P_VALUES = {"pval_beta", "pval_nominal_threshold", "qval", "pval_nominal"}


@dataclass
class QtlInputs:
    cis: dict[str, str] = field(default_factory=dict)
    independent: dict[tuple[str, str], str] = field(default_factory=dict)
    pairs: dict[str, list[str]] = field(default_factory=dict)


# Small parsers ---------------------------------------------------------------------------


def gene_of(phenotype_id: str) -> str:
    """The gene part of a tensorQTL phenotype ID (see the module docstring)."""
    parts = phenotype_id.split(":")
    for part in parts:
        if _ENSEMBL_GENE.match(part):
            return part
    return parts[0]


def parse_variant(path: str, line: int, field_name: str, text: str) -> tuple[str, int]:
    """(chromosome, pos) of ``chr1_12345_A_G_b38`` or ``chr1:12345``."""
    found = _GTEX_VARIANT.match(text) or _RAT_VARIANT.match(text)
    if found is None:
        raise InputError(
            path, line, field_name, f"{text!r} is not chr_pos_ref_alt_build nor chr:pos"
        )
    pos = int(found.group(2)) if len(found.group(2)) <= 13 else MAX_POSITION + 1
    if not 1 <= pos <= MAX_POSITION:
        raise InputError(path, line, field_name, f"{text!r}: position out of range")
    return found.group(1), pos


def variant_key(chromosome: str, pos: int) -> str:
    return f"{chromosome}:{pos}"


def parse_number(path: str, line: int, name: str, text: str) -> float:
    """A float cell; empty/NA/nan is NaN; p-value columns must lie in [0, 1]."""
    value = text.strip()
    if value.lower() in _MISSING:
        return math.nan
    try:
        number = float(value)
    except ValueError:
        raise InputError(path, line, name, f"{value[:30]!r} is not a number") from None
    if name in P_VALUES and not 0.0 <= number <= 1.0:
        raise InputError(path, line, name, f"{value} is not a p-value in [0, 1]")
    return number


def parse_rank(path: str, line: int, text: str) -> int:
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 9 or int(value) < 1:
        raise InputError(path, line, "rank", f"{value[:30]!r} is not a rank (1, 2, ...)")
    return int(value)


def _rows(
    path: str, required: list[str], optional: list[str], progress: bool
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {column: cell}) of a tensorQTL TSV; a missing column is refused at line 1."""
    lines = numbered_lines(path, progress)
    first = next(lines, None)
    if first is None:
        raise InputError(path, 1, "header", "empty file")
    header = [cell.strip() for cell in first[1].split("\t")]
    for name in required:
        if name not in header:
            raise InputError(path, 1, name, f"no {name} column in the header")
    wanted = {n: header.index(n) for n in [*required, *optional] if n in header}
    for number, line in lines:
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            raise InputError(
                path, number, "cells", f"{len(cells)} cells, the header has {len(header)}"
            )
        yield number, {n: cells[i].strip() for n, i in wanted.items()}


def _phenotype(path: str, line: int, text: str, seen: dict[str, int] | None) -> str:
    if not text:
        raise InputError(path, line, "phenotype_id", "empty phenotype ID")
    if seen is not None:
        if text in seen:
            raise InputError(
                path, line, "phenotype_id", f"{text!r} appears twice (line {seen[text]})"
            )
        seen[text] = line
    return text


def _check_names(path: str, tissue: str, modality: str = EXPRESSION) -> None:
    if not tissue.strip():
        raise InputError(path, 0, "tissueSiteDetailId", "empty tissue label")
    if modality not in qs.MODALITIES:
        raise InputError(
            path, 0, "modality", f"{modality!r} is not one of {', '.join(qs.MODALITIES)}"
        )


# Tables ----------------------------------------------------------------------------------


def _array(values: list[Any], dtype: Any) -> np.ndarray:
    return np.array(values, dtype=dtype)


def read_cis(path: str, tissue: str, progress: bool = False) -> dict[str, list[Any]]:
    """Columns of ``qtl_genes`` for one tissue's ``cis`` table."""
    _check_names(path, tissue)
    out: dict[str, list[Any]] = {
        k: []
        for k in (
            "phenotypeId",
            "geneId",
            "variantId",
            "pValueBeta",
            "pValueThreshold",
            "qValue",
            "slope",
        )
    }
    seen: dict[str, int] = {}
    for number, row in _rows(path, CIS_COLUMNS, [], progress):
        phenotype = _phenotype(path, number, row["phenotype_id"], seen)
        chromosome, pos = parse_variant(path, number, "variant_id", row["variant_id"])
        out["phenotypeId"].append(phenotype)
        out["geneId"].append(gene_of(phenotype))
        out["variantId"].append(variant_key(chromosome, pos))
        out["pValueBeta"].append(parse_number(path, number, "pval_beta", row["pval_beta"]))
        out["pValueThreshold"].append(
            parse_number(path, number, "pval_nominal_threshold", row["pval_nominal_threshold"])
        )
        out["qValue"].append(parse_number(path, number, "qval", row["qval"]))
        out["slope"].append(parse_number(path, number, "slope", row["slope"]))
    return out


def _genes_table(inputs: QtlInputs, progress: bool) -> tuple[dict, dict[str, dict[str, float]]]:
    """The ``qtl_genes`` columns and, per tissue, phenotype -> nominal p-value threshold."""
    columns: dict[str, list[Any]] = {}
    thresholds: dict[str, dict[str, float]] = {}
    for tissue in sorted(inputs.cis):
        part = read_cis(inputs.cis[tissue], tissue, progress)
        thresholds[tissue] = dict(zip(part["phenotypeId"], part["pValueThreshold"], strict=True))
        rows = len(part["phenotypeId"])
        part["tissueSiteDetailId"] = [tissue] * rows
        part["modality"] = [EXPRESSION] * rows
        for name, values in part.items():
            columns.setdefault(name, []).extend(values)
    genes = columns.get("geneId", [])
    table = {
        "gene_key": _array([gene_key(g) for g in genes], object),
        "tissueSiteDetailId": _array(columns.get("tissueSiteDetailId", []), object),
        "phenotypeId": _array(columns.get("phenotypeId", []), object),
        "geneId": _array(genes, object),
        "variantId": _array(columns.get("variantId", []), object),
        "pValueBeta": _array(columns.get("pValueBeta", []), np.float64),
        "pValueThreshold": _array(columns.get("pValueThreshold", []), np.float64),
        "qValue": _array(columns.get("qValue", []), np.float64),
        "slope": _array(columns.get("slope", []), np.float64),
        "modality": _array(columns.get("modality", []), object),
    }
    return table, thresholds


def read_independent(
    path: str, modality: str, tissue: str, progress: bool = False
) -> dict[str, list[Any]]:
    """Rows of ``qtl_independent`` from one ``cis_independent`` table."""
    _check_names(path, tissue, modality)
    out: dict[str, list[Any]] = {
        k: []
        for k in (
            "tissueSiteDetailId",
            "modality",
            "phenotypeId",
            "geneId",
            "variantId",
            "rank",
            "pValueBeta",
            "pValueNominal",
            "slope",
            "log2aFC",
        )
    }
    for number, row in _rows(path, INDEPENDENT_COLUMNS, ["log2_aFC"], progress):
        phenotype = _phenotype(path, number, row["phenotype_id"], None)
        chromosome, pos = parse_variant(path, number, "variant_id", row["variant_id"])
        out["tissueSiteDetailId"].append(tissue)
        out["modality"].append(modality)
        out["phenotypeId"].append(phenotype)
        out["geneId"].append(gene_of(phenotype))
        out["variantId"].append(variant_key(chromosome, pos))
        out["rank"].append(parse_rank(path, number, row["rank"]))
        out["pValueBeta"].append(parse_number(path, number, "pval_beta", row["pval_beta"]))
        out["pValueNominal"].append(parse_number(path, number, "pval_nominal", row["pval_nominal"]))
        out["slope"].append(parse_number(path, number, "slope", row["slope"]))
        afc = row.get("log2_aFC")
        out["log2aFC"].append(
            math.nan if afc is None else parse_number(path, number, "log2_aFC", afc)
        )
    return out


def _independent_table(inputs: QtlInputs, progress: bool) -> dict[str, np.ndarray]:
    columns: dict[str, list[Any]] = {}
    for modality, tissue in sorted(inputs.independent):
        part = read_independent(inputs.independent[modality, tissue], modality, tissue, progress)
        for name, values in part.items():
            columns.setdefault(name, []).extend(values)
    genes = columns.get("geneId", [])
    return {
        "gene_key": _array([gene_key(g) for g in genes], object),
        "tissueSiteDetailId": _array(columns.get("tissueSiteDetailId", []), object),
        "modality": _array(columns.get("modality", []), object),
        "phenotypeId": _array(columns.get("phenotypeId", []), object),
        "geneId": _array(genes, object),
        "variantId": _array(columns.get("variantId", []), object),
        "rank": _array(columns.get("rank", []), np.int64),
        "pValueBeta": _array(columns.get("pValueBeta", []), np.float64),
        "pValueNominal": _array(columns.get("pValueNominal", []), np.float64),
        "slope": _array(columns.get("slope", []), np.float64),
        "log2aFC": _array(columns.get("log2aFC", []), np.float64),
    }


# Pairs -----------------------------------------------------------------------------------


def _empty_pairs() -> dict[str, np.ndarray]:
    return {
        "gene_key": np.array([], dtype=object),
        "tissueSiteDetailId": np.array([], dtype=object),
        "geneId": np.array([], dtype=object),
        "variantId": np.array([], dtype=object),
        "chromosome": np.array([], dtype=object),
        "pos": np.array([], dtype=np.int64),
        "pValue": np.array([], dtype=np.float64),
        "nes": np.array([], dtype=np.float64),
    }


def _open_parquet(path: str) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path, pre_buffer=False, buffer_size=READ_BUFFER)
    except FileNotFoundError:
        raise InputError(path, 0, "file", "no such file") from None
    except IsADirectoryError:
        raise InputError(path, 0, "file", "is a directory, not a file") from None
    except (pa.ArrowException, OSError) as error:
        raise InputError(path, 0, "file", f"not a parquet file: {error}") from None
    schema = handle.schema_arrow
    for name in PAIR_COLUMNS:
        if name not in schema.names:
            raise InputError(path, 0, name, f"no {name} column in the parquet schema")
    for name in ("phenotype_id", "variant_id"):
        kind = schema.field(name).type
        if pa.types.is_dictionary(kind):  # a pandas categorical column
            kind = kind.value_type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            raise InputError(path, 0, name, f"is {kind}, not a string column")
    for name in ("pval_nominal", "slope"):
        kind = schema.field(name).type
        if not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
            raise InputError(path, 0, name, f"is {kind}, not a numeric column")
    return handle


def significant_pairs(
    path: str, tissue: str, thresholds: dict[str, float]
) -> Iterator[dict[str, np.ndarray]]:
    """Batches of ``qtl_pairs`` rows: the file's pairs with pval_nominal <= the threshold
    of their phenotype. Memory: one parquet batch of the four needed columns. Vectorised
    (Arrow compute, numpy): no Python work per pair, kept or not."""
    import pyarrow as pa
    import pyarrow.compute as pc

    handle = _open_parquet(path)
    known = pa.array(list(thresholds), type=pa.string())
    limits = np.array([*thresholds.values(), math.nan], dtype=np.float64)
    genes = np.array([*(gene_of(k) for k in thresholds), ""], dtype=object)
    keys = np.array([gene_key(g) for g in genes], dtype=object)
    first = 0
    try:
        batches = handle.iter_batches(batch_size=PAIR_BATCH, columns=PAIR_COLUMNS)
        for batch in batches:
            rows = batch.num_rows
            phenotypes = batch.column("phenotype_id").cast(pa.string())
            p = batch.column("pval_nominal").to_numpy(zero_copy_only=False).astype(np.float64)
            bad = (p < 0) | (p > 1)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise InputError(
                    path, first + row + 1, "pval_nominal", f"{p[row]:g} is not a p-value in [0, 1]"
                )
            # Phenotypes the cis table lacks point at the NaN threshold after the known ones.
            where = pc.index_in(phenotypes, value_set=known).fill_null(len(known))
            where = where.to_numpy(zero_copy_only=False)
            keep = np.flatnonzero(p <= limits[where])
            if len(keep):
                rows_kept = _pair_rows(path, batch, keep, first)
                chosen = where[keep]
                yield {
                    "gene_key": keys[chosen],
                    "tissueSiteDetailId": np.full(len(keep), tissue, dtype=object),
                    "geneId": genes[chosen],
                    **rows_kept,
                    "pValue": p[keep],
                }
            first += rows
    except (pa.ArrowException, OSError) as error:
        raise InputError(path, first + 1, "file", f"cannot be read: {error}") from None


_VARIANT_PATTERN = (
    r"^(?P<chromosome>[^_:]+)(?:_(?P<gpos>\d{1,13})_[^_]+_[^_]+(?:_[^_]+)?|:(?P<rpos>\d{1,13}))$"
)


def _pair_rows(path: str, batch: Any, keep: np.ndarray, first: int) -> dict[str, np.ndarray]:
    """variantId, chromosome, pos and nes of the kept rows; a variant ID that is neither
    form is reported at its row (the scalar parser words the error)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chosen = pa.array(keep)
    variants = batch.column("variant_id").take(chosen).cast(pa.string())
    parts = pc.extract_regex(variants, pattern=_VARIANT_PATTERN)
    valid = parts.is_valid().to_numpy(zero_copy_only=False)
    chromosome = parts.field("chromosome")
    text = pc.if_else(pc.equal(parts.field("gpos"), ""), parts.field("rpos"), parts.field("gpos"))
    pos = pc.cast(pc.if_else(parts.is_valid(), text, "0"), pa.int64()).to_numpy(
        zero_copy_only=False
    )
    bad = ~valid | (pos < 1) | (pos > MAX_POSITION)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        row = first + int(keep[k]) + 1
        variant = variants[k].as_py()
        if variant is None:
            raise InputError(path, row, "variant_id", "empty variant ID")
        parse_variant(path, row, "variant_id", variant)
        raise InputError(path, row, "variant_id", f"{variant!r}: position out of range")
    slopes = batch.column("slope").take(chosen).to_numpy(zero_copy_only=False)
    # From the parsed integer: a zero-padded position is served canonically.
    variant_ids = pc.binary_join_element_wise(chromosome, pa.array(pos).cast(pa.string()), ":")
    return {
        "variantId": variant_ids.to_numpy(zero_copy_only=False).astype(object),
        "chromosome": chromosome.to_numpy(zero_copy_only=False).astype(object),
        "pos": pos.astype(np.int64),
        "nes": slopes.astype(np.float64),
    }


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _write_pairs(
    writer: PartWriter, inputs: QtlInputs, thresholds: dict[str, dict[str, float]], progress: bool
) -> int:
    from tqdm import tqdm

    writer.create_table(qs.QTL_PAIRS, ["gene_key"], _empty_pairs())
    buffered: list[dict[str, np.ndarray]] = []
    count = kept = 0
    files = [(t, p) for t in sorted(inputs.pairs) for p in inputs.pairs[t]]
    for tissue, path in tqdm(files, desc="pairs", unit=" files", disable=not progress):
        for rows in significant_pairs(path, tissue, thresholds[tissue]):
            buffered.append(rows)
            count += len(rows["pos"])
            if count >= FLUSH_ROWS:
                writer.append_rows(qs.QTL_PAIRS, _concat(buffered))
                kept += count
                buffered, count = [], 0
    if buffered:
        writer.append_rows(qs.QTL_PAIRS, _concat(buffered))
        kept += count
    return kept


def _check_pairs(inputs: QtlInputs) -> None:
    """Before reading anything: every pairs file's tissue has its cis table (thresholds)."""
    for tissue in sorted(inputs.pairs):
        for path in inputs.pairs[tissue]:
            _check_names(path, tissue)
            if tissue not in inputs.cis:
                raise InputError(
                    path, 0, "tissueSiteDetailId", f"no cis table for tissue {tissue!r}"
                )


def _write(writer: PartWriter, name: str, columns: dict[str, np.ndarray]) -> None:
    if len(columns["gene_key"]):
        writer.write_table(name, ["gene_key"], columns)
    else:
        writer.create_table(name, ["gene_key"], columns)


# Entry point ------------------------------------------------------------------------------


def write_qtl(writer: PartWriter, inputs: QtlInputs, progress: bool) -> None:
    """``qtl_genes``, ``qtl_independent`` and ``qtl_pairs`` into ``writer``'s attempt (an
    empty table when no input feeds it); an InputError leaves the part uncommitted."""
    if not (inputs.cis or inputs.independent or inputs.pairs):
        raise InputError("qtl", 0, "--cis", "no QTL table given")
    _check_pairs(inputs)
    genes, thresholds = _genes_table(inputs, progress)
    independent = _independent_table(inputs, progress)
    genes_dims = ["gene_key", "tissueSiteDetailId"]
    if len(genes["gene_key"]):
        writer.write_table(qs.QTL_GENES, genes_dims, genes)
    else:
        writer.create_table(qs.QTL_GENES, genes_dims, genes)
    _write(writer, qs.QTL_INDEPENDENT, independent)
    _write_pairs(writer, inputs, thresholds, progress)
