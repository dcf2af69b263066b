from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request

from omicsgate.trs import get_registry
from omicsgate.trs.models import ToolVersion, ToolVersionRegister
from omicsgate.web import ApiError
from omicsgate.web.security import CurrentCaller, Metered
from trs_api import presenting, registration
from trs_api.routes import PREFIX, Writer, read_route

router = APIRouter(prefix=PREFIX, tags=["versions"])

ToolId = Annotated[str, Path(alias="id", description="a tool ID")]
VersionId = Annotated[str, Path(description="a version ID of the tool")]


@read_route(
    router,
    "/tools/{id}/versions",
    response_model=list[ToolVersion],
    response_model_exclude_none=True,
)
def list_versions(
    request: Request, caller: CurrentCaller, meter: Metered, tool_id: ToolId
) -> list[dict[str, Any]]:
    """The tool's versions; ``[]`` for an unknown (or invisible) tool: TRS gives this route
    no 404."""
    try:
        tool = get_registry().tool(caller, tool_id)
    except ApiError:
        tool = {"id": tool_id, "versions": []}
    meter.charge()
    return presenting.tool(tool, presenting.base(request))["versions"]


@read_route(
    router,
    "/tools/{id}/versions/{version_id}",
    response_model=ToolVersion,
    response_model_exclude_none=True,
)
def get_version(
    request: Request, caller: CurrentCaller, meter: Metered, tool_id: ToolId, version_id: VersionId
) -> dict[str, Any]:
    found = get_registry().version(caller, tool_id, version_id)
    meter.charge()
    return presenting.version(found, f"{presenting.base(request)}/tools/{tool_id}")


@router.post("/tools/{id}/versions", response_model=str)
def post_version(
    writer: Writer, tool_id: ToolId, body: Annotated[ToolVersionRegister, Body()]
) -> str:
    """Add a version (ID from the body, else the next free number); answers its ID."""
    tool = get_registry().tool(writer, tool_id)
    taken = {v["id"] for v in tool["versions"]}
    version_id = body.id or str(next(n for n in range(1, len(taken) + 2) if str(n) not in taken))
    if version_id in taken:
        raise ApiError(409, f"tool {tool_id!r} has a version {version_id!r}: PUT replaces it")
    return _write(writer, tool_id, version_id, body, replace=False)


@router.put("/tools/{id}/versions/{version_id}", response_model=str)
def put_version(
    writer: Writer,
    tool_id: ToolId,
    version_id: VersionId,
    body: Annotated[ToolVersionRegister, Body()],
) -> str:
    """Create or replace this version, whole (idempotent; the last of concurrent PUTs wins)."""
    return _write(writer, tool_id, version_id, body, replace=True)


def _write(
    writer: Any, tool_id: str, version_id: str, body: ToolVersionRegister, replace: bool
) -> str:
    registry = get_registry()
    prepared = registration.prepared(body, version_id)
    version = registration.described(prepared)

    def with_version(current: dict[str, Any] | None) -> dict[str, Any]:
        if current is None:
            raise ApiError(404, f"no tool {tool_id!r}")
        registration.guard(writer, current, tool_id)
        ids = [v["id"] for v in current["versions"]]
        if version_id not in ids:
            return {**current, "versions": [*current["versions"], version]}
        if not replace:
            raise ApiError(409, f"tool {tool_id!r} has a version {version_id!r}: PUT replaces it")
        versions = [version if v["id"] == version_id else v for v in current["versions"]]
        return {**current, "versions": versions}

    registry.update_tool(tool_id, with_version, prepared[1])
    return version_id


@router.delete("/tools/{id}/versions/{version_id}", response_model=str)
def delete_version(writer: Writer, tool_id: ToolId, version_id: VersionId) -> str:
    def without(current: dict[str, Any] | None) -> dict[str, Any]:
        if current is None:
            raise ApiError(404, f"no tool {tool_id!r}")
        registration.guard(writer, current, tool_id)
        kept = [v for v in current["versions"] if v["id"] != version_id]
        if len(kept) == len(current["versions"]):
            raise ApiError(404, f"no version {version_id!r} of tool {tool_id!r}")
        return {**current, "versions": kept}

    get_registry().update_tool(tool_id, without)
    return version_id
