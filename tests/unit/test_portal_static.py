"""The local API's static files (/portal/, /docs/): what is served, and what never is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omicsgate.localapi.static import default_root, serve_static

pytestmark = pytest.mark.unit


@pytest.fixture
def root(tmp_path: Path) -> Path:
    built = tmp_path / "portal" / "dist"
    (built / "docs").mkdir(parents=True)
    (built / "index.html").write_text("<html>portal</html>")
    (built / "gene.js").write_text("export {};")
    (built / "app.css").write_text("body {}")
    (built / "docs" / "index.html").write_text("<html>docs</html>")
    (tmp_path / "secret.txt").write_text("not served")
    return built


def test_pages_scripts_and_styles_with_their_types(root: Path) -> None:
    assert serve_static(root, "GET", "/portal/") == (
        200,
        [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-cache")],
        b"<html>portal</html>",
    )
    assert serve_static(root, "GET", "/portal/gene.js")[1][0] == (
        "content-type",
        "text/javascript; charset=utf-8",
    )
    assert serve_static(root, "HEAD", "/portal/app.css")[1][0][1] == "text/css; charset=utf-8"
    assert serve_static(root, "GET", "/docs/")[2] == b"<html>docs</html>"


def test_bare_mounts_redirect_to_their_directory(root: Path) -> None:
    for mount in ("/portal", "/docs"):
        status, headers, _ = serve_static(root, "GET", mount)
        assert status == 308 and ("location", f"{mount}/") in headers


@pytest.mark.parametrize(
    "path",
    [
        "/portal/../secret.txt",
        "/portal/%2e%2e/secret.txt",
        "/docs/../../secret.txt",
        "/portal/nope",
    ],
)
def test_nothing_outside_the_built_directory_or_missing(root: Path, path: str) -> None:
    status, _, body = serve_static(root, "GET", path)
    assert status == 404 and b"not served" not in body


def test_other_paths_are_the_apis_and_writes_are_refused(root: Path) -> None:
    assert serve_static(root, "GET", "/api/v4/gene") is None
    assert serve_static(root, "GET", "/portalx/index.html") is None
    assert serve_static(root, "POST", "/portal/")[0] == 405


def test_an_unbuilt_portal_says_how_to_build_it(tmp_path: Path) -> None:
    status, _, body = serve_static(tmp_path / "missing", "GET", "/portal/")
    assert status == 404 and "make portal" in json.loads(body)["message"]


def test_the_default_root_is_beside_the_templates_directory() -> None:
    assert default_root("infra/template.yaml") == Path("portal/dist").resolve()
