"""One router per RNAget resource, all under /rnaget."""

from collections.abc import Mapping
from typing import Any

from fastapi import Request

from omicsgate.rnaget import catalog
from omicsgate.rnaget.catalog import UnknownFilter
from omicsgate.web import ApiError

PREFIX = "/rnaget"
NOT_FOUND = "the specified resource could not be found"


def filter_params(request: Request) -> dict[str, str]:
    """The query parameters of a search: each filter once (given twice is a 400)."""
    found: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in found:
            raise ApiError(400, "given more than once; it takes one value", key)
        found[key] = value
    return found


def unknown_filter(error: UnknownFilter) -> ApiError:
    return ApiError(400, str(error), error.name)


def searched(request: Request, objects: Any, known: Mapping[str, tuple[str, str]]) -> Any:
    """The objects matching every filter of the request's query; 400 naming an unknown one."""
    try:
        return catalog.search(objects, filter_params(request), known)
    except UnknownFilter as error:
        raise unknown_filter(error) from error
