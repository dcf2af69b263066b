"""xQTLs of a release: independent eQTLs/xQTLs, significant pairs and dynamic eQTLs.

Storage is described in :mod:`omicsgate.portal.qtl_schema`. What is read per request:

- ``/eqtl``, ``/xqtl``: the gene's rows of the sparse ``qtl_independent`` table (one point
  query over every key of the gene), then REF/ALT of their variants from
  ``genotype_variants`` (or the reference ``variants`` table).
- ``/singleTissueEqtl``: the gene's rows of ``qtl_pairs``.
- ``/dyneqtl``: one row of ``expression`` (the gene), one row of the dense ``genotypes``
  array (the variant: one tile, never the whole array, whose domain is 2**40 rows), the
  expression columns mapped to genotype samples through ``sample_genotypes`` (in memory),
  the variant's ``genotype_variants`` row and the gene's ``qtl_genes`` row for the tissue
  (its nominal p-value threshold). Those two tables are read once and kept in memory when
  they have at most :data:`SMALL_TABLE_ROWS` rows (then a warm request reads 2 tiles), and
  queried per request otherwise.

QTL files may key genes by Ensembl ID where the release serves gene names: a requested gene
is looked up in the release's ``genes`` table and the QTL tables are queried with every key
of that gene (its geneId, its annotation ID ``source_id`` with and without the version).
Unknown IDs raise :class:`~omicsgate.portal.expression.UnknownIds` (or :class:`NotTestable`
for a known gene or tissue without data), a release without the QTL or genotype parts
:class:`NoQtl`; the routes turn them into 4xx answers naming the parameter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from omicsgate.portal import expression
from omicsgate.portal import qtl_schema as qs
from omicsgate.portal.expression import UnknownIds
from omicsgate.portal.reference import GENES, TISSUES, VARIANTS, gene_key, parse_variant_id
from omicsgate.storage import DataStore

if TYPE_CHECKING:
    import numpy as np
    import tiledb

Row = dict[str, Any]
EXPRESSION = "expression"  # the modality of eQTLs


class NoQtl(LookupError):
    """The release has no QTL (or no genotype) part."""


class NotTestable(LookupError):
    """A known ID the request cannot be answered for (a gene without expression, a tissue
    without samples), and the parameter that named it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class QtlGene:
    gene_id: str  # as the release serves it
    keys: tuple[str, ...]  # gene_key values the QTL tables may hold for it


def _require(store: DataStore, release: str, tables: Sequence[str], what: str) -> None:
    if not all(store.has_table(release, t) for t in tables):
        raise NoQtl(f"release {release!r} has no {what} data")


QTL_TABLES = {"independent": qs.QTL_INDEPENDENT, "pairs": qs.QTL_PAIRS}


def require(store: DataStore, release: str, kind: str) -> None:
    """NoQtl unless the release has the QTL table of ``kind`` (independent, pairs)."""
    _require(store, release, [QTL_TABLES[kind]], "QTL")


def _gene_index(store: DataStore, release: str) -> dict[str, QtlGene]:
    """Every key a gene answers to -> the gene; the served geneId wins a clash."""

    def load() -> dict[str, QtlGene]:
        genes = store.read_all(release, GENES)
        ids = [str(g) for g in genes["geneId"].tolist()]
        sources = (
            [str(s) for s in genes["source_id"].tolist()]
            if "source_id" in genes
            else [""] * len(ids)
        )
        index: dict[str, QtlGene] = {}
        served: dict[str, QtlGene] = {}
        for gene_id, source in zip(ids, sources, strict=True):
            keys = [gene_key(k) for k in (gene_id, source, source.split(".", 1)[0]) if k]
            gene = QtlGene(gene_id, tuple(dict.fromkeys(keys)))
            served[gene_key(gene_id)] = gene
            for key in gene.keys[1:]:
                index.setdefault(key, gene)
        index.update(served)
        return index

    return store.memo(release, "qtlGeneIndex", load)


def find_gene(store: DataStore, release: str, gene_id: str) -> QtlGene:
    gene = _gene_index(store, release).get(gene_key(gene_id))
    if gene is None:
        raise UnknownIds("geneId", [gene_id], "gene")
    return gene


