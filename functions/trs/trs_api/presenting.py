"""Stored documents as TRS answers: URLs from the request, filters, paging headers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from trs_api.routes import PREFIX


def base(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{PREFIX}"


def tool(doc: dict[str, Any], root: str) -> dict[str, Any]:
    url = f"{root}/tools/{doc['id']}"
    versions = [version(v, url) for v in doc.get("versions") or ()]
    return {**doc, "url": url, "versions": versions}


def version(doc: dict[str, Any], tool_url: str) -> dict[str, Any]:
    return {**doc, "url": f"{tool_url}/versions/{doc['id']}"}


def _has(value: str | None, wanted: str) -> bool:
    return value is not None and wanted.lower() in value.lower()


def matches(doc: dict[str, Any], filters: dict[str, str | None]) -> bool:
    """Exact on IDs, classes, types and registries; substring (any case) on free text."""
    versions = doc.get("versions") or []
    images = [i for v in versions for i in v.get("images") or ()]
    tests = {
        "id": lambda w: doc["id"] == w,
        "alias": lambda w: w in (doc.get("aliases") or ()),
        "toolClass": lambda w: w in (doc["toolclass"].get("name"), doc["toolclass"].get("id")),
        "descriptorType": lambda w: any(w in (v.get("descriptor_type") or ()) for v in versions),
        "registry": lambda w: any(i.get("registry_host") == w for i in images),
        "organization": lambda w: _has(doc.get("organization"), w),
        "name": lambda w: any(_has(i.get("image_name"), w) for i in images),
        "toolname": lambda w: _has(doc.get("name"), w),
        "description": lambda w: _has(doc.get("description"), w),
        "author": lambda w: any(_has(a, w) for v in versions for a in v.get("author") or ()),
        "tags": lambda w: set(w.split(",")) <= set(doc.get("tags") or ()),
    }
    return all(tests[key](wanted) for key, wanted in filters.items() if wanted is not None)


def paging(request: Request, start: int, limit: int, total: int, given: int) -> dict[str, str]:
    """TRS paging headers: absolute URLs of this, the next and the last page (the next
    follows the ``given`` tools of this one, which may be fewer than ``limit``)."""

    def link(offset: int) -> str:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
        query.append(("offset", str(offset)))
        return f"{str(request.url).split('?', 1)[0]}?{urlencode(query)}"

    last = max(0, (total - 1) // limit * limit)
    headers = {
        "self_link": link(start),
        "last_page": link(last),
        "current_offset": str(start),
        "current_limit": str(limit),
    }
    if start + given < total:
        headers["next_page"] = link(start + given)
    return headers
