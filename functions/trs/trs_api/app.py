"""The TRS group's routers in one app; errors are TRS's ``{"code", "message"}``."""

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from omicsgate.trs import Conflict
from omicsgate.web import create_app
from omicsgate.web.app import request_id
from omicsgate.web.errors import Problem
from trs_api.routes import descriptors, legacy, service_info, tool_classes, tools, versions
from trs_api.validation import DescriptorInvalid


class TrsErrors:
    """TRS ``Error``: ``{"code": int, "message": str}`` (plus OmicsGate's request id)."""

    def body(self, problem: Problem) -> dict[str, Any]:
        body: dict[str, Any] = {"code": problem.status, "message": problem.message}
        if problem.request_id:
            body["requestId"] = problem.request_id
        return body


app = create_app(
    "OmicsGate: GA4GH TRS 2.1",
    TrsErrors(),
    [
        service_info.router,
        tool_classes.router,
        tools.router,
        versions.router,
        descriptors.router,
        legacy,  # filled by the routers above: import them first
    ],
    openapi_path="/ga4gh/trs/v2/openapi.json",
)


def _error(request: Request, status: int, message: str, **more: Any) -> JSONResponse:
    """TRS's ``{"code", "message"}`` with the request id, as every other error has it."""
    problem = Problem(status, message, request_id=request_id(request))
    return JSONResponse({**TrsErrors().body(problem), **more}, status_code=status)


@app.exception_handler(DescriptorInvalid)
async def invalid_descriptor(request: Request, error: DescriptorInvalid) -> JSONResponse:
    """Nothing was stored: each problem names its file, line and the validator's message."""
    return _error(request, 400, str(error), errors=error.problems)


@app.exception_handler(Conflict)
async def conflict(request: Request, error: Conflict) -> JSONResponse:
    return _error(request, 409, str(error))
