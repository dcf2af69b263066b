from fastapi import APIRouter

from omicsgate.models.portal import TissueInfoResponse
from omicsgate.portal import reference
from omicsgate.web.params import Release, Store
from omicsgate.web.security import Metered

router = APIRouter(prefix="/api/v4", tags=["reference"])


@router.get("/tissueInfo", response_model=TissueInfoResponse)
def tissue_info(store: Store, release: Release, meter: Metered) -> dict[str, object]:
    meter.charge()
    return {"tissueInfo": reference.tissue_info(store, release)}
