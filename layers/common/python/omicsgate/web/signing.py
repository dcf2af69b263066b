"""Download URLs for files: presigned S3 URLs, or URLs the API itself serves.

- A file on S3 (``s3://bucket/key``) gets a presigned ``GetObject`` URL (boto3, the
  store's endpoint and region), valid :data:`URL_LIFETIME_SECONDS` as OpenGWAS's are.
- Any other file (a local store, a GWAS-VCF read in place) gets a URL of the API's own
  download route with ``?expires=...&signature=...``: the signature is HMAC-SHA256 of the
  parts that name the file and the expiry, so the URL is the authorisation, as a presigned
  one is. GWAS signs (study ID, file name) for ``/gwas/files/{id}/{name}``; RNAget signs
  the route path of a ticket file (one part, so the two never sign the same message).
  The key is ``OMICSGATE_FILE_URL_KEY`` when set (hex or any text), otherwise 32 random bytes
  made on first use in the auth directory (``.auth/file-urls.key``, mode 0600), beside the
  local token signing key; deleting it invalidates every URL given.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlencode

from omicsgate.settings import Settings

URL_LIFETIME_SECONDS = 2 * 3600
KEY_FILE = "file-urls.key"


def _key(settings: Settings) -> bytes:
    configured = os.environ.get("OMICSGATE_FILE_URL_KEY")
    if configured:
        return hashlib.sha256(configured.encode()).digest()
    path = os.path.join(settings.auth_dir, KEY_FILE)
    if not os.path.exists(path):
        os.makedirs(settings.auth_dir, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(32))
    with open(path, "rb") as handle:
        key = handle.read()
    if len(key) < 32:
        raise RuntimeError(f"{path} is damaged: delete it to make a new key")
    return key


def sign(settings: Settings, parts: Sequence[str], expires: int) -> str:
    message = "\n".join([*parts, str(expires)]).encode()
    return hmac.new(_key(settings), message, hashlib.sha256).hexdigest()


def signed_query(settings: Settings, parts: Sequence[str], lifetime: int) -> str:
    """``expires=...&signature=...`` for a URL valid ``lifetime`` seconds from now."""
    expires = int(time.time()) + lifetime
    return urlencode({"expires": expires, "signature": sign(settings, parts, expires)})


def check(
    settings: Settings, parts: Sequence[str], expires: str | None, given: str | None
) -> str | None:
    """None when the URL is genuine and unexpired, else why not."""
    if not expires or not given or not expires.isdigit():
        return "the URL is not signed (expires and signature are required)"
    if not hmac.compare_digest(sign(settings, parts, int(expires)), given):
        return "the signature does not match"
    if int(expires) < time.time():
        return "the URL has expired"
    return None


def request_base_url(headers: Mapping[str, str]) -> str:
    """The API's own base URL as the caller reached it."""
    host = headers.get("host") or "127.0.0.1"
    # API Gateway sets X-Forwarded-Proto (https); the local API serves plain http.
    scheme = headers.get("x-forwarded-proto") or "http"
    return f"{scheme}://{host}"


def signature(settings: Settings, study_id: str, name: str, expires: int) -> str:
    return sign(settings, [study_id, name], expires)


def api_file_url(settings: Settings, base_url: str, study_id: str, name: str) -> str:
    query = signed_query(settings, [study_id, name], URL_LIFETIME_SECONDS)
    return f"{base_url.rstrip('/')}/gwas/files/{quote(study_id)}/{quote(name)}?{query}"


def check_signature(
    settings: Settings, study_id: str, name: str, expires: str | None, given: str | None
) -> str | None:
    """None when a ``/gwas/files`` URL is genuine and unexpired, else why not."""
    return check(settings, [study_id, name], expires, given)


def presigned_s3_url(settings: Settings, uri: str, lifetime: int = URL_LIFETIME_SECONDS) -> str:
    import boto3

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    client = boto3.client("s3", endpoint_url=settings.s3_endpoint, region_name=settings.region)
    return str(
        client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=lifetime
        )
    )
