"""From a trs-filer registration body to what the registry stores: files checked
(paths, one primary descriptor per type, checksums), validated, then described."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from omicsgate.auth import Caller, can_see
from omicsgate.trs import Registry, normalise_path
from omicsgate.trs._service import NewFile
from omicsgate.trs.models import ToolRegister, ToolVersionRegister, drop_none
from omicsgate.web import ApiError
from trs_api import validation

_ID = re.compile(r"[A-Za-z0-9._~-]{1,128}")
_VERSION_FIELDS = (
    "name",
    "author",
    "included_apps",
    "is_production",
    "signed",
    "verified",
    "verified_source",
)
_TOOL_FIELDS = (
    "aliases",
    "checker_url",
    "description",
    "has_checker",
    "name",
    "organization",
    "groups",
)


def tool_document(body: ToolRegister, tool_id: str) -> dict[str, Any]:
    """The tool's own fields; versions are added by :func:`version_document`."""
    toolclass = body.toolclass.model_dump(exclude_none=True)
    toolclass.setdefault("id", _class_id(body.toolclass.name))
    return drop_none(
        {"id": tool_id, "toolclass": toolclass, **{f: getattr(body, f) for f in _TOOL_FIELDS}}
    )


def _class_id(name: str) -> str:
    from trs_api.routes.tool_classes import class_id

    return class_id(name)


def new_files(body: ToolVersionRegister) -> list[NewFile]:
    files, seen = [], set()
    for index, entry in enumerate(body.files):
        where = f"files[{index}]"
        path = normalise_path(entry.tool_file.path)
        if path in seen:
            raise ApiError(400, f"{where}: {path!r} appears twice", "files")
        seen.add(path)
        content = _content(entry.file_wrapper.content, where)
        for checksum in entry.file_wrapper.checksum or ():
            _check_digest(content, checksum.type, checksum.checksum, where)
        kind = entry.type.value if entry.type else None
        files.append(NewFile(path, entry.tool_file.file_type.value, kind, content))
    _one_primary_per_type(files)
    return files


def _content(text: str | None, where: str) -> bytes:
    # Registered files carry their content: the registry never fetches a url.
    if text is None:
        raise ApiError(400, f"{where}: file_wrapper.content is required (url is not fetched)")
    return text.encode()


def _check_digest(content: bytes, algorithm: str, expected: str, where: str) -> None:
    """A checksum sent with a file must be the file's: a mismatch means a damaged upload."""
    name = algorithm.lower().replace("-", "")
    if name not in hashlib.algorithms_guaranteed:
        raise ApiError(400, f"{where}: checksum type {algorithm!r} is not one this server computes")
    actual = hashlib.new(name, content).hexdigest()
    if expected.lower() != actual:
        raise ApiError(400, f"{where}: {algorithm} checksum {expected} does not match {actual}")


def _one_primary_per_type(files: list[NewFile]) -> None:
    counts: dict[str, int] = {}
    for f in files:
        if f.type is None and f.file_type in ("PRIMARY_DESCRIPTOR", "SECONDARY_DESCRIPTOR"):
            raise ApiError(400, f"{f.path}: a descriptor needs its type (CWL, WDL...)", "files")
        if f.file_type == "PRIMARY_DESCRIPTOR":
            counts[str(f.type)] = counts.get(str(f.type), 0) + 1
    doubles = sorted(t for t, n in counts.items() if n > 1)
    if doubles:
        raise ApiError(400, f"more than one PRIMARY_DESCRIPTOR of type {', '.join(doubles)}")


def version_document(
    body: ToolVersionRegister, version_id: str, files: list[NewFile]
) -> dict[str, Any]:
    """Everything but the stored files: types, language versions and images come from the
    validated descriptors, merged with images the body names."""
    found = validation.inspect(files)
    images = [_image(name) for name in found.images]
    named = {i["image_name"] for i in images}
    for image in body.images or ():
        if image.image_name not in named:
            images.append(image.model_dump(exclude_none=True, mode="json"))
    types = sorted(
        {f.type for f in files if f.type} | {t.value for t in body.descriptor_type or ()}
    )
    document = drop_none(
        {
            "id": version_id,
            **{f: getattr(body, f) for f in _VERSION_FIELDS},
            "descriptor_type": types,
            "descriptor_type_version": found.versions or None,
            "images": images or None,
            "containerfile": any(f.file_type == "CONTAINERFILE" for f in files),
        }
    )
    check_production(document)
    return document


def _image(name: str) -> dict[str, Any]:
    """``quay.io/biocontainers/x:1`` -> host quay.io; bare names are Docker Hub's. The
    registry pulls no image (offline): the sha-256 is the digest the reference pins."""
    first = name.split("/", 1)[0]
    host = first if "/" in name and ("." in first or ":" in first) else "registry.hub.docker.com"
    image: dict[str, Any] = {"registry_host": host, "image_name": name, "image_type": "Docker"}
    if "@sha256:" in name:
        image["checksum"] = [{"checksum": name.rsplit("@sha256:", 1)[1], "type": "sha-256"}]
    return image


def check_production(version: dict[str, Any]) -> None:
    """TRS: a production version carries checksums on its files and images; images are
    checksummed only when pinned by digest, so a production version must pin them."""
    if not version.get("is_production"):
        return
    loose = [i["image_name"] for i in version.get("images") or () if not i.get("checksum")]
    if loose:
        raise ApiError(400, f"is_production needs images pinned by @sha256: digest: {loose}")


Prepared = tuple[dict[str, Any], list[NewFile]]


def prepared(body: ToolVersionRegister, version_id: str) -> Prepared:
    """Checked and validated, nothing written yet: a failure here stores nothing."""
    version_id = check_id(version_id, "version_id")
    files = new_files(body)
    return version_document(body, version_id, files), files


def described(version: Prepared) -> dict[str, Any]:
    """The version document naming its files; the registry writes them (before the
    metadata, and only once the metadata is known to fit)."""
    document, files = version
    return {**document, "files": Registry.describe_files(files)}


def guard(caller: Caller, current: dict[str, Any] | None, tool_id: str) -> None:
    """A writer cannot change (or learn of) a tool restricted to groups they are not in."""
    if current is not None and not can_see(caller, current.get("groups") or ()):
        raise ApiError(404, f"no tool {tool_id!r}")


def check_id(identifier: str, name: str) -> str:
    """TRS IDs: ``[A-Za-z0-9._~-]``, so a URL never needs to encode them."""
    if not _ID.fullmatch(identifier):
        raise ApiError(400, f"{identifier!r} may only hold A-Z a-z 0-9 . _ ~ -", name)
    return identifier
