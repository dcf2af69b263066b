"""omicsgate.web.static's pure parts: which names are read, their types, gzip."""

from __future__ import annotations

import pytest

from omicsgate.web.static import accepts_gzip, content_type, relative_name

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("mount", "path", "name"),
    [
        ("portal", "", "index.html"),
        ("portal", "gene.html", "gene.html"),
        ("portal", "vendor/a/b.js", "vendor/a/b.js"),
        ("portal", "docs/", "docs/index.html"),
        ("docs", "", "docs/index.html"),
        ("docs", "docs.js", "docs/docs.js"),
    ],
)
def test_plain_names_map_under_the_mount(mount: str, path: str, name: str) -> None:
    assert relative_name(mount, path) == name


@pytest.mark.parametrize(
    "path",
    [
        "..",
        "../current.json",
        "a/../../x",
        "./index.html",
        "a//b",
        "/etc/passwd",
        "a\\..\\b",
        "x\x00.js",
        ".",
    ],
)
def test_anything_but_plain_segments_is_refused(path: str) -> None:
    assert relative_name("portal", path) is None


def test_types_say_their_charset_when_text() -> None:
    assert content_type("gene.js") == "text/javascript; charset=utf-8"
    assert content_type("a/app.css") == "text/css; charset=utf-8"
    assert content_type("index.html") == "text/html; charset=utf-8"
    assert content_type("x.svg") == "image/svg+xml; charset=utf-8"
    assert content_type("shot.png") == "image/png"
    assert content_type("LICENSE") == "application/octet-stream"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("gzip;q=0", False),
        ("GZIP;Q=0.5", True),
        ("deflate, br", False),
        ("", False),
        (None, False),
        ("gzip;q=abc", False),
    ],
)
def test_gzip_when_the_client_names_it(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected
