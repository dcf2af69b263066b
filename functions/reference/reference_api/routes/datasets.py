from fastapi import APIRouter

from omicsgate.models.portal import DatasetResponse
from omicsgate.storage import ReleaseNotFound
from omicsgate.web.params import Store, visible_releases
from omicsgate.web.security import CurrentCaller, Metered

router = APIRouter(prefix="/api/v4", tags=["reference"])


@router.get("/dataset", response_model=DatasetResponse)
def dataset(store: Store, caller: CurrentCaller, meter: Metered) -> dict[str, object]:
    """The data releases the caller may see (GTEx's /metadata/dataset); datasetId picks one."""
    meter.charge()
    try:
        current = store.current_release()
    except ReleaseNotFound:
        current = None
    items = []
    for release in visible_releases(store, caller):
        manifest = store.manifest(release)
        items.append(
            {
                "datasetId": release,
                "description": manifest.get("description", ""),
                "created": manifest.get("created", ""),
                "current": release == current,
            }
        )
    return {"dataset": items}
