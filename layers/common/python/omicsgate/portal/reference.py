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
GENE_STATUS = "gene_status"
EXONS = "exons"
VARIANTS = "variants"

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
    count = len(columns[names[0]]) if names else 0
    return [{n: _plain(columns[n][i]) for n in names} for i in range(count)]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


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
        tissues = [t["tissueSiteDetailId"] for t in tissue_info(store, release)]
        statuses = _statuses(store, release)
        index: dict[str, Row] = {}
        for row in _sorted(_rows(store.read_all(release, GENES))):
            status = statuses.get(row["geneId"], {})
            per_tissue = [status.get(t, _status(t, 0, 0, 0)) for t in tissues]
            index[row.pop("gene_key")] = {
                **{k: v for k, v in row.items() if k != "ordinal"},
                "hasEqtl": any(s["eqtl"] for s in per_tissue),
                "statusInTissue": per_tissue,
            }
        return index

    return store.memo(release, "geneIndex", load)


def _status(tissue: str, expressed: int, tested: int, eqtl: int) -> Row:
    return {
        "tissueSiteDetailId": tissue,
        "expressed": bool(expressed),
        "testedEqtl": bool(tested),
        "eqtl": bool(eqtl),
    }


def _statuses(store: DataStore, release: str) -> dict[str, dict[str, Row]]:
    if not store.has_array(release, GENE_STATUS):
        return {}
    by_gene: dict[str, dict[str, Row]] = {}
    for row in _rows(store.read_all(release, GENE_STATUS)):
        tissue = row["tissueSiteDetailId"]
        by_gene.setdefault(row["geneId"], {})[tissue] = _status(
            tissue, row["expressed"], row["testedEqtl"], row["eqtl"]
        )
    return by_gene


def genes(store: DataStore, release: str, gene_ids: list[str]) -> list[Row]:
    """Genes in request order; unknown IDs dropped; a repeated ID answered once."""
    index = _gene_index(store, release)
    found: dict[str, Row] = {}
    for gene_id in gene_ids:
        key = gene_key(gene_id)
        if key in index and key not in found:
            found[key] = index[key]
    return list(found.values())


def canonical_gene_id(store: DataStore, release: str, gene_id: str) -> str | None:
    gene = _gene_index(store, release).get(gene_key(gene_id))
    return gene["geneId"] if gene else None


def exons(store: DataStore, release: str, gene_id: str) -> list[Row]:
    if canonical_gene_id(store, release, gene_id) is None:
        return []
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
