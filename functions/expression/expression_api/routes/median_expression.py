from typing import Annotated

from fastapi import APIRouter, Query

from expression_api.routes import client_errors
from omicsgate.models.portal import MedianGeneExpressionResponse
from omicsgate.portal import expression
from omicsgate.web import ApiError
from omicsgate.web.params import Release, Store, split_ids
from omicsgate.web.security import Metered

router = APIRouter(prefix="/api/v4", tags=["expression"])
# Bounds the answer well inside Lambda's 6 MB (about 110 bytes a median) and the
# clustering's time: 1,000 genes x 25 tissues, or 460 genes x GTEx's 54.
MAX_MEDIANS = 25_000
GENES_PER_UNIT = 100  # cost: 1 per started 100 genes (clustering grows with the genes)


@router.get("/medianGeneExpression", response_model=MedianGeneExpressionResponse)
def median_gene_expression(
    store: Store,
    release: Release,
    meter: Metered,
    gene_id: Annotated[
        list[str], Query(alias="geneId", description="gene IDs: geneId=a&geneId=b or a,b")
    ],
    tissue_id: Annotated[
        list[str] | None,
        Query(alias="tissueSiteDetailId", description="tissue IDs; every tissue if omitted"),
    ] = None,
) -> dict[str, object]:
    """Medians computed at ingestion (never per request), with the genes and the tissues
    clustered (UPGMA on Euclidean distance, optimal leaf order) as Newick."""
    genes = split_ids(gene_id, "geneId")
    tissues = None if tissue_id is None else split_ids(tissue_id, "tissueSiteDetailId")
    with client_errors():
        found_genes = expression.find_genes(store, release, genes)
        found_tissues = expression.find_tissues(store, release, tissues)
        cells = len(found_genes) * len(found_tissues)
        if cells > MAX_MEDIANS:
            raise ApiError(
                400,
                f"{len(found_genes)} genes x {len(found_tissues)} tissues is {cells} medians, "
                f"at most {MAX_MEDIANS} per request",
                "geneId",
            )
        meter.charge(1 + (len(found_genes) - 1) // GENES_PER_UNIT)
        return expression.median_expression(store, release, genes, tissues)
