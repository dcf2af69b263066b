"""PortalFunction: the built site (portal/dist, published into the store as the deploy
does) through the real handler, on a local directory and on S3 (moto): every file as
built, gzip when asked for, ETags, what Lambda cannot return inline, and what is never
read."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import requests

from omicsgate.localapi.devtools import reset_settings, use_store
from omicsgate.localapi.events import LocalContext, http_api_event, response_body
from omicsgate.web.static import MAX_INLINE_BYTES
from tests.conftest import PORTAL_DIST, Caller

pytestmark = pytest.mark.integration
PLOTLY = "vendor/plotly.js-dist-min/plotly.min.js"
LAMBDA_MAX_RESPONSE = 6 * 1024 * 1024


def get(
    call: Caller, path: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str], int]:
    """Status, body, headers and the size of the Lambda answer (body as sent, base64)."""
    found = call.template.route_for("GET", path)
    assert found and found[0].function == "PortalFunction", path
    route, params = found
    event = http_api_event("GET", path, "", f"GET {route.path}", headers or {}, None, params)
    response = call.handler_for("PortalFunction")(event, LocalContext("PortalFunction"))
    body = response_body(response)
    return response["statusCode"], body, response.get("headers") or {}, len(json.dumps(response))


def built_files() -> list[str]:
    return sorted(
        p.relative_to(PORTAL_DIST).as_posix()
        for p in PORTAL_DIST.rglob("*")
        if p.is_file() and p.name != ".built"
    )


def test_every_built_file_is_served_as_built_with_its_type(backend: str, call: Caller) -> None:
    files = built_files()
    assert "index.html" in files and "docs/index.html" in files and PLOTLY in files
    for name in files:
        status, body, headers, _ = get(call, f"/portal/{name}", {"accept-encoding": "gzip"})
        assert status == 200, (name, body[:200])
        if headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        assert body == (PORTAL_DIST / name).read_bytes(), name
        expected = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
        suffix = Path(name).suffix
        if suffix in expected:
            assert headers["content-type"] == f"{expected[suffix]}; charset=utf-8", name


def test_folders_serve_their_index_and_bare_mounts_redirect(backend: str, call: Caller) -> None:
    for mount, index in (("portal", "index.html"), ("docs", "docs/index.html")):
        status, body, headers, _ = get(call, f"/{mount}/")
        assert status == 200 and body == (PORTAL_DIST / index).read_bytes()
        status, body, headers, _ = get(call, f"/{mount}")
        assert status == 308 and headers["location"] == f"/{mount}/"


def test_gzip_only_when_asked_and_every_answer_fits_lambda(backend: str, call: Caller) -> None:
    plain = (PORTAL_DIST / PLOTLY).read_bytes()
    assert len(plain) > MAX_INLINE_BYTES  # else this test proves nothing about the limit
    status, body, headers, size = get(
        call, f"/portal/{PLOTLY}", {"accept-encoding": "br;q=1.0, gzip;q=0.8"}
    )
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain and size < LAMBDA_MAX_RESPONSE
    assert headers["vary"] == "Accept-Encoding"
    status, body, headers, _ = get(call, "/portal/gene.js", {"accept-encoding": "gzip;q=0"})
    assert status == 200 and "content-encoding" not in headers
    assert body == (PORTAL_DIST / "gene.js").read_bytes()


def test_too_large_without_gzip_is_a_presigned_url_on_s3(backend: str, call: Caller) -> None:
    """Lambda cannot return plotly.js uncompressed: on S3 the answer is a 307 to a
    presigned URL of the object (fetched here from moto); a local store has no limit."""
    plain = (PORTAL_DIST / PLOTLY).read_bytes()
    status, body, headers, _ = get(call, f"/portal/{PLOTLY}")
    if backend.startswith("s3://"):
        assert status == 307, (status, body[:200])
        fetched = requests.get(headers["location"], timeout=30)
        assert fetched.status_code == 200 and fetched.content == plain
    else:
        assert status == 200 and body == plain


def test_an_etag_match_is_a_304_without_a_body(backend: str, call: Caller) -> None:
    status, body, headers, _ = get(call, "/portal/app.css")
    etag = headers["etag"]
    status, body, again, _ = get(call, "/portal/app.css", {"if-none-match": f'"other", {etag}'})
    assert status == 304 and body == b"" and again["etag"] == etag
    status, body, _, _ = get(call, "/portal/app.css", {"if-none-match": '"other"'})
    assert status == 200 and body == (PORTAL_DIST / "app.css").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/portal/../current.json",
        "/portal/docs/../../current.json",
        "/portal/./index.html",
        "/portal//index.html",
        "/portal/..%2Fcurrent.json",
        "/portal/a\\..\\current.json",
        "/docs/../portal/index.html",
        "/portal/nothing.js",
    ],
)
def test_nothing_outside_the_site_and_no_missing_file_is_served(
    backend: str, call: Caller, path: str
) -> None:
    """``current.json`` of the data store lies right beside ``portal/``: never served."""
    status, body, headers, _ = get(call, path)
    assert status == 404 and headers["content-type"] == "application/json", (path, body)
    assert json.loads(body)["message"].startswith("no file "), body


def test_a_store_without_the_site_says_it_is_not_built(call: Caller, tmp_path: Path) -> None:
    use_store(str(tmp_path / "data"))
    try:
        status, body, _, _ = get(call, "/portal/")
    finally:
        reset_settings()
    assert status == 404
    assert "the portal is not built here" in json.loads(body)["message"]
