"""The app factory every function uses, and the Lambda handler around it."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mangum import Mangum
from starlette.exceptions import HTTPException

from omicsgate.auth import AllowanceExceeded, AuthError, KeysUnavailable
from omicsgate.storage import InvalidRelease, ReleaseNotFound, StoreUnavailable
from omicsgate.web.errors import ApiError, ErrorStyle, Problem
from omicsgate.web.params import refuse_repeated_values
from omicsgate.web.unavailable import retry_after, transient_aws_error

logger = Logger()
metrics = Metrics(namespace="OmicsGate")

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def request_id(request: Request) -> str | None:
    event = request.scope.get("aws.event") or {}
    value = (event.get("requestContext") or {}).get("requestId")
    return str(value) if value else None


def _validation_problem(error: RequestValidationError, status: int) -> Problem:
    details = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in error.errors()
    ]
    location = details[0]["loc"] if details else []
    parameter = str(location[-1]) if location else None
    message = str(details[0]["msg"]) if details else "invalid request"
    message = ApiError(status, message, parameter).message
    return Problem(status, message, parameter, details=details)


def install_error_handlers(app: FastAPI, style: ErrorStyle) -> None:
    def reply(
        request: Request, problem: Problem, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        problem = Problem(
            problem.status,
            problem.message,
            problem.parameter,
            request_id(request),
            problem.details,
            dict(request.query_params),
        )
        return JSONResponse(style.body(problem), status_code=problem.status, headers=headers)

    @app.exception_handler(AuthError)
    async def unauthorized(request: Request, error: AuthError) -> JSONResponse:
        challenge = f'Bearer error="invalid_token", error_description="{error}"'
        return reply(request, Problem(401, str(error)), {"WWW-Authenticate": challenge})

    @app.exception_handler(AllowanceExceeded)
    async def exhausted(request: Request, error: AllowanceExceeded) -> JSONResponse:
        headers = {**error.charge.headers(), "Retry-After": str(error.retry_after)}
        return reply(request, Problem(429, str(error)), headers)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return reply(request, Problem(error.status, error.message, error.parameter))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's 422, unless the API's standard says otherwise (RNAget, OpenGWAS: 400).
        status = getattr(style, "validation_status", 422)
        return reply(request, _validation_problem(error, status))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        message = "no such route" if error.status_code == 404 else str(error.detail)
        return reply(request, Problem(error.status_code, message))

    def unavailable(request: Request, message: str) -> JSONResponse:
        """A 503 in the API's own error shape, with when to try again."""
        return reply(request, Problem(503, message), {"Retry-After": retry_after()})

    @app.exception_handler(InvalidRelease)
    @app.exception_handler(ReleaseNotFound)
    async def no_release(request: Request, error: Exception) -> JSONResponse:
        # Without datasetId the current release is missing: the service is not ready.
        return unavailable(request, f"no data release available: {error}")

    @app.exception_handler(StoreUnavailable)
    async def no_store(request: Request, error: StoreUnavailable) -> JSONResponse:
        logger.warning("data store unavailable: %s", error)
        return unavailable(request, "data store unavailable, retry later")

    @app.exception_handler(KeysUnavailable)
    async def no_keys(request: Request, error: KeysUnavailable) -> JSONResponse:
        logger.warning("token signing keys unavailable: %s", error)
        return unavailable(request, "cannot check tokens right now, retry later")

    # DynamoDB (users, allowances, the TRS registry) and S3 through boto3: an endpoint that
    # refuses, times out or answers 5xx/throttling after botocore's retries is a 503 like
    # the data store's; any other AWS error is ours (a 500, logged).
    from botocore.exceptions import BotoCoreError, ClientError  # in every Lambda runtime

    @app.exception_handler(BotoCoreError)
    @app.exception_handler(ClientError)
    async def aws_error(request: Request, error: Exception) -> JSONResponse:
        if not transient_aws_error(error):
            logger.exception("AWS call failed")
            return reply(request, Problem(500, "internal error; quote the request id"))
        logger.warning("AWS service unavailable: %s", error)
        return unavailable(request, "a backing service is unavailable, retry later")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        return reply(request, Problem(500, "internal error; quote the request id"))


