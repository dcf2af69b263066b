"""Every `curl 127.0.0.1:3000/...` example in the README answers what it promises, on the
release `make serve` builds (the demo defaults): data, never an empty list, or the error
status (and message) its comment shows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from omicsgate.auth import get_auth
from omicsgate.ingest.demo import write_demo
from omicsgate.localapi.events import http_api_event
from omicsgate.localapi.tokens import issue_token
from tests.conftest import ROOT, Caller, build_release, reset_settings, use_store

pytestmark = pytest.mark.integration
README = ROOT / "README.md"
CURL = re.compile(
    r"^curl\s+(?P<header>-H\s+\"[^\"]*\"\s+)?'?(?P<url>127\.0\.0\.1:3000/[^'\s]*)'?"
    r"(?:\s+#\s*(?P<comment>.*))?$"
)
# A comment that starts with a status shows an error: `# 400 {"detail": "variantId: ..."}`.
SHOWN_ERROR = re.compile(r"^(?P<status>[45]\d\d)\b\s*(?P<body>\{.*\})?")


@dataclass(frozen=True)
class Example:
    line: str
    path: str
    query: str
    token: bool
    status: int
    detail_prefix: str | None


def examples() -> list[Example]:
    found = []
    for line in README.read_text().splitlines():
        match = CURL.match(line.strip())
        if not match:
            continue
        url = urlsplit("http://" + match["url"])
        error = SHOWN_ERROR.match(match["comment"] or "")
        found.append(
            Example(
                line.strip(),
                url.path,
                url.query,
                "Bearer" in (match["header"] or ""),
                int(error["status"]) if error else 200,
                _shown_detail(error["body"]) if error and error["body"] else None,
            )
        )
    return found


def _shown_detail(body: str) -> str:
    """What the README shows of the detail, up to its '...'."""
    shown = re.search(r'"detail":\s*"([^"]*)"', body)
    assert shown, body
    return shown[1].split("...")[0]


@pytest.fixture(scope="module")
def serve_release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The release `make serve` builds: `omicsgate demo release`, the demo defaults."""
    files = write_demo(str(tmp_path_factory.mktemp("readme-demo")))
    uri = str(tmp_path_factory.mktemp("readme-data"))
    build_release(uri, files)
    from omicsgate.ingest.cli import build_demo_gwas_once
    from omicsgate.storage import get_store

    build_demo_gwas_once(get_store())  # make serve's demo holds the GWAS studies too
    yield uri
    reset_settings()


def non_empty(body: Any) -> bool:
    """Every list in the answer has items, and something is there (of a catalog envelope,
    its results: its events and params may well be empty)."""
    if isinstance(body, dict) and {"apiVersion", "responses"} <= set(body):
        return bool(body["responses"] and body["responses"][0]["results"])
    values = list(body.values()) if isinstance(body, dict) else [body]
    return bool(values) and all(v not in ([], {}, None, "") for v in values)


def test_the_readme_has_curl_examples() -> None:
    found = examples()
    assert len(found) >= 7, [e.line for e in found]  # a broken pattern must not pass vacuously
    assert any(e.status != 200 for e in found) and any(e.token for e in found)


@pytest.mark.parametrize("example", examples(), ids=lambda e: e.line)
def test_readme_example_answers_what_it_promises(
    serve_release: str, call: Caller, example: Example
) -> None:
    use_store(serve_release)
    headers = {}
    if example.token:
        token = issue_token(get_auth(), "alice", frozenset({"cohort-a"}), "standard")
        headers["Authorization"] = f"Bearer {token}"
    event = http_api_event("GET", example.path, example.query, headers=headers)
    status, body, _ = call.event(event)
    assert status == example.status, (example.line, body)
    if example.status == 200:
        assert non_empty(body), (example.line, json.dumps(body)[:300])
    elif example.detail_prefix is not None:
        assert body["detail"].startswith(example.detail_prefix), (example.line, body)
