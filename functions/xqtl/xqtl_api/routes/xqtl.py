from typing import Annotated

from fastapi import APIRouter, Query

from omicsgate.models.portal import XqtlResponse
from omicsgate.portal import qtl
from omicsgate.web.params import Release, Store, one_id
from omicsgate.web.security import Metered
from xqtl_api.routes import client_errors

router = APIRouter(prefix="/api/v4", tags=["xQTL"])


@router.get("/xqtl", response_model=XqtlResponse)
def xqtl(
    store: Store,
    release: Release,
    meter: Metered,
    gene_id: Annotated[str, Query(alias="geneId", description="one gene ID")],
) -> dict[str, object]:
    """Conditionally independent cis-xQTLs of a gene in every tissue and modality
    (expression, isoforms, splicing, alt_TSS, alt_polyA, stability)."""
    gene = one_id(gene_id, "geneId")
    with client_errors():
        qtl.require(store, release, "independent")
        qtl.find_gene(store, release, gene)
        meter.charge()
        return {"xqtl": qtl.independent(store, release, gene, None)}
