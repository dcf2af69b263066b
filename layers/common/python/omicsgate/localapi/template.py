"""Routes and handlers as ``infra/template.yaml`` declares them."""

from __future__ import annotations

import importlib
import os
import re
import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, ...) as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}


_CfnLoader.add_multi_constructor("!", _any_tag)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str

    def matches(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        match = _path_regex(self.path).fullmatch(path)
        return match.groupdict() if match else None


@dataclass(frozen=True)
class Function:
    name: str
    code_dir: str
    handler: str
    environment: dict[str, str]


@dataclass(frozen=True)
class Cors:
    """An HttpApi's ``CorsConfiguration``: API Gateway answers preflights and adds headers."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    def allowed_origin(self, origin: str) -> str | None:
        """The ``access-control-allow-origin`` value for a request from ``origin``, if any."""
        if "*" in self.allow_origins and not self.allow_credentials:
            return "*"
        if origin.lower() in (o.lower() for o in self.allow_origins):
            return origin
        return None

    def preflight_headers(self, origin: str) -> list[tuple[str, str]]:
        """The headers of API Gateway's 204 answer to a preflight from ``origin``."""
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return []
        headers = [("access-control-allow-origin", allowed)]
        if self.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        if self.allow_methods:
            headers.append(("access-control-allow-methods", ",".join(self.allow_methods)))
        if self.allow_headers:
            headers.append(("access-control-allow-headers", ",".join(self.allow_headers)))
        if self.max_age is not None:
            headers.append(("access-control-max-age", str(self.max_age)))
        return headers

    def response_headers(self, origin: str) -> list[tuple[str, str]]:
        """The headers API Gateway adds to the response to a request from ``origin``."""
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return []
        headers = [("access-control-allow-origin", allowed)]
        if allowed != "*":
            headers.append(("vary", "origin"))
        if self.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        if self.expose_headers:
            headers.append(("access-control-expose-headers", ",".join(self.expose_headers)))
        return headers

    @classmethod
    def from_template(cls, spec: Any) -> Cors | None:
        if spec is True:  # `CorsConfiguration: true` allows every origin
            return cls(allow_origins=("*",))
        if not isinstance(spec, dict):
            return None

        def strings(key: str) -> tuple[str, ...]:
            return tuple(str(v) for v in spec.get(key) or () if isinstance(v, str))

        max_age = spec.get("MaxAge")
        return cls(
            strings("AllowOrigins"),
            tuple(m.upper() for m in strings("AllowMethods")),
            tuple(h.lower() for h in strings("AllowHeaders")),
            tuple(h.lower() for h in strings("ExposeHeaders")),
            int(max_age) if isinstance(max_age, int | str) and str(max_age).isdigit() else None,
            spec.get("AllowCredentials") is True,
        )


@dataclass(frozen=True)
class Template:
    path: str
    functions: dict[str, Function]
    routes: list[Route]
    cors: Cors | None = None

    def route_for(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            params = route.matches(method, path)
            if params is not None:
                return route, params
        return None


@cache
def _path_regex(path: str) -> re.Pattern[str]:
    pattern = re.escape(path)
    # A greedy {name+} also takes an empty rest: HTTP APIs route "/portal/" to
    # "/portal/{proxy+}" (a route itself cannot end with "/"; storacha/w3infra#166).
    pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.*)", pattern)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(pattern)


def load_template(path: str) -> Template:
    with open(path, encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)
    base = os.path.dirname(os.path.abspath(path))
    globals_ = (document.get("Globals") or {}).get("Function") or {}
    api_globals = (document.get("Globals") or {}).get("HttpApi") or {}
    functions: dict[str, Function] = {}
    routes: list[Route] = []
    cors: Cors | None = None
    for name, resource in (document.get("Resources") or {}).items():
        if resource.get("Type") == "AWS::Serverless::HttpApi":
            api = {**api_globals, **(resource.get("Properties") or {})}
            cors = cors or Cors.from_template(api.get("CorsConfiguration"))
            continue
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**globals_, **resource.get("Properties", {})}
        variables = (props.get("Environment") or {}).get("Variables") or {}
        functions[name] = Function(
            name,
            os.path.normpath(os.path.join(base, props["CodeUri"])),
            props["Handler"],
            {k: str(v) for k, v in variables.items() if isinstance(v, str | int | float)},
        )
        for event in (props.get("Events") or {}).values():
            if event.get("Type") == "HttpApi":
                spec = event["Properties"]
                routes.append(Route(spec["Method"].upper(), spec["Path"], name))
    return Template(path, functions, routes, cors)


def load_handler(function: Function) -> Any:
    """Import a function's handler the way Lambda does: its CodeUri on sys.path."""
    if function.code_dir not in sys.path:
        sys.path.insert(0, function.code_dir)
    module_name, attribute = function.handler.rsplit(".", 1)
    return getattr(importlib.import_module(module_name), attribute)