# Answers any route may give besides its own (the handlers above), documented on every
# route of the app's OpenAPI so that clients and fuzzers know them: a bad or unknown
# parameter or ID, a bad token, restricted data, a removed endpoint, a too-large request,
# the allowance used up, a parameter combination a standard leaves unsupported, no data.
ERROR_STATUSES = {
    400: "a parameter or ID is malformed or unknown (the message names it)",
    401: "the bearer token is missing where required, malformed, expired or revoked",
    403: "the token does not carry what this route needs",
    404: "nothing with that ID (or the caller may not see it)",
    410: "the endpoint was removed; the message names its replacement",
    413: "the request or its answer is too large",
    429: "the allowance is used up; Retry-After says when it refills",
    501: "a parameter combination the standard leaves unsupported",
    503: "the data store or the token keys are unavailable; retry later",
}


def documented_errors(style: ErrorStyle) -> dict[int | str, dict[str, Any]]:
    """The error answers every route documents, with the body schema of the API's error
    style (``style.schema``, or any JSON object)."""
    schema = getattr(style, "schema", None) or {"type": "object"}
    return {
        status: {"description": text, "content": {"application/json": {"schema": schema}}}
        for status, text in ERROR_STATUSES.items()
    }


def create_app(
    title: str, style: ErrorStyle, routers: Sequence[APIRouter], openapi_path: str | None = None
) -> FastAPI:
    # No docs routes: the template's routes and the app's routes must match exactly. The
    # OpenAPI document is served at ``openapi_path``, a route the template lists (/docs/).
    # Every route, of every group, refuses a single-valued query parameter given twice.
    app = FastAPI(
        title=title,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(refuse_repeated_values)],
    )
    install_error_handlers(app, style)
    errors = documented_errors(style)
    for router in routers:
        app.include_router(router, responses=errors)
    if openapi_path:

        @app.get(openapi_path, include_in_schema=False)
        async def openapi_document() -> dict[str, Any]:
            return app.openapi()

    @app.middleware("http")
    async def metrics_and_headers(request: Request, call_next: Callable[..., Any]) -> Any:
        """Count the request; add the allowance and request-id headers to any response."""
        response = await call_next(request)
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        if response.status_code >= 500:
            metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
        allowance = getattr(request.state, "allowance", None)
        if allowance is not None:
            response.headers.update(allowance.headers())
        rid = request_id(request)
        if rid:
            response.headers["X-Request-Id"] = rid
        return response

    return app


def make_handler(app: FastAPI) -> LambdaHandler:
    """``handler = make_handler(app)``: Mangum with request-id logging, EMF metrics and
    X-Ray tracing (powertools Tracer, see ``traced``)."""
    mangum = Mangum(app, lifespan="off")

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @metrics.log_metrics(raise_on_empty_metrics=False)
    @traced
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return mangum(event, context)

    register_snapshot_hook()
    return handler


def tracing_enabled() -> bool:
    """Powertools' own rule: X-Ray tracing runs in Lambda (``LAMBDA_TASK_ROOT``), not under
    SAM local, and not with ``POWERTOOLS_TRACE_DISABLED`` true."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower()
    if disabled in ("1", "true", "yes", "on", "y", "t"):
        return False
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not os.environ.get("AWS_SAM_LOCAL")


def traced(handler: LambdaHandler) -> LambdaHandler:
    """The handler inside a powertools Tracer subsegment (``## handler``, with ColdStart and
    Service annotations and any error), AWS SDK calls (DynamoDB, S3 through boto3) as
    subsegments of it. TileDB reads S3 through its own C++ client, which X-Ray does not see.
    The answer is not copied into the trace: it can be megabytes, and is the caller's.

    Where tracing cannot run (make serve, tests) the handler is returned as is and
    aws_xray_sdk, ~200 ms of imports with botocore, is never imported."""
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    tracer = Tracer(auto_patch=False)
    tracer.patch(["botocore"])
    return tracer.capture_lambda_handler(handler, capture_response=False)


def register_snapshot_hook() -> None:
    """With Lambda SnapStart the snapshot is taken after init: load numpy, tiledb and the
    TileDB context before it, so a restored container starts past the data stack's floor.
    ``snapshot_restore_py`` ships in Lambda's Python runtimes; elsewhere there is no hook."""
    try:
        from snapshot_restore_py import register_before_snapshot
    except ImportError:
        return
    register_before_snapshot(warm_data_stack)


def warm_data_stack() -> None:
    """Build the TileDB context; nothing is read, so no connection goes into the snapshot."""
    from omicsgate.storage import get_store

    get_store().ctx  # noqa: B018 (the property builds and keeps the context)
