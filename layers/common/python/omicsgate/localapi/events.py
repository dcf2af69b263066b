"""API Gateway HTTP API (payload format 2.0) events and a Lambda context, locally."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

# Content types whose bodies API Gateway passes as text; any other body arrives base64.
_TEXT_TYPES = ("application/json", "application/javascript", "application/xml")
_TEXT_SUFFIXES = ("+json", "+xml")


def is_text(content_type: str) -> bool:
    """Whether API Gateway passes a body of this content type as a plain string."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(_TEXT_SUFFIXES)


def http_api_event(
    method: str,
    path: str,
    query: str = "",
    route_key: str | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    path_parameters: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The event API Gateway sends for one request (as `sam local generate-event`).

    As API Gateway does: a ``cookie`` header becomes the ``cookies`` list, and a body is
    a plain string when its content type is text or JSON, otherwise base64.
    """
    now = time.time()
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    cookie = lowered.pop("cookie", "")
    cookies = [c.strip() for c in cookie.split(";") if c.strip()]
    query_parameters: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        # API Gateway joins repeated keys with commas.
        query_parameters[key] = (
            f"{query_parameters[key]},{value}" if key in query_parameters else value
        )
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query_parameters:
        event["queryStringParameters"] = query_parameters
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        try:
            text = body.decode() if is_text(lowered.get("content-type", "")) else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


@dataclass
class LocalContext:
    """The attributes of a Lambda context that powertools and Mangum read."""

    function_name: str = "local"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def response_body(response: dict[str, Any]) -> bytes:
    body = response.get("body") or ""
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
