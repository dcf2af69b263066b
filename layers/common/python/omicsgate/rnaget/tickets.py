"""RNAget tickets: a matrix file written once under the data URI, handed out by URL.

A ticket's file is content-addressed: its key is the SHA-256 of the canonical request (the
object's ID, the slicing parameters, the format) and of the data version, so the same
request on the same data names the same file, written once
(``<data URI>/rnaget/tickets/<key>.<ext>``) and never rewritten; a re-ingested object gets
a new data version, hence new files. Tickets expire with their URLs; the files are tagged
``omicsgate=rnaget-ticket`` so the data bucket's lifecycle rule deletes them after a day
(a request after that writes the file again).

The URL is the capability, as the spec's tickets allow (the client sends no token):

- On S3, a presigned ``GetObject`` URL valid :data:`URL_LIFETIME_SECONDS`; the object was
  written with its format's Content-Type, which S3 serves back.
- Otherwise (a local store), a URL of the API's own route ``GET /rnaget/files/{name}``
  with ``expires`` and an HMAC ``signature`` of the route path (:mod:`omicsgate.web.signing`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from omicsgate.rnaget.formats import MEDIA_TYPES
from omicsgate.storage import DataStore
from omicsgate.storage._layout import join
from omicsgate.web import signing

TICKET_DIR = ("rnaget", "tickets")
FILES_ROUTE = "/rnaget/files"
URL_LIFETIME_SECONDS = 3600  # short-lived: the suite and clients fetch right away
LIFECYCLE_TAG = "omicsgate=rnaget-ticket"  # infra/template.yaml expires objects tagged so
PART_BYTES = 8 * 1024 * 1024  # S3's multipart parts must be >= 5 MiB (the last aside)


@dataclass(frozen=True)
class TicketFile:
    name: str  # <key>.<format>: what the local download route takes
    uri: str
    media_type: str


def ticket_key(request: Mapping[str, Any], data_version: str) -> str:
    """SHA-256 of the canonical request and data version (key order and spacing aside)."""
    canonical = json.dumps(
        {"request": request, "data": data_version}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def ticket_file(store: DataStore, key: str, file_format: str) -> TicketFile:
    name = f"{key}.{file_format}"
    return TicketFile(name, join(store.root, *TICKET_DIR, name), MEDIA_TYPES[file_format])


def write_once(store: DataStore, file: TicketFile, chunks: Iterable[bytes]) -> None:
    """Write the file unless it exists (same key, same bytes). ``chunks`` is only iterated
    when the file is missing, so a repeated request reads no matrix; they are written as
    they come (a multipart upload on S3), never held whole."""
    if _exists(store, file.uri):
        return
    if file.uri.startswith("s3://"):
        _put_s3(store, file, chunks)
    else:
        _write_local(file.uri, chunks)


def _exists(store: DataStore, uri: str) -> bool:
    if not uri.startswith("s3://"):
        return os.path.isfile(uri)
    from omicsgate.storage._store import unavailable_on_tiledb_error

    with unavailable_on_tiledb_error(f"checking {uri}"):  # S3 unreachable: a 503
        return bool(store.vfs().is_file(uri))


def _parts(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The chunks regrouped into pieces of at least ``size`` bytes (the last may be less)."""
    held: list[bytes] = []
    count = 0
    given = False
    for chunk in chunks:
        held.append(chunk)
        count += len(chunk)
        if count >= size:
            yield b"".join(held)
            held, count, given = [], 0, True
    if held or not given:  # an empty file is one empty piece
        yield b"".join(held)


def _put_s3(store: DataStore, file: TicketFile, chunks: Iterable[bytes]) -> None:
    """One PutObject, or a multipart upload of :data:`PART_BYTES` parts for a larger file
    (both need only ``s3:PutObject``, on ``rnaget/tickets/`` only), with the Content-Type
    the presigned URL will serve and the lifecycle tag. An upload that fails midway is
    cleared by the bucket's rule for incomplete multipart uploads."""
    import boto3

    bucket, _, key = file.uri.removeprefix("s3://").partition("/")
    settings = store.settings
    client = boto3.client("s3", endpoint_url=settings.s3_endpoint, region_name=settings.region)
    extra = {"ContentType": file.media_type, "Tagging": LIFECYCLE_TAG}
    parts = _parts(chunks, PART_BYTES)
    first = next(parts)
    second = next(parts, None)
    if second is None:
        client.put_object(Bucket=bucket, Key=key, Body=first, **extra)
        return
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
    done = []
    for number, data in enumerate(itertools.chain([first, second], parts), start=1):
        answer = client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=data
        )
        done.append({"PartNumber": number, "ETag": answer["ETag"]})
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": done}
    )


def _write_local(path: str, chunks: Iterable[bytes]) -> None:
    """Written beside the target, then renamed: a concurrent reader sees no half file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    try:
        with open(temporary, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def download_url(store: DataStore, file: TicketFile, base_url: str) -> str:
    """A presigned S3 URL, or a signed URL of the local download route."""
    if file.uri.startswith("s3://"):
        return signing.presigned_s3_url(store.settings, file.uri, URL_LIFETIME_SECONDS)
    path = f"{FILES_ROUTE}/{file.name}"
    query = signing.signed_query(store.settings, [path], URL_LIFETIME_SECONDS)
    return f"{base_url.rstrip('/')}{path}?{query}"


def check_download(
    store: DataStore, name: str, expires: str | None, signature: str | None
) -> str | None:
    """None when a download route URL is genuine and unexpired, else why not."""
    return signing.check(store.settings, [f"{FILES_ROUTE}/{name}"], expires, signature)


def find_ticket_file(store: DataStore, name: str) -> TicketFile | None:
    """The ticket file of a download route's ``name``, if it exists (names are
    ``<64 hex>.<format>``: anything else is no ticket file)."""
    key, _, file_format = name.partition(".")
    if len(key) != 64 or file_format not in MEDIA_TYPES or not _is_hex(key):
        return None
    file = ticket_file(store, key, file_format)
    return file if _exists(store, file.uri) else None


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)
