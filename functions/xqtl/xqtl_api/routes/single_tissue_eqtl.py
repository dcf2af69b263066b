from typing import Annotated

from fastapi import APIRouter, Query

from omicsgate.models.portal import SingleTissueEqtlResponse
from omicsgate.portal import qtl
from omicsgate.web.params import Release, Store, one_id
from omicsgate.web.security import Metered
from xqtl_api.routes import client_errors

router = APIRouter(prefix="/api/v4", tags=["xQTL"])


@router.get("/singleTissueEqtl", response_model=SingleTissueEqtlResponse)
def single_tissue_eqtl(
    store: Store,
    release: Release,
    meter: Metered,
    gene_id: Annotated[str, Query(alias="geneId", description="one gene ID")],
) -> dict[str, object]:
    """Significant cis variants of a gene in every tissue (nominal p-value at most the
    gene's threshold); [] when none."""
    gene = one_id(gene_id, "geneId")
    with client_errors():
        qtl.require(store, release, "pairs")
        qtl.find_gene(store, release, gene)
        meter.charge()
        return {"singleTissueEqtl": qtl.single_tissue(store, release, gene)}
