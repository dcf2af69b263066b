"""The two endpoints every catalog resource has, as one router per resource.

No ``from __future__ import annotations`` here: the endpoints' annotations name aliases
made for each resource inside :func:`resource_router`, which FastAPI can only read as
objects, not resolve as strings from the module's globals.
"""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from omicsgate.catalog._resources import Resource
from omicsgate.catalog.web import (
    CatalogCall,
    Ids,
    InfoOptions,
    SearchOptions,
    catalog_route,
    catalog_router,
    filters_of,
    project_of,
)


def resource_router(resource: Resource) -> APIRouter:
    """The router of ``/v2/<resource>`` holding ``/{ids}/info`` and ``/search``; a
    function's routes module adds the resource's cross-links to it."""
    router = catalog_router(f"/v2/{resource.name}", resource.name)
    where = Annotated[str | None, Depends(project_of(resource))]
    filters_given = Annotated[dict[str, str], Depends(filters_of(resource))]
    title = resource.name.capitalize()

    @catalog_route(router, "/{ids}/info", f"{title} by ID, in the order asked")
    def info(call: CatalogCall, ids: Ids, options: InfoOptions, project: where) -> JSONResponse:
        return call.info(resource, ids, options, project)

    @catalog_route(router, "/search", f"{title} matching every filter given")
    def search(
        call: CatalogCall,
        options: SearchOptions,
        filters: filters_given,
        project: where,
    ) -> JSONResponse:
        return call.search(resource, options, filters, project)

    return router
