from typing import Annotated

from fastapi import APIRouter, Query

from omicsgate.models.portal import GeneResponse
from omicsgate.portal import reference
from omicsgate.web.params import Release, Store, split_ids
from omicsgate.web.security import Metered

router = APIRouter(prefix="/api/v4", tags=["reference"])


@router.get("/gene", response_model=GeneResponse)
def gene(
    store: Store,
    release: Release,
    meter: Metered,
    gene_id: Annotated[
        list[str], Query(alias="geneId", description="gene IDs: geneId=a&geneId=b or a,b")
    ],
) -> dict[str, object]:
    ids = split_ids(gene_id, "geneId")
    meter.charge()
    return {"gene": reference.genes(store, release, ids)}
