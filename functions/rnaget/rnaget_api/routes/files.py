"""Matrix answers shared by expressions and continuous: a ticket (JSON) or the file itself,
and the local download route that tickets point to when the store is not on S3.

A route builds a :class:`MatrixAnswer` (what identifies the file, how to make it, the
ticket's fields) and returns :func:`ticket` or :func:`file_response` of it. The file is
made lazily: a ticket whose file exists already reads no matrix.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from omicsgate.rnaget import formats, tickets
from omicsgate.rnaget.formats import Matrix, TsvLayout
from omicsgate.storage import DataStore
from omicsgate.web import ApiError, signing
from omicsgate.web.params import Store
from rnaget_api.routes import PREFIX

router = APIRouter(prefix=PREFIX, tags=["files"])

# Lambda's synchronous response limit is 6 MB (6,291,456 bytes) for the whole JSON payload
# Mangum returns; a binary body travels base64-encoded (4/3 larger). Answers above these
# sizes go through a ticket file instead (303 to its URL).
MAX_TEXT_BYTES = 5_500_000
MAX_BINARY_BYTES = MAX_TEXT_BYTES * 3 // 4


@dataclass(frozen=True)
class MatrixAnswer:
    request: dict[str, Any]  # canonical: everything that decides the file's content
    data_version: str  # changes whenever the object's data may have changed
    file_format: str  # one of formats.FORMATS
    units: str
    load: Callable[[], tuple[Matrix, TsvLayout]] = field(repr=False)
    version: str | None = None
    study_id: str | None = None
    name: str = "matrix"  # the download's file name, without extension

    def chunks(self) -> Iterator[bytes]:
        matrix, layout = self.load()
        yield from formats.file_chunks(matrix, self.file_format, layout)

    def ticket_file(self, store: DataStore) -> tickets.TicketFile:
        request = {**self.request, "format": self.file_format}
        key = tickets.ticket_key(request, self.data_version)
        return tickets.ticket_file(store, key, self.file_format)


def file_format(value: str | None, parameter: str = "format") -> str:
    """The format asked for (case-insensitive), the default without one; 400 naming the
    parameter for a format not served."""
    if value is None:
        return formats.DEFAULT_FORMAT
    chosen = value.strip().lower()
    if chosen not in formats.FORMATS:
        raise ApiError(
            400, f"unsupported format {value!r}; one of {', '.join(formats.FORMATS)}", parameter
        )
    return chosen


def ticket(request: Request, store: DataStore, answer: MatrixAnswer) -> dict[str, object]:
    """The ticket JSON: the file is written once (content-addressed), and its URL is a
    presigned S3 URL or a signed URL of ``GET /rnaget/files/{name}``."""
    file = answer.ticket_file(store)
    tickets.write_once(store, file, answer.chunks())
    url = tickets.download_url(store, file, signing.request_base_url(request.headers))
    found: dict[str, object] = {"url": url, "units": answer.units, "fileType": answer.file_format}
    if answer.version is not None:
        found["version"] = answer.version
    if answer.study_id is not None:
        found["studyID"] = answer.study_id
    return found


def file_response(request: Request, store: DataStore, answer: MatrixAnswer) -> Response:
    """The file itself. Lambda answers at most 6 MB: a file above :data:`MAX_TEXT_BYTES`
    (TSV) or :data:`MAX_BINARY_BYTES` (loom, h5ad: base64 on the way out) is written as the
    ticket's file instead and answered with ``303 See Other`` to the ticket URL, which HTTP
    clients follow (the URL needs no token)."""
    media_type = formats.MEDIA_TYPES[answer.file_format]
    limit = MAX_TEXT_BYTES if media_type.startswith("text/") else MAX_BINARY_BYTES
    chunks = answer.chunks()
    held: list[bytes] = []
    size = 0
    for chunk in chunks:
        held.append(chunk)
        size += len(chunk)
        if size > limit:
            file = answer.ticket_file(store)
            tickets.write_once(store, file, itertools.chain(held, chunks))
            url = tickets.download_url(store, file, signing.request_base_url(request.headers))
            return RedirectResponse(url, status_code=303)
    disposition = f'attachment; filename="{answer.name}.{answer.file_format}"'
    return Response(
        b"".join(held), media_type=media_type, headers={"Content-Disposition": disposition}
    )


@router.get("/files/{name}", response_class=Response)
def download(
    store: Store,
    name: Annotated[str, Path(description="a ticket's file name")],
    expires: Annotated[str | None, Query()] = None,
    signature: Annotated[str | None, Query()] = None,
) -> Response:
    """A ticket's file, for a URL a ticket signed (HMAC, 1 hour): the URL is the
    authorisation, as a presigned S3 URL is (no token). 403 when the signature is wrong or
    expired; 404 when the file has expired (ask for a new ticket). Costs nothing (the
    ticket did)."""
    problem = tickets.check_download(store, name, expires, signature)
    if problem:
        raise ApiError(403, problem, "signature")
    file = tickets.find_ticket_file(store, name)
    data = None if file is None else store.read_bytes(file.uri)
    if file is None or data is None:
        raise ApiError(404, "the file has expired: ask for a new ticket", "name")
    return Response(
        data,
        media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
