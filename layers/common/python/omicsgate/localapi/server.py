"""A Docker-free stand-in for ``sam local start-api``.

Reads the routes from the SAM template, turns each HTTP request into an API Gateway
HTTP API (2.0) event and invokes the same Lambda handler the cloud would.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import traceback
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import urlsplit

from omicsgate.localapi.events import LocalContext, http_api_event, response_body
from omicsgate.localapi.template import Template, load_handler, load_template


class LocalApi:
    def __init__(self, template: Template) -> None:
        self.template = template
        self.handlers = {name: load_handler(f) for name, f in template.functions.items()}

    def invoke(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(target)
        found = self.template.route_for(method, url.path)
        if found is None:
            message = {"message": "Not Found"}  # what API Gateway answers for no route
            return 404, {"content-type": "application/json"}, json.dumps(message).encode()
        route, params = found
        event = http_api_event(
            method,
            url.path,
            url.query,
            f"{route.method} {route.path}",
            headers,
            body,
            params or None,
        )
        try:
            response = self.handlers[route.function](event, LocalContext(route.function))
        except Exception:
            # What API Gateway answers when the Lambda itself fails.
            traceback.print_exc()
            message = {"message": "Internal Server Error"}
            return 502, {"content-type": "application/json"}, json.dumps(message).encode()
        out_headers = dict(response.get("headers") or {})
        return int(response["statusCode"]), out_headers, response_body(response)


def _request_handler(api: LocalApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else None
            status, headers, payload = api.invoke(
                self.command, self.path, dict(self.headers.items()), body
            )
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            print(f"{self.address_string()} {format % args}", flush=True)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", default="infra/template.yaml")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    args = parser.parse_args()
    api = LocalApi(load_template(args.template))
    # One request at a time, as in one Lambda execution environment (and Mangum wants the
    # main thread's event loop).
    server = HTTPServer((args.host, args.port), _request_handler(api))
    for route in api.template.routes:
        print(f"  {route.method:6} http://{args.host}:{args.port}{route.path}  -> {route.function}")
    print(f"OmicsGate local API on http://{args.host}:{args.port} (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
