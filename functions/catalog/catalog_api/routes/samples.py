"""/v2/samples: expression samples of a release."""

from typing import Annotated

from fastapi import Depends
from fastapi.responses import JSONResponse

from omicsgate.catalog import RESOURCES
from omicsgate.catalog.web import (
    CatalogCall,
    Ids,
    InfoOptions,
    Project,
    SearchOptions,
    catalog_route,
    catalog_router,
    filters_of,
)

SAMPLES = RESOURCES["samples"]
router = catalog_router("/v2/samples", "samples")
Filters = Annotated[dict[str, str], Depends(filters_of(SAMPLES))]


@catalog_route(router, "/{ids}/info", "Samples by ID, in the order asked")
def info(
    call: CatalogCall, ids: Ids, options: InfoOptions, project: Project = None
) -> JSONResponse:
    return call.info(SAMPLES, ids, options, project)


@catalog_route(router, "/search", "Samples matching every filter given")
def search(
    call: CatalogCall, options: SearchOptions, filters: Filters, project: Project = None
) -> JSONResponse:
    return call.search(SAMPLES, options, filters, project)
