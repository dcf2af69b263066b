"""Smoke test of a deployed (or local) OmicsGate API: does every function answer?

    python infra/smoke.py https://abc123.execute-api.eu-west-1.amazonaws.com
    python infra/smoke.py http://127.0.0.1:3000 --list        # the checks, no request

The routes come from the SAM template, so a new endpoint group is covered as soon as it
is declared: for each function, its first GET route without path parameters (in template
order; for the reference group `/api/v4/dataset`, a read of the release manifests), with
the query string of the route's stored event (`events/<group>/*.json`) when it has one, so
that routes with required parameters are called as the tests call them.

A route whose stored event accepts text/html (the portal, `/portal`) passes when it
answers an HTML page with a 200 (after redirects): the deploy uploaded the site. Any other
route passes when it answers JSON with
- a 2xx status, or
- 401: the route needs a token and the function refused the anonymous call. The HTTP API
  has no authorizer, so a 401 can only come from the function: it started, imported the
  layer and ran. (API Gateway's own failures are 404, 500, 502, 503 and 504.)
- 503 "no data release available" only with --allow-no-release: a stage whose bucket holds
  no published release yet (its first deployment, before `omicsgate ingest`).

Anything else (another status, a body that is not JSON, a timeout, no connection) fails
the run with exit code 1. Connection errors, timeouts and 5xx are retried (--attempts) to
ride out a cold start right after a deployment. Needs only the standard library and PyYAML.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_TEMPLATE = Path(__file__).resolve().parent / "template.yaml"
DEFAULT_EVENTS = Path(__file__).resolve().parent.parent / "events"
NO_RELEASE = "no data release available"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt, !Sub, ...) as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_CfnLoader.add_multi_constructor("!", _any_tag)


@dataclass(frozen=True)
class Check:
    function: str
    path: str
    query: str = ""
    page: bool = False  # expects an HTML page, not JSON

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass(frozen=True)
class Result:
    check: Check
    ok: bool
    status: int | None
    detail: str


def event_queries(events: Path) -> dict[str, str]:
    """routeKey -> rawQueryString of the stored API Gateway events."""
    queries: dict[str, str] = {}
    for event in _stored(events):
        if event.get("rawQueryString"):
            queries.setdefault(event["routeKey"], event["rawQueryString"])
    return queries


def page_routes(events: Path) -> set[str]:
    """The routeKeys whose stored events ask for an HTML page."""
    return {
        event["routeKey"]
        for event in _stored(events)
        if (event.get("headers") or {}).get("accept", "").startswith("text/html")
    }


def _stored(events: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(events.glob("*/*.json"))]


def checks_from_template(template: Path, stored: Path = DEFAULT_EVENTS) -> list[Check]:
    """Each function's first GET HttpApi route without path parameters."""
    queries = event_queries(stored)
    pages = page_routes(stored)
    with open(template) as handle:
        document = yaml.load(handle, Loader=_CfnLoader)
    found = []
    for name, resource in document["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        events = (resource.get("Properties") or {}).get("Events") or {}
        paths = [
            event["Properties"]["Path"]
            for event in events.values()
            if event.get("Type") == "HttpApi"
            and str(event["Properties"].get("Method", "")).upper() in ("GET", "ANY")
            and "{" not in event["Properties"]["Path"]
        ]
        if not paths:
            raise SystemExit(f"{template}: {name} has no GET route without path parameters")
        route = f"GET {paths[0]}"
        found.append(Check(name, paths[0], queries.get(route, ""), route in pages))
    if not found:
        raise SystemExit(f"{template}: no AWS::Serverless::Function")
    return found


def _get(url: str, timeout: float, accept: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


def judge_page(status: int, content_type: str, body: bytes) -> str | None:
    """None when the answer is an HTML page, else why not."""
    if status == 200 and content_type.startswith("text/html") and b"<html" in body[:500]:
        return None
    return f"not a page: status {status}, content-type {content_type!r}: {body[:200]!r}"


def judge(status: int, content_type: str, body: bytes, allow_no_release: bool) -> str | None:
    """None when the answer passes, else why not."""
    if not content_type.startswith("application/json"):
        return f"not JSON (content-type {content_type!r}): {body[:200]!r}"
    try:
        payload = json.loads(body)
    except ValueError:
        return f"invalid JSON: {body[:200]!r}"
    if 200 <= status < 300 or status == 401:
        return None
    detail = payload.get("detail") if isinstance(payload, dict) else None
    if status == 503 and allow_no_release and str(detail).startswith(NO_RELEASE):
        return None
    return f"status {status}: {json.dumps(payload)[:300]}"


def run_check(
    base_url: str,
    check: Check,
    *,
    allow_no_release: bool = False,
    attempts: int = 3,
    wait: float = 5.0,
    timeout: float = 30.0,
) -> Result:
    url = base_url.rstrip("/") + check.target
    problem = "not tried"
    status: int | None = None
    for attempt in range(1, attempts + 1):
        try:
            accept = "text/html" if check.page else "application/json"
            status, content_type, body = _get(url, timeout, accept)
        except (urllib.error.URLError, OSError) as error:
            status, problem = None, f"no answer: {getattr(error, 'reason', error)}"
        else:
            why = (
                judge_page(status, content_type, body)
                if check.page
                else judge(status, content_type, body, allow_no_release)
            )
            if why is None:
                return Result(check, True, status, "ok")
            problem = why
            if status < 500:  # a definite answer: retrying will not change it
                break
        if attempt < attempts:
            time.sleep(wait)
    return Result(check, False, status, problem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", help="the API's base URL (the stack output ApiUrl)")
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    parser.add_argument(
        "--events", type=Path, default=DEFAULT_EVENTS, help="stored events (query strings)"
    )
    parser.add_argument(
        "--allow-no-release",
        action="store_true",
        help="accept 503 'no data release available' (a stage with no data loaded yet)",
    )
    parser.add_argument("--attempts", type=int, default=3, help="tries per route (default 3)")
    parser.add_argument("--wait", type=float, default=5.0, help="seconds between tries")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--list", action="store_true", help="print the checks and exit")
    args = parser.parse_args(argv)

    checks = checks_from_template(args.template, args.events)
    if args.list:
        for check in checks:
            print(f"{check.function}\tGET {check.target}")
        return 0
    failed = 0
    for check in checks:
        result = run_check(
            args.base_url,
            check,
            allow_no_release=args.allow_no_release,
            attempts=max(1, args.attempts),
            wait=args.wait,
            timeout=args.timeout,
        )
        failed += not result.ok
        verdict = "PASS" if result.ok else "FAIL"
        status = result.status if result.status is not None else "-"
        print(f"{verdict} {check.function}: GET {check.target} -> {status} {result.detail}")
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
