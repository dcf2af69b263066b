import io
import zipfile
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from omicsgate.auth import Caller
from omicsgate.trs import get_registry, normalise_path
from omicsgate.trs.models import FileWrapper, ToolFile
from omicsgate.web import ApiError
from omicsgate.web.security import CurrentCaller, Metered
from trs_api.routes import PREFIX, parse_type, read_route

router = APIRouter(prefix=PREFIX, tags=["files"])

ToolId = Annotated[str, Path(alias="id", description="a tool ID")]
VersionId = Annotated[str, Path(description="a version ID of the tool")]
TypeName = Annotated[str, Path(alias="type", description="CWL, WDL, NFL, GALAXY, SMK or PLAIN_*")]
VERSION = "/tools/{id}/versions/{version_id}"
PLAIN = "text/plain; charset=utf-8"


def _files(caller: Caller, tool_id: str, version_id: str, kind: str | None) -> list[dict[str, Any]]:
    """The version's files of a descriptor type (files without a type belong to every type)."""
    files: list[dict[str, Any]] = get_registry().version(caller, tool_id, version_id)["files"]
    return [f for f in files if kind is None or f.get("type") in (None, kind)]


def _wrapper(file: dict[str, Any], image_type: str | None) -> dict[str, Any]:
    content = get_registry().content(file["sha256"]).decode(errors="replace")
    checksum = [{"checksum": file["sha256"], "type": "sha-256"}]
    return {"content": content, "checksum": checksum, "image_type": image_type}


def _answer(file: dict[str, Any], kind: str, plain: bool) -> Any:
    if plain:
        return Response(get_registry().content(file["sha256"]), media_type=PLAIN)
    return _wrapper(file, kind)


@read_route(
    router,
    VERSION + "/{type}/descriptor",
    response_model=FileWrapper,
    response_model_exclude_none=True,
)
def descriptor(
    caller: CurrentCaller, meter: Metered, tool_id: ToolId, version_id: VersionId, type_: TypeName
) -> Any:
    """The primary descriptor: a FileWrapper, or the bare file as text/plain for PLAIN_."""
    kind, plain = parse_type(type_)
    primary = [
        f
        for f in _files(caller, tool_id, version_id, kind)
        if f["file_type"] == "PRIMARY_DESCRIPTOR"
    ]
    if not primary:
        raise ApiError(404, f"version {version_id!r} of {tool_id!r} has no {kind} descriptor")
    meter.charge()
    return _answer(primary[0], kind, plain)


@read_route(
    router,
    VERSION + "/{type}/descriptor/{relative_path:path}",
    response_model=FileWrapper,
    response_model_exclude_none=True,
)
def descriptor_file(
    caller: CurrentCaller,
    meter: Metered,
    tool_id: ToolId,
    version_id: VersionId,
    type_: TypeName,
    relative_path: Annotated[str, Path(description="a file's path, relative to the tool")],
) -> Any:
    """Any file of the version by its relative path (``a/../b.cwl`` is ``b.cwl``; a path
    that climbs out of the tool's files is a 400)."""
    kind, plain = parse_type(type_)
    path = normalise_path(relative_path)
    found = [f for f in _files(caller, tool_id, version_id, kind) if f["path"] == path]
    if not found:
        raise ApiError(404, f"version {version_id!r} of {tool_id!r} has no {kind} file {path!r}")
    meter.charge()
    return _answer(found[0], kind, plain)


@read_route(
    router,
    VERSION + "/{type}/tests",
    response_model=list[FileWrapper],
    response_model_exclude_none=True,
)
def tests(
    caller: CurrentCaller, meter: Metered, tool_id: ToolId, version_id: VersionId, type_: TypeName
) -> Any:
    """The version's test parameter files; PLAIN_ answers the first one as text/plain."""
    kind, plain = parse_type(type_)
    found = [f for f in _files(caller, tool_id, version_id, kind) if f["file_type"] == "TEST_FILE"]
    meter.charge()
    if plain:
        if not found:
            raise ApiError(404, f"version {version_id!r} of {tool_id!r} has no {kind} test file")
        return _answer(found[0], kind, plain)
    return [_wrapper(f, kind) for f in found]


@read_route(
    router,
    VERSION + "/{type}/files",
    response_model=list[ToolFile],
    response_model_exclude_none=True,
)
def files(
    caller: CurrentCaller,
    meter: Metered,
    tool_id: ToolId,
    version_id: VersionId,
    type_: TypeName,
    format: Annotated[str | None, Query(description="zip: every file in one archive")] = None,
) -> Any:
    """The version's files of this type with their sha-256; ``format=zip`` the files
    themselves, at their relative paths, so a multi-file workflow runs as registered."""
    kind, _ = parse_type(type_)
    found = _files(caller, tool_id, version_id, kind)
    if format not in (None, "zip"):  # TRS: an enum of one
        raise ApiError(400, f"{format!r} is not a format of this route (zip)", "format")
    meter.charge()
    if format == "zip":
        return _zip(tool_id, version_id, found)
    return [
        {
            "path": f["path"],
            "file_type": f["file_type"],
            "checksum": {"checksum": f["sha256"], "type": "sha-256"},
        }
        for f in found
    ]


def _zip(tool_id: str, version_id: str, found: list[dict[str, Any]]) -> Response:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in found:
            archive.writestr(f["path"], get_registry().content(f["sha256"]))
    name = f"{tool_id}-{version_id}.zip"
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@read_route(
    router,
    VERSION + "/containerfile",
    response_model=list[FileWrapper],
    response_model_exclude_none=True,
)
def containerfile(
    caller: CurrentCaller, meter: Metered, tool_id: ToolId, version_id: VersionId
) -> list[dict[str, Any]]:
    """The version's container files (Dockerfiles); 404 when it has none."""
    found = [
        f for f in _files(caller, tool_id, version_id, None) if f["file_type"] == "CONTAINERFILE"
    ]
    if not found:
        raise ApiError(404, f"version {version_id!r} of {tool_id!r} has no containerfile")
    meter.charge()
    return [_wrapper(f, "Docker") for f in found]
