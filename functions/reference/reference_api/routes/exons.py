from typing import Annotated

from fastapi import APIRouter, Query

from omicsgate.models.portal import ExonResponse
from omicsgate.portal import reference
from omicsgate.web.params import MAX_ID_LENGTH, Release, Store
from omicsgate.web.security import Metered

router = APIRouter(prefix="/api/v4", tags=["reference"])


@router.get("/exon", response_model=ExonResponse)
def exon(
    store: Store,
    release: Release,
    meter: Metered,
    gene_id: Annotated[str, Query(alias="geneId", min_length=1, max_length=MAX_ID_LENGTH)],
) -> dict[str, object]:
    meter.charge()
    return {"exon": reference.exons(store, release, gene_id.strip())}
