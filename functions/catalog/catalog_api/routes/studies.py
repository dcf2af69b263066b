"""/v2/studies: GWAS studies and expression studies, and an expression study's samples."""

from fastapi.responses import JSONResponse

from omicsgate.catalog import RESOURCES
from omicsgate.catalog.routing import resource_router
from omicsgate.catalog.web import CatalogCall, Ids, LinkOptions, catalog_route

STUDIES = RESOURCES["studies"]
router = resource_router(STUDIES)  # /{ids}/info and /search


@catalog_route(router, "/{ids}/samples", "The samples of expression studies")
def samples(call: CatalogCall, ids: Ids, options: LinkOptions) -> JSONResponse:
    return call.link(STUDIES, "samples", ids, options)
