"""/v2/studies: GWAS studies and expression studies."""

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

STUDIES = RESOURCES["studies"]
router = catalog_router("/v2/studies", "studies")
Filters = Annotated[dict[str, str], Depends(filters_of(STUDIES))]


@catalog_route(router, "/{ids}/info", "Studies by ID, in the order asked")
def info(call: CatalogCall, ids: Ids, options: InfoOptions) -> JSONResponse:
    return call.info(STUDIES, ids, options)


@catalog_route(router, "/search", "Studies matching every filter given")
def search(call: CatalogCall, options: SearchOptions, filters: Filters) -> JSONResponse:
    return call.search(STUDIES, options, filters)


@catalog_route(router, "/{ids}/samples", "The samples of expression studies")
def samples(call: CatalogCall, ids: Ids, options: LinkOptions) -> JSONResponse:
    return call.link(STUDIES, "samples", ids, options)
