import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response

from omicsgate.trs import get_registry
from omicsgate.trs.models import Tool, ToolRegister
from omicsgate.web import ApiError
from omicsgate.web.security import CurrentCaller, Metered
from trs_api import presenting, registration
from trs_api.routes import PREFIX, TYPES, Writer, read_route

router = APIRouter(prefix=PREFIX, tags=["tools"])

ToolId = Annotated[str, Path(alias="id", description="a tool ID")]
Text = Annotated[str | None, Query()]
# The paging headers of /tools (browsers read them through CORS expose headers).
MAX_LIMIT = 1000
INT32 = 2**31  # TRS's limit is an int32
# A page of /tools holds at most this much JSON, whatever ``limit`` asks: a Lambda answer
# must stay under 6 MB (headers and envelope included), and 1,000 tools of up to 400 KB
# of metadata each would not.
PAGE_BYTES = 5_000_000


@read_route(router, "/tools", response_model=list[Tool], response_model_exclude_none=True)
def list_tools(
    request: Request,
    response: Response,
    caller: CurrentCaller,
    meter: Metered,
    id: Text = None,
    alias: Text = None,
    toolClass: Text = None,
    descriptorType: Text = None,
    registry: Text = None,
    organization: Text = None,
    name: Text = None,
    toolname: Text = None,
    description: Text = None,
    author: Text = None,
    checker: Annotated[bool | None, Query()] = None,
    tags: Text = None,
    offset: Text = None,
    limit: Annotated[int, Query(ge=-INT32, lt=INT32, description="at most 1000 are given")] = 1000,
) -> list[dict[str, Any]]:
    """The tools the caller may see that match every filter, ``limit`` from ``offset`` (an
    index; past the end is ``[]``); the paging headers say where the other pages are."""
    if descriptorType is not None and descriptorType not in TYPES:  # TRS: an enum
        raise ApiError(
            400, f"{descriptorType!r} is not one of {', '.join(TYPES)}", "descriptorType"
        )
    filters = {
        "id": id,
        "alias": alias,
        "toolClass": toolClass,
        "descriptorType": descriptorType,
        "registry": registry,
        "organization": organization,
        "name": name,
        "toolname": toolname,
        "description": description,
        "author": author,
        "tags": tags,
    }
    found = [
        t
        for t in get_registry().tools(caller)
        if presenting.matches(t, filters)
        and (checker is None or bool(t.get("has_checker")) == checker)
    ]
    start, limit = _offset(offset, len(found)), min(max(limit, 1), MAX_LIMIT)
    meter.charge()
    base = presenting.base(request)
    page = _within_bytes([presenting.tool(t, base) for t in found[start : start + limit]])
    response.headers.update(presenting.paging(request, start, limit, len(found), len(page)))
    return page


def _within_bytes(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first tools whose JSON fits ``PAGE_BYTES`` (at least one: a tool's metadata is
    at most 400 KB); ``next_page`` then starts at the first one left out."""
    kept: list[dict[str, Any]] = []
    size = 2
    for tool in tools:
        size += len(json.dumps(tool, separators=(",", ":"))) + 1
        if kept and size > PAGE_BYTES:
            break
        kept.append(tool)
    return kept


def _offset(raw: str | None, total: int) -> int:
    """An index this server gave in a paging header; anything else (TRS offsets are opaque)
    is past the end, so the answer is ``[]`` as TRS asks, never an error."""
    if not raw:
        return 0
    return int(raw) if raw.isdigit() else total


@read_route(router, "/tools/{id}", response_model=Tool, response_model_exclude_none=True)
def get_tool(
    request: Request, caller: CurrentCaller, meter: Metered, tool_id: ToolId
) -> dict[str, Any]:
    """One tool; 404 for an ID that does not exist or that the caller may not see."""
    found = get_registry().tool(caller, tool_id)
    meter.charge()
    return presenting.tool(found, presenting.base(request))


@router.post("/tools", response_model=str)
def post_tool(writer: Writer, body: Annotated[ToolRegister, Body()]) -> str:
    """Register a tool with its versions (each validated); answers the new tool's ID."""
    registry = get_registry()
    versions = [registration.prepared(v, v.id or str(i + 1)) for i, v in enumerate(body.versions)]
    doc = registration.tool_document(body, "")
    doc["versions"] = [registration.described(v) for v in versions]
    return registry.create_tool(doc, [f for _, files in versions for f in files])


@router.put("/tools/{id}", response_model=str)
def put_tool(writer: Writer, tool_id: ToolId, body: Annotated[ToolRegister, Body()]) -> str:
    """Create or replace the tool and every version under this ID (idempotent)."""
    registration.check_id(tool_id, "id")
    registry = get_registry()
    versions = [registration.prepared(v, v.id or str(i + 1)) for i, v in enumerate(body.versions)]
    doc = registration.tool_document(body, tool_id)
    doc["versions"] = [registration.described(v) for v in versions]

    def replace(current: dict[str, Any] | None) -> dict[str, Any]:
        registration.guard(writer, current, tool_id)
        return doc

    registry.update_tool(tool_id, replace, [f for _, files in versions for f in files])
    return tool_id


@router.delete("/tools/{id}", response_model=str)
def delete_tool(writer: Writer, tool_id: ToolId) -> str:
    """Remove the tool and its versions (their files stay: other versions may share them)."""
    existed: list[bool] = []

    def remove(current: dict[str, Any] | None) -> None:
        registration.guard(writer, current, tool_id)
        existed.append(current is not None)

    get_registry().update_tool(tool_id, remove)
    if not existed[-1]:
        raise ApiError(404, f"no tool {tool_id!r}")
    return tool_id
