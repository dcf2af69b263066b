"""/v2/genes: genes of a release, and their eQTLs."""

from fastapi.responses import JSONResponse

from omicsgate.catalog import RESOURCES
from omicsgate.catalog.routing import resource_router
from omicsgate.catalog.web import CatalogCall, Ids, LinkOptions, Project, catalog_route

GENES = RESOURCES["genes"]
router = resource_router(GENES)  # /{ids}/info and /search


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
