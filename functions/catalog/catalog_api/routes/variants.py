"""/v2/variants: variants of a release (chr:pos) and of GWAS studies (rsid), and the GWAS
associations at them."""

from fastapi.responses import JSONResponse

from omicsgate.catalog import RESOURCES
from omicsgate.catalog.routing import resource_router
from omicsgate.catalog.web import CatalogCall, Ids, LinkOptions, Project, catalog_route

VARIANTS = RESOURCES["variants"]
router = resource_router(VARIANTS)  # /{ids}/info and /search


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
