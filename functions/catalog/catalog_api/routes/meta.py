"""/v2/meta: about, status, ping, api (every endpoint with its lifecycle) and openapi."""

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from omicsgate.catalog.meta import about_record, status_record
from omicsgate.catalog.web import CatalogCall, catalog_route, catalog_router, endpoint_list

router = catalog_router("/v2/meta", "meta")


@catalog_route(router, "/about", "What this deployment is: program, version, API, peers")
def about(call: CatalogCall) -> JSONResponse:
    return call.meta([about_record()], "about")


@catalog_route(router, "/status", "Whether each store the catalog reads answers")
def status(call: CatalogCall) -> JSONResponse:
    return call.meta([status_record(call.store, call.caller)], "status")


@catalog_route(router, "/ping", "pong")
def ping(call: CatalogCall) -> JSONResponse:
    return call.meta(["pong"], "ping")


@catalog_route(router, "/api", "Every endpoint, its parameters and its lifecycle status")
def api(call: CatalogCall, request: Request) -> JSONResponse:
    return call.meta(endpoint_list(request.app.routes), "endpoint")


@catalog_route(router, "/endpoints", "The first name of /meta/api (removed)")
def endpoints(call: CatalogCall) -> JSONResponse:
    return call.gone()


@router.get("/openapi", summary="This API's OpenAPI 3 document (hidden endpoints left out)")
def openapi(request: Request) -> dict[str, Any]:
    return request.app.openapi()
