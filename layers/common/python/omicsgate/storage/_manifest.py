"""The shapes of the pointer, the manifest and the pack, checked on every read: a damaged
file is named, never half-used."""

from __future__ import annotations

from typing import Any

from omicsgate.storage._errors import DamagedFile, InvalidRelease
from omicsgate.storage._layout import check_release_id

# 3: tables name the attempt holding them (releases built from parts).
FORMAT = 3


def check_manifest(document: Any, uri: str, release_id: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise DamagedFile(uri, "not a JSON object")
    if document.get("release") != release_id:
        raise DamagedFile(uri, f"names release {document.get('release')!r}, not {release_id!r}")
    if not isinstance(document.get("tables"), dict):
        raise DamagedFile(uri, "no 'tables' object")
    if not isinstance(document.get("access", {}), dict):
        raise DamagedFile(uri, "'access' is not an object")
    if not isinstance(document.get("data", ""), str):
        raise DamagedFile(uri, "'data' is not a path")
    packed = document.get("packed")
    if packed is not None and not (
        isinstance(packed, dict)
        and isinstance(packed.get("file"), str)
        and isinstance(packed.get("tables"), list)
    ):
        raise DamagedFile(uri, "'packed' needs a 'file' and a list of 'tables'")
    return document


def check_pointer(document: Any, uri: str) -> tuple[str, dict[str, Any] | None]:
    """The current release ID, and the copy of its manifest the pointer carries (if any)."""
    if not isinstance(document, dict) or not isinstance(document.get("release"), str):
        raise DamagedFile(uri, "no 'release' string")
    release_id = document["release"]
    try:
        check_release_id(release_id)
    except InvalidRelease as error:
        raise DamagedFile(uri, str(error)) from error
    manifest = document.get("manifest")
    if manifest is not None:
        manifest = check_manifest(manifest, uri, release_id)
    return release_id, manifest


def check_pack(document: Any, uri: str, tables: list[str]) -> dict[str, dict[str, list[Any]]]:
    """``{"tables": {name: {column: [values]}}}`` holding every table the manifest lists."""
    packed = document.get("tables") if isinstance(document, dict) else None
    if not isinstance(packed, dict) or any(not isinstance(packed.get(t), dict) for t in tables):
        raise DamagedFile(uri, f"does not hold the tables {tables}")
    return packed
