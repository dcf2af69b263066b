"""A Docker-free stand-in for ``sam local start-api``: what ``make serve`` runs.

Reads the routes from the SAM template, turns each HTTP request into an API Gateway
HTTP API (2.0) event and invokes the same Lambda handler the cloud would. uvicorn does the
HTTP (keep-alive, parsing, Ctrl-C); a small ASGI app plays API Gateway: routes, CORS,
limits, the integration timeout. Each function runs in a thread of its own, one event at a
time like one Lambda execution environment; functions and waiting connections never block
one another.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from types import FrameType
from typing import Any

from omicsgate.localapi.events import LocalContext, http_api_event, response_body
from omicsgate.localapi.template import Template, load_handler, load_template

# API Gateway HTTP API quotas (https://docs.aws.amazon.com/apigateway/latest/developerguide/
# http-api-quotas.html): request line + headers, payload, integration timeout.
MAX_REQUEST_LINE_AND_HEADERS = 10_240
MAX_BODY = 10 * 1024 * 1024
INTEGRATION_TIMEOUT = 30.0
TIMEOUT_ENV = "OMICSGATE_LOCAL_TIMEOUT_SECONDS"
# h11 answers a request line or header block larger than this with plain text: let requests
# up to it reach the app, which answers 414/431 JSON as API Gateway's limit says.
MAX_PARSED_HEAD = 16 * 1024 * 1024

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[dict[str, Any], Any], Any]
Reply = tuple[int, list[tuple[str, str]], bytes]


def _json_reply(status: int, message: str) -> Reply:
    body = json.dumps({"message": message}).encode()
    return status, [("content-type", "application/json")], body


class FunctionWorker:
    """One execution environment: a daemon thread with its own event loop (Mangum needs
    one), running one event at a time. Daemon, so a stuck handler never blocks exit."""

    def __init__(self, name: str, handler: Handler) -> None:
        self.name = name
        self.handler = handler
        self.jobs: queue.SimpleQueue[
            tuple[concurrent.futures.Future[Any], dict[str, Any], Any] | None
        ] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name=f"lambda-{name}", daemon=True)
        self.thread.start()

    def submit(self, event: dict[str, Any], context: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.jobs.put((future, event, context))
        return future

    def retire(self) -> list[tuple[concurrent.futures.Future[Any], dict[str, Any], Any]]:
        """Stop taking events (the thread ends once its current one returns): the waiting
        events, to hand to a fresh environment."""
        waiting = []
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                waiting.append(job)
        self.jobs.put(None)
        return waiting

    def _run(self) -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        while (job := self.jobs.get()) is not None:
            future, event, context = job
            if not future.set_running_or_notify_cancel():
                continue  # its client stopped waiting
            try:
                future.set_result(self.handler(event, context))
            except BaseException as error:
                future.set_exception(error)


class LocalApi:
    """The ASGI app: API Gateway (HTTP API) in front of the template's functions."""

    def __init__(self, template: Template, timeout: float = INTEGRATION_TIMEOUT) -> None:
        self.template = template
        self.timeout = timeout
        self.handlers = {name: load_handler(f) for name, f in template.functions.items()}
        self.workers = {name: FunctionWorker(name, h) for name, h in self.handlers.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan is off; no websockets
        started = time.perf_counter()
        method = scope["method"]
        path = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else scope["path"]
        query = scope["query_string"].decode("latin-1")
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            # API Gateway joins repeated headers with commas (cookies with "; ").
            separator = "; " if name == "cookie" else ","
            headers[name] = f"{headers[name]}{separator}{value}" if name in headers else value
        # API Gateway tells the function the scheme the client used (https); Mangum assumes
        # https without it, so links a function builds (TRS paging) would point at https.
        headers["x-forwarded-proto"] = scope.get("scheme", "http")
        request_id = "-"
        try:
            body, too_large = await _read_body(receive)
            status, out_headers, payload, request_id = await self.respond(
                method, path, query, headers, body, too_large
            )
        except Exception:
            print(f"error {request_id}: the local API failed", file=sys.stderr, flush=True)
            traceback.print_exc()
            status, out_headers, payload = _json_reply(500, "Internal Server Error")
        out_headers.append(("content-length", str(len(payload))))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out_headers],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        elapsed = (time.perf_counter() - started) * 1000
        print(f"{method} {_shown(path, query)} {status} {elapsed:.1f} ms", flush=True)

    async def respond(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        too_large: bool,
    ) -> tuple[int, list[tuple[str, str]], bytes, str]:
        """What API Gateway answers, and the request id it gave the request."""
        event = http_api_event(method, path, query, None, headers, body or None)
        request_id = event["requestContext"]["requestId"]
        cors = self.template.cors
        origin = headers.get("origin")
        if too_large:
            reply = _json_reply(413, "Request Entity Too Large")
        elif oversized := _oversized(method, path, query, headers):
            reply = oversized
        elif cors and method == "OPTIONS" and origin and "access-control-request-method" in headers:
            # API Gateway answers a CORS preflight itself, without invoking a function.
            reply = 204, cors.preflight_headers(origin), b""
            origin = None
        else:
            reply = await self.route(event, method, path)
        status, out_headers, payload = reply
        if cors and origin:
            out_headers.extend(cors.response_headers(origin))
        out_headers.append(("apigw-requestid", request_id))
        return status, out_headers, payload, request_id

    async def route(self, event: dict[str, Any], method: str, path: str) -> Reply:
        found = self.template.route_for(method, path)
        if found is None:
            return _json_reply(404, "Not Found")  # API Gateway's answer for no route
        route, params = found
        route_key = f"{route.method} {route.path}"
        event["routeKey"] = event["requestContext"]["routeKey"] = route_key
        if params:
            event["pathParameters"] = params
        return await self.invoke(route.function, event)

    async def invoke(self, function: str, event: dict[str, Any]) -> Reply:
        request_id = event["requestContext"]["requestId"]
        worker = self.workers[function]
        future = worker.submit(event, LocalContext(function))
        try:
            response = await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            self._replace(worker)
            print(
                f"error {request_id}: {function} did not answer within {self.timeout:g} s "
                "(API Gateway's integration timeout); it gets a fresh environment",
                file=sys.stderr,
                flush=True,
            )
            return _json_reply(503, "Service Unavailable")
        except Exception as error:
            # What API Gateway (HTTP API) answers when the Lambda itself fails.
            print(f"error {request_id}: {function} raised", file=sys.stderr, flush=True)
            traceback.print_exception(error)
            return _json_reply(500, "Internal Server Error")
        try:
            status, headers, payload = _lambda_reply(response)
        except (KeyError, TypeError, ValueError) as error:
            print(
                f"error {request_id}: {function} returned a malformed response: {error!r}",
                file=sys.stderr,
                flush=True,
            )
            return _json_reply(500, "Internal Server Error")
        if self.template.cors is not None:
            # With CORS configured, API Gateway ignores the function's CORS headers.
            headers = [(k, v) for k, v in headers if not k.startswith("access-control-")]
        return status, headers, payload

    def _replace(self, stuck: FunctionWorker) -> None:
        """A function that timed out is replaced, as Lambda replaces a timed-out
        environment: the events waiting behind it go to the fresh one."""
        if self.workers.get(stuck.name) is not stuck:
            return  # already replaced
        fresh = FunctionWorker(stuck.name, stuck.handler)
        self.workers[stuck.name] = fresh
        for job in stuck.retire():
            fresh.jobs.put(job)


def _oversized(method: str, path: str, query: str, headers: dict[str, str]) -> Reply | None:
    """API Gateway's 10,240-byte limit on the request line plus headers: 414 when the
    request line alone exceeds it, else 431."""
    line = len(f"{method} {path}?{query} HTTP/1.1\r\n")
    if line > MAX_REQUEST_LINE_AND_HEADERS:
        return _json_reply(414, "Request-URI Too Long")
    head = sum(len(k) + len(v) + 4 for k, v in headers.items())
    if line + head > MAX_REQUEST_LINE_AND_HEADERS:
        return _json_reply(431, "Request Header Fields Too Large")
    return None


def _lambda_reply(response: Any) -> Reply:
    """A payload 2.0 Lambda response as status, headers (Set-Cookie repeated) and body."""
    if not isinstance(response, dict) or "statusCode" not in response:
        # API Gateway treats anything else as a 200 JSON body.
        return 200, [("content-type", "application/json")], json.dumps(response).encode()
    headers: list[tuple[str, str]] = []
    for name, value in (response.get("headers") or {}).items():
        if name.lower() != "content-length":
            headers.append((name.lower(), str(value)))
    for name, values in (response.get("multiValueHeaders") or {}).items():
        if name.lower() != "content-length":
            headers.extend((name.lower(), str(v)) for v in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in response.get("cookies") or ())
    return int(response["statusCode"]), headers, response_body(response)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, and whether it was over API Gateway's 10 MB (then discarded)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(chunk)
        else:
            chunks.clear()  # read to the end, so the client sees the 413, then drop it
        if not message.get("more_body", False):
            break
    return b"".join(chunks), size > MAX_BODY


