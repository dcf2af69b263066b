from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from omicsgate.models.rnaget import Filter, Project
from omicsgate.rnaget import catalog
from omicsgate.web import ApiError
from omicsgate.web.params import Store
from omicsgate.web.security import CurrentCaller, Metered
from rnaget_api.routes import NOT_FOUND, PREFIX, searched

router = APIRouter(prefix=PREFIX, tags=["projects"])


@router.get("/projects", response_model=list[Project], response_model_exclude_none=True)
def search_projects(
    request: Request,
    store: Store,
    caller: CurrentCaller,
    meter: Metered,
    version: Annotated[str | None, Query(description="version to filter by")] = None,
) -> list[dict[str, object]]:
    """The projects the caller may see that match every filter given (``version`` and the
    names ``/projects/filters`` lists); ``[]`` when none does."""
    found = searched(request, catalog.projects(store, caller), catalog.PROJECT_FILTERS)
    meter.charge()
    return found


@router.get("/projects/filters", response_model=list[Filter])
def project_filters(store: Store, caller: CurrentCaller, meter: Metered) -> list[dict[str, object]]:
    """The filters ``/projects`` takes, each with the values of the caller's projects."""
    meter.charge()
    return catalog.filters(catalog.projects(store, caller), catalog.PROJECT_FILTERS)


@router.get("/projects/{projectId}", response_model=Project, response_model_exclude_none=True)
def get_project(
    store: Store,
    caller: CurrentCaller,
    meter: Metered,
    project_id: Annotated[str, Path(alias="projectId")],
) -> dict[str, object]:
    """One project; 404 for an ID that does not exist or that the caller may not see."""
    found = catalog.project(store, caller, project_id)
    if found is None:
        raise ApiError(404, NOT_FOUND, "projectId")
    meter.charge()
    return found
