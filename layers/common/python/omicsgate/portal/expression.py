"""Expression of a release: per-sample TPM, per-tissue medians and the top genes.

Storage is described in :mod:`omicsgate.portal.expression_schema`. What is read per request:

- ``/geneExpression``: one row of the dense ``expression`` array (one tile: one gene across
  every sample), cut into tissues by the ``column_start``/``column_end`` publish derived.
- ``/medianGeneExpression``: the genes' rows of ``expression_summary`` (medians computed at
  ingestion, never per request), then clustering in memory.
- ``/topExpressedGene``: nothing; the packed ``top_expressed`` table is in memory.

Gene and tissue lookups answer from small per-release indexes built once per container.
An unknown gene or tissue raises :class:`UnknownIds`, a release without expression
:class:`NoExpression`; the routes turn both into 4xx answers naming the parameter.
numpy is imported inside the functions: importing the handler stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from omicsgate.portal import expression_schema as xs
from omicsgate.portal.reference import GENES, TISSUES, gene_key
from omicsgate.storage import DataStore, consecutive_runs

if TYPE_CHECKING:
    import numpy as np
    import tiledb

UNIT = "TPM"
TPM = "tpm"
Row = dict[str, Any]


class NoExpression(LookupError):
    """The release has no expression part."""


class UnknownIds(LookupError):
    """IDs the release does not know, and the parameter that named them."""

    def __init__(self, parameter: str, ids: Sequence[str], what: str) -> None:
        shown = ", ".join(repr(i) for i in ids[:5])
        more = f" and {len(ids) - 5} more" if len(ids) > 5 else ""
        super().__init__(f"unknown {what} {shown}{more}")
        self.parameter = parameter
        self.ids = list(ids)


@dataclass(frozen=True)
class Tissue:
    tissue_id: str
    start: int  # the tissue's samples: columns [start, end) of ``expression``
    end: int
    index: int  # its column of ``expression_summary`` (-1: no expression for it)

    @property
    def has_expression(self) -> bool:
        return self.index >= 0


@dataclass(frozen=True)
class Gene:
    gene_id: str
    chromosome: str
    row: int  # its row of ``expression`` and ``expression_summary`` (-1: none)
    symbol: str  # the expression input's symbol (GCT Description)


@dataclass(frozen=True)
class ExpressionIndex:
    genes: dict[str, Gene]  # by gene_key
    tissues: list[Tissue]  # release order
    tissue_by_key: dict[str, Tissue]
    columns: int


def index(store: DataStore, release: str) -> ExpressionIndex:
    """Genes and tissues of a release as expression needs them; NoExpression without the
    expression part. Built once per container and release."""
    if not store.has_table(release, xs.EXPRESSION):
        raise NoExpression(f"release {release!r} has no expression data")
    return store.memo(release, "expressionIndex", lambda: _load_index(store, release))


def _load_index(store: DataStore, release: str) -> ExpressionIndex:
    import numpy as np

    genes = store.read_all(release, GENES)
    by_key = {
        key: Gene(str(gene_id), str(chromosome), int(row), str(symbol) or str(gene_id))
        for key, gene_id, chromosome, row, symbol in zip(
            genes["gene_key"].tolist(),
            genes["geneId"].tolist(),
            genes["chromosome"].tolist(),
            np.asarray(genes["expression_row"]).tolist(),
            genes["expression_symbol"].tolist(),
            strict=True,
        )
    }
    tissues = store.read_all(release, TISSUES)
    order = np.argsort(np.asarray(tissues["ordinal"]), kind="stable")
    listed = [
        Tissue(
            str(tissues["tissueSiteDetailId"][i]),
            int(tissues["column_start"][i]),
            int(tissues["column_end"][i]),
            int(tissues["expression_index"][i]),
        )
        for i in order.tolist()
    ]
    columns = max((t.end for t in listed), default=0)
    return ExpressionIndex(by_key, listed, {t.tissue_id.lower(): t for t in listed}, columns)


def find_genes(store: DataStore, release: str, gene_ids: Sequence[str]) -> list[Gene]:
    """The genes named, in request order, each once; UnknownIds for IDs the release lacks
    (IDs match case-insensitively, as for /gene)."""
    genes = index(store, release).genes
    keys = list(dict.fromkeys(gene_key(g) for g in gene_ids))
    unknown = [g for g in dict.fromkeys(gene_ids) if gene_key(g) not in genes]
    if unknown:
        raise UnknownIds("geneId", unknown, "gene" if len(unknown) == 1 else "genes")
    return [genes[k] for k in keys]


def find_tissues(store: DataStore, release: str, tissue_ids: Sequence[str] | None) -> list[Tissue]:
    """The tissues named (every tissue with expression when None), in request order."""
    found = index(store, release)
    if tissue_ids is None:
        return [t for t in found.tissues if t.has_expression]
    keys = list(dict.fromkeys(t.lower() for t in tissue_ids))
    unknown = [t for t in dict.fromkeys(tissue_ids) if t.lower() not in found.tissue_by_key]
    if unknown:
        raise UnknownIds(
            "tissueSiteDetailId", unknown, "tissue" if len(unknown) == 1 else "tissues"
        )
    return [found.tissue_by_key[k] for k in keys]


# Reads of the dense arrays ---------------------------------------------------------------


def expression_rows(store: DataStore, release: str, rows: Sequence[int]) -> np.ndarray:
    """TPM of the given gene rows across every sample: float32, ``len(rows)`` x columns, in
    the order asked (a row may repeat).

    One query for all of them (a tile per gene): measured on a 3,000 x 3,000 array, one
    ``multi_index`` over the rows issued 2 reads for 50 genes where a query per gene
    issued 50. TileDB merges the tile reads of one query into fewer, larger requests
    (``vfs.min_batch_gap``), so a few scattered genes of a small matrix may read the tiles
    between them too."""
    import numpy as np

    wanted = sorted({int(r) for r in rows})

    def read(array: tiledb.Array) -> np.ndarray:
        if not wanted:
            columns = int(array.schema.domain.dim(1).domain[1]) + 1
            return np.empty((0, columns), dtype=np.float32)
        ranges = consecutive_runs(wanted)
        return np.asarray(array.query(attrs=[TPM]).multi_index[ranges, :][TPM])

    block = store.read(release, xs.EXPRESSION, read)
    if list(rows) == wanted:
        return block
    position = {row: i for i, row in enumerate(wanted)}
    return block[[position[int(r)] for r in rows]]


def sample_column(store: DataStore, release: str, column: int) -> np.ndarray:
    """One sample across every gene (float32, one value per gene row): the axis the layout
    is not built for, as every gene's tile holds a piece of it."""
    import numpy as np

    def read(array: tiledb.Array) -> np.ndarray:
        values = array.query(attrs=[TPM]).multi_index[:, [(column, column)]][TPM]
        return np.asarray(values).reshape(-1)

    return store.read(release, xs.EXPRESSION, read)


