"""/v2/projects: data releases, GWAS batches and hosted RNAget projects."""

from typing import Annotated

from fastapi import Depends
from fastapi.responses import JSONResponse

from omicsgate.catalog import RESOURCES
from omicsgate.catalog.web import (
    CatalogCall,
    Ids,
    InfoOptions,
    LinkOptions,
    SearchOptions,
    catalog_route,
    catalog_router,
    filters_of,
)

PROJECTS = RESOURCES["projects"]
router = catalog_router("/v2/projects", "projects")
Filters = Annotated[dict[str, str], Depends(filters_of(PROJECTS))]


@catalog_route(router, "/{ids}/info", "Projects by ID, in the order asked")
def info(call: CatalogCall, ids: Ids, options: InfoOptions) -> JSONResponse:
    return call.info(PROJECTS, ids, options)


@catalog_route(router, "/search", "Projects matching every filter given")
def search(call: CatalogCall, options: SearchOptions, filters: Filters) -> JSONResponse:
    return call.search(PROJECTS, options, filters)


@catalog_route(router, "/{ids}/studies", "The projects' studies")
def studies(call: CatalogCall, ids: Ids, options: LinkOptions) -> JSONResponse:
    return call.link(PROJECTS, "studies", ids, options)