def _shown(path: str, query: str, limit: int = 200) -> str:
    target = f"{path}?{query}" if query else path
    return target if len(target) <= limit else f"{target[:limit]}... ({len(target)} chars)"


def _uvicorn_protocol() -> type:
    """uvicorn's h11 protocol, answering malformed HTTP with a JSON 400 instead of text."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class JsonErrorsProtocol(H11Protocol):
        def send_400_response(self, msg: str) -> None:
            body = json.dumps({"message": "Bad Request"}).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ]
            for event in (
                h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                h11.Data(data=body),
                h11.EndOfMessage(),
            ):
                self.transport.write(self.conn.send(event) or b"")
            self.transport.close()

    return JsonErrorsProtocol


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", default="infra/template.yaml")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get(TIMEOUT_ENV, INTEGRATION_TIMEOUT)),
        help=f"integration timeout in seconds (API Gateway: 30; env {TIMEOUT_ENV})",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="uvicorn's own logs, and the functions' metrics (EMF JSON) on stdout",
    )
    parser.add_argument(
        "--portal",
        type=Path,
        help="built portal served at /portal/ and /docs/ (default: portal/dist beside infra/)",
    )
    args = parser.parse_args(argv)
    # uvicorn stops on SIGINT/SIGTERM, then restores these handlers and re-raises the
    # signal: exit 0, without a KeyboardInterrupt traceback. Also covers startup.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    if not args.verbose:
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

    import uvicorn

    # PortalFunction serves /portal/ and /docs/ from here, as from S3 in AWS.
    portal = args.portal or Path(args.template).resolve().parent.parent / "portal" / "dist"
    if args.portal or not os.environ.get("OMICSGATE_PORTAL_URI"):
        os.environ["OMICSGATE_PORTAL_URI"] = str(portal.resolve())
    api = LocalApi(load_template(args.template), args.timeout)
    config = uvicorn.Config(
        api,
        host=args.host,
        port=args.port,
        http=_uvicorn_protocol(),
        lifespan="off",
        access_log=False,  # one line per request is printed by LocalApi
        log_level="info" if args.verbose else "warning",
        h11_max_incomplete_event_size=MAX_PARSED_HEAD,
        timeout_keep_alive=30,  # idle keep-alive connections cost nothing here
        timeout_graceful_shutdown=5,
    )
    for route in api.template.routes:
        print(f"  {route.method:6} http://{args.host}:{args.port}{route.path}  -> {route.function}")
    print(f"OmicsGate local API on http://{args.host}:{args.port} (Ctrl-C stops)", flush=True)
    print(f"  portal: http://{args.host}:{args.port}/portal/  API reference: /docs/", flush=True)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
