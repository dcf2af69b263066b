from typing import Annotated

from fastapi import APIRouter, Query

from omicsgate.models.portal import EqtlResponse
from omicsgate.portal import qtl
from omicsgate.web.params import Release, Store, one_id
from omicsgate.web.security import Metered
from xqtl_api.routes import client_errors

router = APIRouter(prefix="/api/v4", tags=["xQTL"])


@router.get("/eqtl", response_model=EqtlResponse)
def eqtl(
    store: Store,
    release: Release,
    meter: Metered,
    gene_id: Annotated[str, Query(alias="geneId", description="one gene ID")],
) -> dict[str, object]:
    """Conditionally independent cis-eQTLs of a gene in every tissue (tensorQTL's
    cis_independent, expression modality): one point query on ``qtl_independent``."""
    gene = one_id(gene_id, "geneId")
    with client_errors():
        qtl.require(store, release, "independent")
        qtl.find_gene(store, release, gene)
        meter.charge()
        return {"eqtl": qtl.independent(store, release, gene, qtl.EXPRESSION)}