def summary_rows(store: DataStore, release: str, rows: Sequence[int]) -> np.ndarray:
    """Per-tissue medians (float32, ``len(rows)`` x summary tissues) of the given rows."""
    import numpy as np

    wanted = sorted({int(r) for r in rows})

    def read(array: tiledb.Array) -> np.ndarray:
        ranges = consecutive_runs(wanted)
        return np.asarray(array.query(attrs=["median"]).multi_index[ranges, :]["median"])

    if not wanted:
        return np.empty((0, 0), dtype=np.float32)
    block = store.read(release, xs.EXPRESSION_SUMMARY, read)
    position = {row: i for i, row in enumerate(wanted)}
    return block[[position[int(r)] for r in rows]]


def floats(values: np.ndarray) -> list[float | None]:
    """JSON numbers: float32 values written as their shortest decimal (3.33544, not
    3.3354399204254150), NaN (no value) as null."""
    import numpy as np

    array = np.asarray(values, dtype=np.float32)
    text = array.astype(str).tolist()
    out: list[float | None] = [float(t) for t in text]
    if np.isnan(array).any():
        out = [None if v != v else v for v in out]  # NaN != NaN
    return out


# Answers -----------------------------------------------------------------------------------


def gene_expression(store: DataStore, release: str, gene_id: str) -> list[Row]:
    """One item per tissue with expression, in tissue order: every sample's TPM, in the
    order of that tissue's samples. A known gene without an expression row has none."""
    (gene,) = find_genes(store, release, [gene_id])
    tissues = [t for t in index(store, release).tissues if t.has_expression]
    if gene.row < 0 or not tissues:
        return []
    values = expression_rows(store, release, [gene.row])[0]
    return [
        {
            "data": floats(values[t.start : t.end]),
            "datasetId": release,
            "geneId": gene.gene_id,
            "geneSymbol": gene.symbol,
            "tissueSiteDetailId": t.tissue_id,
            "unit": UNIT,
        }
        for t in tissues
    ]


