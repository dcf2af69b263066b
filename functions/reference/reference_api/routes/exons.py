from typing import Annotated

from fastapi import APIRouter, Query

from omicsgate.models.portal import ExonResponse
from omicsgate.portal import reference
from omicsgate.web.params import Release, Store, one_id
from omicsgate.web.security import Metered

router = APIRouter(prefix="/api/v4", tags=["reference"])


@router.get("/exon", response_model=ExonResponse)
def exon(
    store: Store,
    release: Release,
    meter: Metered,
    gene_id: Annotated[str, Query(alias="geneId", description="one gene ID")],
) -> dict[str, object]:
    gene = one_id(gene_id, "geneId")
    meter.charge()
    return {"exon": reference.exons(store, release, gene)}
