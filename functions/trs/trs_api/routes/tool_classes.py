import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from omicsgate.trs import get_registry
from omicsgate.trs.models import ToolClass, ToolClassRegister
from omicsgate.web import ApiError
from omicsgate.web.security import CurrentCaller, Metered
from trs_api.routes import PREFIX, Writer, read_route

router = APIRouter(prefix=PREFIX, tags=["toolClasses"])


def class_id(name: str) -> str:
    """A stable ID from a class name: ``Command line tool`` -> ``command-line-tool``."""
    return re.sub(r"[^a-z0-9._~-]+", "-", name.lower()).strip("-") or "class"


@read_route(
    router, "/toolClasses", response_model=list[ToolClass], response_model_exclude_none=True
)
def tool_classes(caller: CurrentCaller, meter: Metered) -> list[dict[str, Any]]:
    """Registered tool classes and those of the tools the caller may see."""
    meter.charge()
    return get_registry().tool_classes(caller)


@router.post("/toolClasses", response_model=str)
def add_tool_class(writer: Writer, body: Annotated[ToolClassRegister, Body()]) -> str:
    """Register a class (ID from the body, or made from its name); answers the ID."""
    identifier = body.id or class_id(body.name)
    get_registry().put_tool_class(identifier, {**body.model_dump(), "id": identifier})
    return identifier


@router.put("/toolClasses/{id}", response_model=str)
def put_tool_class(
    writer: Writer,
    identifier: Annotated[str, Path(alias="id")],
    body: Annotated[ToolClassRegister, Body()],
) -> str:
    """Create or replace a class under this ID (idempotent)."""
    get_registry().put_tool_class(identifier, {**body.model_dump(), "id": identifier})
    return identifier


@router.delete("/toolClasses/{id}", response_model=str)
def delete_tool_class(writer: Writer, identifier: Annotated[str, Path(alias="id")]) -> str:
    if not get_registry().delete_tool_class(identifier):
        raise ApiError(404, f"no tool class {identifier!r}")
    return identifier
