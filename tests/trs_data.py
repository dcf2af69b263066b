"""The TRS demo tool of the stored events, writer tokens, and raw calls of the TRS handler."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from omicsgate.localapi.events import LocalContext, http_api_event, response_body
from tests.conftest import ROOT, Caller
from tests.tokens import claims, signed

BASE = "/ga4gh/trs/v2"
LEGACY_BASE = "/api/ga4gh/v2"  # TRS 2.0.1's answers, for cwltool and trs-cli
DEMO_ID = "omicsgate-echo"


def demo_tool() -> dict[str, Any]:
    """The body of events/trs/putTool.json: a CWL workflow importing tools/echo.cwl, a WDL
    task, a CWL test file and a Dockerfile, in version 1.0."""
    event = json.loads((ROOT / "events" / "trs" / "putTool.json").read_text())
    body: dict[str, Any] = json.loads(event["body"])
    return body


def writer_token(uid: str = "wendy", groups: list[str] | None = None) -> str:
    """A token with the registry's writer role (and groups, when the user is unknown)."""
    return signed(claims(uid, roles=["trs-writer"], groups=groups or []))


def trs(
    call: Caller,
    method: str,
    path: str,
    query: str = "",
    body: Any = None,
    token: str | None = None,
    base: str = BASE,
) -> tuple[int, dict[str, str], bytes]:
    """One request through the TrsFunction handler: status, headers, raw body."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        headers["content-type"] = "application/json"
        data = json.dumps(body).encode()
    event = http_api_event(method, f"{base}{path}", query, headers=headers, body=data)
    response = call.handler_for("TrsFunction")(event, LocalContext())
    return response["statusCode"], response.get("headers") or {}, response_body(response)


def put_demo(call: Caller, tool_id: str = DEMO_ID, **changes: Any) -> None:
    status, _, body = trs(
        call, "PUT", f"/tools/{tool_id}", body={**demo_tool(), **changes}, token=writer_token()
    )
    assert status == 200, body


@contextmanager
def demo_registry_server(directory: str, call: Caller) -> Iterator[str]:
    """The local API, a real server process, over a registry in ``directory`` holding the
    demo tool (registered by its write API); yields the server's base URL."""
    from omicsgate.localapi.devtools import reset_settings, use_store
    from tests.conftest import TEMPLATE
    from tests.integration.test_local_api import start_server, stop

    use_store(directory)
    put_demo(call)
    reset_settings()
    process, url = start_server(TEMPLATE, directory, ready_path=f"{BASE}/service-info")
    try:
        yield url
    finally:
        stop(process)
