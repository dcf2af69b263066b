"""/v2/genes: genes of a release."""

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

GENES = RESOURCES["genes"]
router = catalog_router("/v2/genes", "genes")
Filters = Annotated[dict[str, str], Depends(filters_of(GENES))]


@catalog_route(router, "/{ids}/info", "Genes by ID, in the order asked")
def info(
    call: CatalogCall, ids: Ids, options: InfoOptions, project: Project = None
) -> JSONResponse:
    return call.info(GENES, ids, options, project)


@catalog_route(router, "/search", "Genes matching every filter given")
def search(
    call: CatalogCall, options: SearchOptions, filters: Filters, project: Project = None
) -> JSONResponse:
    return call.search(GENES, options, filters, project)


@catalog_route(router, "/{ids}/eqtls", "The genes' conditionally independent eQTLs, every tissue")
def eqtls(
    call: CatalogCall, ids: Ids, options: LinkOptions, project: Project = None
) -> JSONResponse:
    return call.link(GENES, "eqtls", ids, options, project)


@catalog_route(router, "/{ids}/qtls", "The genes' eQTLs (the first name of /eqtls)")
def qtls(
    call: CatalogCall, ids: Ids, options: LinkOptions, project: Project = None
) -> JSONResponse:
    return call.link(GENES, "qtls", ids, options, project)
