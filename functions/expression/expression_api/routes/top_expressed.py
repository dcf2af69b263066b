from typing import Annotated

from fastapi import APIRouter, Query

from expression_api.routes import client_errors
from omicsgate.models.portal import TopExpressedGeneResponse
from omicsgate.portal import expression
from omicsgate.web.params import Release, Store, one_id
from omicsgate.web.security import Metered

router = APIRouter(prefix="/api/v4", tags=["expression"])


@router.get("/topExpressedGene", response_model=TopExpressedGeneResponse)
def top_expressed_gene(
    store: Store,
    release: Release,
    meter: Metered,
    tissue_id: Annotated[str, Query(alias="tissueSiteDetailId", description="one tissue ID")],
    filter_mt: Annotated[
        bool, Query(alias="filterMtGene", description="leave out mitochondrial (Mt-) genes")
    ] = False,
) -> dict[str, object]:
    """The 50 genes with the highest median TPM in the tissue, highest first: ranked at
    ingestion, served from memory."""
    tissue = one_id(tissue_id, "tissueSiteDetailId")
    with client_errors():
        expression.find_tissues(store, release, [tissue])
        meter.charge()
        return {"topExpressedGene": expression.top_expressed(store, release, tissue, filter_mt)}
