"""Relative paths of a version's files: one spelling per file, never outside the tool."""

from __future__ import annotations

import posixpath

from omicsgate.web.errors import ApiError


def normalise_path(path: str) -> str:
    """``./a//b/../c.cwl`` -> ``a/c.cwl``; a path that climbs above the tool's root (or is
    absolute) is a 400: a descriptor's ``../`` import must stay among the version's files."""
    cleaned = path.replace("\\", "/").strip()
    if not cleaned:
        raise ApiError(404, "no file at an empty path", "relative_path")
    if cleaned.startswith("/"):
        raise ApiError(400, f"{path!r} is not a relative path", "relative_path")
    normal = posixpath.normpath(cleaned)
    if normal == ".." or normal.startswith("../") or normal == ".":
        raise ApiError(400, f"{path!r} escapes the tool's files", "relative_path")
    return normal


def resolve_relative(base: str, target: str) -> str:
    """``target`` as seen from the directory of ``base`` (both relative to the tool)."""
    return normalise_path(posixpath.join(posixpath.dirname(base), target))
