"""/v2/tools: tools of the TRS registry."""

from typing import Annotated

from fastapi import Depends
from fastapi.responses import JSONResponse

from omicsgate.catalog import RESOURCES
from omicsgate.catalog.web import (
    CatalogCall,
    Ids,
    InfoOptions,
    SearchOptions,
    catalog_route,
    catalog_router,
    filters_of,
)

TOOLS = RESOURCES["tools"]
router = catalog_router("/v2/tools", "tools")
Filters = Annotated[dict[str, str], Depends(filters_of(TOOLS))]


@catalog_route(router, "/{ids}/info", "Tools by ID, in the order asked")
def info(call: CatalogCall, ids: Ids, options: InfoOptions) -> JSONResponse:
    return call.info(TOOLS, ids, options)


@catalog_route(router, "/search", "Tools matching every filter given")
def search(call: CatalogCall, options: SearchOptions, filters: Filters) -> JSONResponse:
    return call.search(TOOLS, options, filters)
