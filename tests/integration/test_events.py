"""Every stored API Gateway event, replayed through its function's real handler."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, Caller

pytestmark = pytest.mark.integration
EVENT_FILES = sorted((ROOT / "events").rglob("*.json"))


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_event_replays_to_a_json_200(backend: str, call: Caller, path) -> None:  # type: ignore[no-untyped-def]
    status, body, headers = call.event(json.loads(path.read_text()))
    assert status == 200, body
    assert headers["x-request-id"].startswith("example-")
    key = path.stem
    assert isinstance(body[key], list)
