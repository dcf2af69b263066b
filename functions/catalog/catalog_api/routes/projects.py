"""/v2/projects: data releases, GWAS batches and hosted RNAget projects, and their studies."""

from fastapi.responses import JSONResponse

from omicsgate.catalog import RESOURCES
from omicsgate.catalog.routing import resource_router
from omicsgate.catalog.web import CatalogCall, Ids, LinkOptions, catalog_route

PROJECTS = RESOURCES["projects"]
router = resource_router(PROJECTS)  # /{ids}/info and /search


@catalog_route(router, "/{ids}/studies", "The projects' studies")
def studies(call: CatalogCall, ids: Ids, options: LinkOptions) -> JSONResponse:
    return call.link(PROJECTS, "studies", ids, options)
