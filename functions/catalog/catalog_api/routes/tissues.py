"""/v2/tissues: tissues of a release."""

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

TISSUES = RESOURCES["tissues"]
router = catalog_router("/v2/tissues", "tissues")
Filters = Annotated[dict[str, str], Depends(filters_of(TISSUES))]


@catalog_route(router, "/{ids}/info", "Tissues by ID, in the order asked")
def info(
    call: CatalogCall, ids: Ids, options: InfoOptions, project: Project = None
) -> JSONResponse:
    return call.info(TISSUES, ids, options, project)


@catalog_route(router, "/search", "Tissues matching every filter given")
def search(
    call: CatalogCall, options: SearchOptions, filters: Filters, project: Project = None
) -> JSONResponse:
    return call.search(TISSUES, options, filters, project)