def _tissue_order(store: DataStore, release: str) -> dict[str, int]:
    def load() -> dict[str, int]:
        tissues = store.read_all(release, TISSUES)
        return {
            str(t): int(o)
            for t, o in zip(
                tissues["tissueSiteDetailId"].tolist(), tissues["ordinal"].tolist(), strict=True
            )
        }

    return store.memo(release, "qtlTissueOrder", load)


def number(value: Any) -> float | None:
    """A float64 as JSON: NaN (no value) as null, full precision (p-values reach 1e-300)."""
    v = float(value)
    return None if math.isnan(v) else v


def _rows(columns: dict[str, Any]) -> list[Row]:
    names = list(columns)
    values = [columns[name].tolist() for name in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _gene_rows(store: DataStore, release: str, table: str, gene: QtlGene) -> list[Row]:
    return _rows(store.read_points(release, table, [list(gene.keys)]))


# Variants ---------------------------------------------------------------------------------


def _alleles(store: DataStore, release: str, variant_ids: Sequence[str]) -> dict[str, tuple]:
    """variantId -> (ref, alt) from ``genotype_variants`` (the first ALT of a multi-allelic
    site), else from the reference ``variants`` table; loci found in neither are left out."""
    loci = {v: parse_variant_id(v) for v in dict.fromkeys(variant_ids)}
    wanted = list(dict.fromkeys(locus for locus in loci.values() if locus is not None))
    found: dict[tuple[str, int], tuple[str, str]] = {}
    for table, order in ((qs.GENOTYPE_VARIANTS, "variant_row"), (VARIANTS, "ordinal")):
        missing = [locus for locus in wanted if locus not in found]
        if not missing or not store.has_table(release, table):
            continue
        points: list[list[Any]] = [[c for c, _ in missing], [p for _, p in missing]]
        rows = _rows(store.read_points(release, table, points))
        for row in sorted(rows, key=lambda r: r.get(order, 0), reverse=True):
            found[(str(row["chromosome"]), int(row["pos"]))] = (str(row["ref"]), str(row["alt"]))
    return {v: found[locus] for v, locus in loci.items() if locus is not None and locus in found}


# Answers ----------------------------------------------------------------------------------


def independent(store: DataStore, release: str, gene_id: str, modality: str | None) -> list[Row]:
    """Conditionally independent QTLs of a gene (every modality when ``modality`` is None),
    in tissue order, then modality, phenotype and rank."""
    require(store, release, "independent")
    gene = find_gene(store, release, gene_id)
    rows = _gene_rows(store, release, qs.QTL_INDEPENDENT, gene)
    if modality is not None:
        rows = [r for r in rows if r["modality"] == modality]
    order = _tissue_order(store, release)
    modalities = {m: k for k, m in enumerate(qs.MODALITIES)}
    rows.sort(
        key=lambda r: (
            order.get(r["tissueSiteDetailId"], len(order)),
            r["tissueSiteDetailId"],
            modalities.get(r["modality"], len(modalities)),
            r["phenotypeId"],
            int(r["rank"]),
        )
    )
    alleles = _alleles(store, release, [r["variantId"] for r in rows])
    out = []
    for r in rows:
        ref, alt = alleles.get(r["variantId"], (None, None))
        item: Row = {
            "tissueSiteDetailId": r["tissueSiteDetailId"],
            "geneId": gene.gene_id,
            "variantId": r["variantId"],
            "ref": ref,
            "alt": alt,
            "pValueBeta": number(r["pValueBeta"]),
        }
        if modality == EXPRESSION:
            item["log2aFC"] = number(r["log2aFC"])
        else:
            item["modality"] = r["modality"]
            item["phenotypeId"] = r["phenotypeId"]
        out.append(item)
    return out


def single_tissue(store: DataStore, release: str, gene_id: str) -> list[Row]:
    """The gene's significant cis pairs, in tissue order, then position; [] when none."""
    require(store, release, "pairs")
    gene = find_gene(store, release, gene_id)
    rows = _gene_rows(store, release, qs.QTL_PAIRS, gene)
    order = _tissue_order(store, release)
    rows.sort(
        key=lambda r: (
            order.get(r["tissueSiteDetailId"], len(order)),
            r["tissueSiteDetailId"],
            r["chromosome"],
            int(r["pos"]),
        )
    )
    return [
        {
            "variantId": r["variantId"],
            "pValue": number(r["pValue"]),
            "nes": number(r["nes"]),
            "chromosome": r["chromosome"],
            "pos": int(r["pos"]),
            "tissueSiteDetailId": r["tissueSiteDetailId"],
            "geneId": gene.gene_id,
        }
        for r in rows
    ]


# Dynamic eQTL -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GenotypedVariant:
    variant_id: str
    ref: str
    alt: str
    row: int  # of ``genotypes``


# A table of at most this many rows (the manifest counts them) is read once per container
# and kept in memory, instead of a sparse point query per request: a point query decodes
# whole 10,000-cell tiles of every attribute (4-5 ms and 7-10 VFS reads on the demo). About
# 100 bytes a row in memory; bigger tables (a GTEx-size genotype_variants) stay queried.
SMALL_TABLE_ROWS = 100_000


def _small(store: DataStore, release: str, table: str) -> bool:
    rows = (store.manifest(release)["tables"].get(table) or {}).get("rows")
    return isinstance(rows, int) and rows <= SMALL_TABLE_ROWS


def _variant_index(store: DataStore, release: str) -> dict[tuple[str, int], Row]:
    """(chromosome, pos) -> its ``genotype_variants`` row of the smallest variant_row."""

    def load() -> dict[tuple[str, int], Row]:
        index: dict[tuple[str, int], Row] = {}
        for row in _rows(store.read_all(release, qs.GENOTYPE_VARIANTS)):
            locus = (str(row["chromosome"]), int(row["pos"]))
            if locus not in index or int(row["variant_row"]) < int(index[locus]["variant_row"]):
                index[locus] = row
        return index

    return store.memo(release, "qtlVariantIndex", load)


def find_variant(store: DataStore, release: str, variant_id: str) -> GenotypedVariant:
    """The genotyped variant at ``chr:pos`` (the first ALT of a multi-allelic site)."""
    locus = parse_variant_id(variant_id)
    if locus is None:
        raise NotTestable("variantId", f"{variant_id!r} is not a variant ID (chr:pos)")
    if _small(store, release, qs.GENOTYPE_VARIANTS):
        found = _variant_index(store, release).get(locus)
        rows = [] if found is None else [found]
    else:
        points: list[list[Any]] = [[locus[0]], [locus[1]]]
        rows = _rows(store.read_points(release, qs.GENOTYPE_VARIANTS, points))
    if not rows:
        raise UnknownIds("variantId", [variant_id], "variant")
    row = min(rows, key=lambda r: int(r["variant_row"]))
    return GenotypedVariant(
        f"{locus[0]}:{locus[1]}", str(row["ref"]), str(row["alt"]), int(row["variant_row"])
    )


def genotype_row(store: DataStore, release: str, row: int) -> np.ndarray:
    """One variant's dosages across every genotype sample (int8): one tile."""
    import numpy as np

    def read(array: tiledb.Array) -> np.ndarray:
        return np.asarray(array.query(attrs=["dosage"]).multi_index[[(row, row)], :]["dosage"])

    return store.read(release, qs.GENOTYPES, read).reshape(-1)


def _sample_genotypes(store: DataStore, release: str) -> np.ndarray:
    """Genotype sample of every expression column (-1: not genotyped)."""
    import numpy as np

    def load() -> np.ndarray:
        table = store.read_all(release, qs.SAMPLE_GENOTYPES)
        columns = np.asarray(table["column"], dtype=np.int64)
        size = int(columns.max()) + 1 if columns.size else 0
        mapped = np.full(size, -1, dtype=np.int64)
        mapped[columns] = np.asarray(table["genotype_sample"], dtype=np.int64)
        return mapped

    return store.memo(release, "sampleGenotypes", load)


THRESHOLD_ATTRS = ["modality", "pValueThreshold"]


def _thresholds(store: DataStore, release: str) -> dict[tuple[str, str], float]:
    """(gene_key, tissue) -> the first non-null eQTL ``pValueThreshold`` of ``qtl_genes``."""
    from omicsgate.storage._tables import as_columns

    def load() -> dict[tuple[str, str], float]:
        def read(array: tiledb.Array) -> dict[str, Any]:
            return as_columns(array.query(attrs=THRESHOLD_ATTRS)[:], array.schema)

        out: dict[tuple[str, str], float] = {}
        for row in _rows(store.read(release, qs.QTL_GENES, read)):
            value = number(row["pValueThreshold"])
            if row["modality"] == EXPRESSION and value is not None:
                out.setdefault((str(row["gene_key"]), str(row["tissueSiteDetailId"])), value)
        return out

    return store.memo(release, "qtlThresholds", load)


def _threshold(store: DataStore, release: str, gene: QtlGene, tissue: str) -> float | None:
    if not store.has_table(release, qs.QTL_GENES):
        return None
    if _small(store, release, qs.QTL_GENES):
        thresholds = _thresholds(store, release)
        # The first of the gene's keys in the array's (sorted) order, as the query answers.
        for key in sorted(gene.keys):
            if (key, tissue) in thresholds:
                return thresholds[key, tissue]
        return None
    from omicsgate.storage._tables import as_columns

    # Only the two attributes needed: the others (IDs, p-values, slope) would triple the
    # tiles read (316 KB -> 102 KB and 16 -> 7 VFS reads per request on the demo).
    ranges = (sorted({(k, k) for k in gene.keys}), [(tissue, tissue)])

    def read(array: tiledb.Array) -> dict[str, Any]:
        return as_columns(array.query(attrs=THRESHOLD_ATTRS).multi_index[ranges], array.schema)

    for row in _rows(store.read(release, qs.QTL_GENES, read)):
        if row["modality"] == EXPRESSION and number(row["pValueThreshold"]) is not None:
            return number(row["pValueThreshold"])
    return None


def require_dyneqtl(store: DataStore, release: str) -> None:
    """NoQtl unless the release has genotypes mapped to its expression samples."""
    expression.index(store, release)  # NoExpression without expression
    tables = [qs.GENOTYPES, qs.GENOTYPE_VARIANTS, qs.SAMPLE_GENOTYPES]
    _require(store, release, tables, "genotype")


def dyneqtl(store: DataStore, release: str, gene_id: str, variant_id: str, tissue_id: str) -> Row:
    """Expression of the gene in the tissue's genotyped samples against the variant's
    dosages, and their regression (:func:`omicsgate.science.qtl.dyneqtl_stats`)."""
    import numpy as np

    from omicsgate.science.qtl import dyneqtl_stats

    require_dyneqtl(store, release)
    gene = find_gene(store, release, gene_id)
    (tissue,) = expression.find_tissues(store, release, [tissue_id])
    variant = find_variant(store, release, variant_id)
    found = expression.index(store, release).genes.get(gene_key(gene.gene_id))
    if found is None or found.row < 0:
        raise NotTestable("geneId", f"gene {gene.gene_id!r} has no expression data")
    if not tissue.has_expression or tissue.end <= tissue.start:
        raise NotTestable(
            "tissueSiteDetailId", f"tissue {tissue.tissue_id!r} has no expression data"
        )
    mapped = _sample_genotypes(store, release)
    columns = np.arange(tissue.start, tissue.end)
    samples = np.where(columns < mapped.size, mapped[np.minimum(columns, mapped.size - 1)], -1)
    genotyped = samples >= 0
    values = expression.expression_rows(store, release, [found.row])[0][tissue.start : tissue.end]
    values = values[genotyped]
    dosage = genotype_row(store, release, variant.row)[samples[genotyped]].astype(np.int64)
    dosage[dosage < 0] = qs.MISSING_DOSAGE
    stats = dyneqtl_stats(values.astype(np.float64), dosage, missing=qs.MISSING_DOSAGE)
    return {
        "data": expression.floats(values),
        "genotypes": [None if d < 0 else int(d) for d in dosage.tolist()],
        "geneId": gene.gene_id,
        "hetCount": stats.hetCount,
        "homoAltCount": stats.homoAltCount,
        "homoRefCount": stats.homoRefCount,
        "maf": number(stats.maf),
        "ref": variant.ref,
        "alt": variant.alt,
        "pValue": number(stats.pValue),
        "pValueThreshold": _threshold(store, release, gene, tissue.tissue_id),
        "tissueSiteDetailId": tissue.tissue_id,
        "variantId": variant.variant_id,
        "nes": number(stats.nes),
        "slope": number(stats.slope),
        "tStatistic": number(stats.tStatistic),
    }
