"""``/portal/...`` and ``/docs/...``: the built site's files (omicsgate.web.static), with
ETags (a browser revalidates, and gets a 304 without the body) and gzip when asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import RedirectResponse, Response

from omicsgate.web import signing
from omicsgate.web.errors import ApiError
from omicsgate.web.static import (
    MAX_INLINE_BYTES,
    MOUNTS,
    StaticSite,
    accepts_gzip,
    get_site,
    relative_name,
)

router = APIRouter(tags=["portal"])
Site = Annotated[StaticSite, Depends(get_site)]
FILE_RESPONSES: dict[int | str, dict] = {
    200: {"description": "The file", "content": {"text/html": {}, "text/javascript": {}}},
    304: {"description": "Not modified since the ETag given in If-None-Match"},
    307: {"description": "On S3, a file too large for Lambda's answer: a presigned URL"},
    308: {"description": "The folder's URL, with its slash"},
}


def folder(mount: str) -> Callable[[], RedirectResponse]:
    def redirect() -> RedirectResponse:
        """The folder's URL with its slash: relative links in the pages need it."""
        return RedirectResponse(f"/{mount}/", status_code=308)

    return redirect


def files(mount: str) -> Callable[..., Response]:
    def serve(
        proxy: str,
        site: Site,
        accept_encoding: Annotated[str | None, Header()] = None,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        """One file of the built site; a folder's ``index.html``."""
        return answer(site, mount, proxy, accept_encoding, if_none_match)

    return serve


for mount in MOUNTS:
    router.add_api_route(
        f"/{mount}", folder(mount), response_class=RedirectResponse, responses=FILE_RESPONSES
    )
    router.add_api_route(
        f"/{mount}/{{proxy:path}}", files(mount), response_class=Response, responses=FILE_RESPONSES
    )


def answer(
    site: StaticSite, mount: str, path: str, accept_encoding: str | None, if_none_match: str | None
) -> Response:
    name = relative_name(mount, path)
    found = site.get(name) if name else None
    if name is None or found is None:
        if not site.is_built():
            raise ApiError(404, f"the portal is not built here: no index.html under {site.root}")
        raise ApiError(404, f"no file /{mount}/{path} in the portal")
    headers = {"ETag": found.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if if_none_match and found.etag in (tag.strip() for tag in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    body = found.body
    if found.compressible and accepts_gzip(accept_encoding):
        body = found.gzipped()
        headers["Content-Encoding"] = "gzip"
    if len(body) > MAX_INLINE_BYTES and site.root.startswith("s3://"):
        url = signing.presigned_s3_url(site.store.settings, site.uri(name), 3600)
        return RedirectResponse(url, status_code=307)
    return Response(body, media_type=found.content_type, headers=headers)
