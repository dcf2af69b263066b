"""/v2/variants: variants of a release (chr:pos) and of GWAS studies (rsid)."""

from typing import Annotated

from fastapi import Depends
from fastapi.responses import JSONResponse

from omicsgate.catalog import RESOURCES
from omicsgate.catalog.web import (
    CatalogCall,
    Ids,
    InfoOptions,
    LinkOptions,
    Project,
    SearchOptions,
    catalog_route,
    catalog_router,
    filters_of,
)

VARIANTS = RESOURCES["variants"]
router = catalog_router("/v2/variants", "variants")
Filters = Annotated[dict[str, str], Depends(filters_of(VARIANTS))]


@catalog_route(router, "/{ids}/info", "Variants by ID, in the order asked")
def info(
    call: CatalogCall, ids: Ids, options: InfoOptions, project: Project = None
) -> JSONResponse:
    return call.info(VARIANTS, ids, options, project)


@catalog_route(router, "/search", "Variants matching every filter given")
def search(
    call: CatalogCall, options: SearchOptions, filters: Filters, project: Project = None
) -> JSONResponse:
    return call.search(VARIANTS, options, filters, project)


@catalog_route(router, "/{ids}/associations", "GWAS associations at the variants")
def associations(
    call: CatalogCall, ids: Ids, options: LinkOptions, project: Project = None
) -> JSONResponse:
    return call.link(VARIANTS, "associations", ids, options, project)


@catalog_route(router, "/{ids}/gwas", "GWAS associations (the first name of /associations)")
def gwas(
    call: CatalogCall, ids: Ids, options: LinkOptions, project: Project = None
) -> JSONResponse:
    return call.link(VARIANTS, "gwas", ids, options, project)
