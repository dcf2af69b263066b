"""One router per RNAget resource, all under /rnaget."""

from fastapi import Request

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