@dataclass(frozen=True)
class Medians:
    genes: list[Gene]  # with expression, request order
    tissues: list[Tissue]  # with expression, request order
    values: np.ndarray  # float32, genes x tissues (NaN: no value)


def median_matrix(
    store: DataStore, release: str, gene_ids: Sequence[str], tissue_ids: Sequence[str] | None
) -> Medians:
    """Medians of the genes in the tissues (all tissues with expression when None), read
    from ``expression_summary``. Genes and tissues the release knows but has no expression
    for are left out."""
    import numpy as np

    genes = [g for g in find_genes(store, release, gene_ids) if g.row >= 0]
    tissues = [t for t in find_tissues(store, release, tissue_ids) if t.has_expression]
    if not genes or not tissues:
        return Medians(genes, tissues, np.empty((len(genes), len(tissues)), dtype=np.float32))
    block = summary_rows(store, release, [g.row for g in genes])
    return Medians(genes, tissues, block[:, [t.index for t in tissues]])


def median_expression(
    store: DataStore, release: str, gene_ids: Sequence[str], tissue_ids: Sequence[str] | None
) -> Row:
    """The ``/medianGeneExpression`` answer: medians gene by gene, tissue by tissue (request
    order), and the clusters of genes (rows) and tissues (columns) as Newick.

    Clustering uses the medians as served (TPM, no log transform; see
    :mod:`omicsgate.science.clustering`); a missing median counts as 0 there."""
    import numpy as np

    from omicsgate.science import cluster_newick

    medians = median_matrix(store, release, gene_ids, tissue_ids)
    values = medians.values
    served = floats(values.reshape(-1))
    items = [
        {"geneId": gene.gene_id, "tissueSiteDetailId": tissue.tissue_id, "median": value}
        for (gene, tissue), value in zip(
            ((g, t) for g in medians.genes for t in medians.tissues), served, strict=True
        )
    ]
    # Cluster on the medians as stored (float32, which the served decimals round-trip).
    matrix = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    gene_ids_out = [g.gene_id for g in medians.genes]
    tissue_ids_out = [t.tissue_id for t in medians.tissues]
    return {
        "clusters": {
            "gene": cluster_newick(matrix, gene_ids_out),
            "tissue": cluster_newick(matrix.T, tissue_ids_out),
        },
        "medianGeneExpression": items,
    }


def top_expressed(store: DataStore, release: str, tissue_id: str, filter_mt: bool) -> list[Row]:
    """The genes with the highest median in a tissue (at most 50), highest first, from the
    packed ``top_expressed`` table (memory only)."""
    (tissue,) = find_tissues(store, release, [tissue_id])
    lists = _top_lists(store, release)
    return [
        {**row, "datasetId": release, "unit": UNIT}
        for row in lists.get((tissue.tissue_id, bool(filter_mt)), [])
    ]


def _top_lists(store: DataStore, release: str) -> dict[tuple[str, bool], list[Row]]:
    def load() -> dict[tuple[str, bool], list[Row]]:
        if not store.has_table(release, xs.TOP_EXPRESSED):
            return {}
        columns = store.read_all(release, xs.TOP_EXPRESSED)
        ranked = sorted(
            zip(
                columns["tissueSiteDetailId"].tolist(),
                columns["filterMt"].tolist(),
                columns["rank"].tolist(),
                columns["geneId"].tolist(),
                columns["chromosome"].tolist(),
                floats(columns["median"]),
                strict=True,
            ),
            key=lambda r: (r[0], r[1], r[2]),
        )
        lists: dict[tuple[str, bool], list[Row]] = {}
        for tissue_id, filter_mt, _, gene_id, chromosome, median in ranked:
            lists.setdefault((str(tissue_id), bool(filter_mt)), []).append(
                {
                    "chromosome": str(chromosome),
                    "geneId": str(gene_id),
                    "median": median,
                    "tissueSiteDetailId": str(tissue_id),
                }
            )
        return lists

    return store.memo(release, "topExpressed", load)
