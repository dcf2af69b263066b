"""Reference tables of a release: tissues, genes (with per-tissue status), exons, variants.

Tissues and genes are small and read on every page of a portal, so each container loads
them once per release and answers from memory; exons and variants are queried by key.
"""

from __future__ import annotations

import re
from typing import Any

from omicsgate.storage import DataStore

TISSUES = "tissues"
GENES = "genes"
EXONS = "exons"
VARIANTS = "variants"
# Per-tissue status of a gene: one '0'/'1' per tissue, in tissue order.
STATUS_FLAGS = ("expressedIn", "testedEqtlIn", "eqtlIn")
# Columns of the genes table that are storage bookkeeping, never served.
PRIVATE_GENE_COLUMNS = frozenset(
    {"ordinal", "source_id", "expression_row", "expression_symbol", *STATUS_FLAGS}
)

TISSUE_FIELDS = (
    "tissueSiteDetailId",
    "tissueSiteDetail",
    "tissueSite",
    "tissueSiteDetailAbbr",
    "colorHex",
    "colorRgb",
    "dataset",
    "datasetId",
    "rnaSeqSampleCount",
    "rnaSeqAndGenotypeSampleCount",
    "expressedGeneCount",
    "eGeneCount",
    "hasEGenes",
)
VARIANT_ID = re.compile(r"^([A-Za-z0-9_.-]{1,40}):([1-9][0-9]{0,11})$")
Row = dict[str, Any]


def gene_key(gene_id: str) -> str:
    """Gene IDs match case-insensitively."""
    return gene_id.lower()


def _rows(columns: dict[str, Any]) -> list[Row]:
    names = list(columns)
    # tolist() converts a whole column to Python values at once: far cheaper than per cell.
    values = [columns[name].tolist() for name in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _sorted(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: r["ordinal"])


def tissue_info(store: DataStore, release: str) -> list[Row]:
    def load() -> list[Row]:
        rows = _sorted(_rows(store.read_all(release, TISSUES)))
        return [_tissue(row) for row in rows]

    return store.memo(release, "tissueInfo", load)


def _tissue(row: Row) -> Row:
    tissue = {field: row[field] for field in TISSUE_FIELDS}
    tissue["hasEGenes"] = tissue["hasEgenes"] = bool(row["hasEGenes"])
    return tissue


def _gene_index(store: DataStore, release: str) -> dict[str, Row]:
    def load() -> dict[str, Row]:
        rows = _sorted(_rows(store.read_all(release, GENES)))
        return {row.pop("gene_key"): row for row in rows}

    return store.memo(release, "geneIndex", load)


def _with_status(store: DataStore, release: str, gene: Row) -> Row:
    """A gene as served: its row, and its status flags unfolded into one item per tissue."""
    flags = [gene[name] for name in STATUS_FLAGS]
    status = [
        {
            "tissueSiteDetailId": tissue["tissueSiteDetailId"],
            "expressed": flags[0][i] == "1",
            "testedEqtl": flags[1][i] == "1",
            "eqtl": flags[2][i] == "1",
        }
        for i, tissue in enumerate(tissue_info(store, release))
    ]
    fields = {k: v for k, v in gene.items() if k not in PRIVATE_GENE_COLUMNS}
    return {**fields, "hasEqtl": any(s["eqtl"] for s in status), "statusInTissue": status}


def genes(store: DataStore, release: str, gene_ids: list[str]) -> list[Row]:
    """Genes in request order; unknown IDs dropped; a repeated ID answered once."""
    index = _gene_index(store, release)
    keys = dict.fromkeys(k for k in map(gene_key, gene_ids) if k in index)
    return [_with_status(store, release, index[key]) for key in keys]


def gene_summaries(store: DataStore, release: str) -> list[Row]:
    """Every gene of the release in release order, as /gene serves it but without the
    per-tissue ``statusInTissue`` (``hasEqtl`` kept): cheap to filter (the catalog's gene
    search does), :func:`genes` gives the whole record. Built once per container."""

    def load() -> list[Row]:
        return [
            {
                **{k: v for k, v in row.items() if k not in PRIVATE_GENE_COLUMNS},
                "hasEqtl": "1" in row["eqtlIn"],
            }
            for row in _gene_index(store, release).values()
        ]

    return store.memo(release, "geneSummaries", load)


def exons(store: DataStore, release: str, gene_id: str) -> list[Row]:
    if gene_key(gene_id) not in _gene_index(store, release):
        return []  # answered from memory: no array read for an unknown gene
    columns = store.read_points(release, EXONS, [[gene_key(gene_id)]])
    rows = _sorted(_rows(columns))
    return [{k: v for k, v in r.items() if k not in ("gene_key", "ordinal")} for r in rows]


def parse_variant_id(variant_id: str) -> tuple[str, int] | None:
    match = VARIANT_ID.match(variant_id)
    return (match.group(1), int(match.group(2))) if match else None


def variants(store: DataStore, release: str, loci: list[tuple[str, int]]) -> list[Row]:
    """Variants at the given loci, in request order; unknown loci dropped."""
    wanted = list(dict.fromkeys(loci))
    points: list[list[Any]] = [[c for c, _ in wanted], [p for _, p in wanted]]
    rows = _rows(store.read_points(release, VARIANTS, points))
    by_locus: dict[tuple[str, int], list[Row]] = {}
    for row in sorted(rows, key=lambda r: r["ordinal"]):
        by_locus.setdefault((row["chromosome"], row["pos"]), []).append(row)
    return [
        {"alt": r["alt"], "chromosome": c, "pos": p, "ref": r["ref"], "variantId": f"{c}:{p}"}
        for c, p in wanted
        for r in by_locus.get((c, p), [])
    ]
