from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from omicsgate.models.rnaget import Filter, Study
from omicsgate.rnaget import catalog
from omicsgate.web import ApiError
from omicsgate.web.params import Store
from omicsgate.web.security import CurrentCaller, Metered
from rnaget_api.routes import NOT_FOUND, PREFIX, searched

router = APIRouter(prefix=PREFIX, tags=["studies"])


@router.get("/studies", response_model=list[Study], response_model_exclude_none=True)
def search_studies(
    request: Request,
    store: Store,
    caller: CurrentCaller,
    meter: Metered,
    version: Annotated[str | None, Query(description="version to filter by")] = None,
) -> list[dict[str, object]]:
    """The studies the caller may see that match every filter given (``version`` and the
    names ``/studies/filters`` lists); ``[]`` when none does."""
    found = searched(request, catalog.studies(store, caller), catalog.STUDY_FILTERS)
    meter.charge()
    return found


@router.get("/studies/filters", response_model=list[Filter])
def study_filters(store: Store, caller: CurrentCaller, meter: Metered) -> list[dict[str, object]]:
    """The filters ``/studies`` takes, each with the values of the caller's studies."""
    meter.charge()
    return catalog.filters(catalog.studies(store, caller), catalog.STUDY_FILTERS)


@router.get("/studies/{studyId}", response_model=Study, response_model_exclude_none=True)
def get_study(
    store: Store,
    caller: CurrentCaller,
    meter: Metered,
    study_id: Annotated[str, Path(alias="studyId")],
) -> dict[str, object]:
    """One study; 404 for an ID that does not exist or that the caller may not see."""
    found = catalog.study(store, caller, study_id)
    if found is None:
        raise ApiError(404, NOT_FOUND, "studyId")
    meter.charge()
    return found
