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
class Template:
    path: str
    functions: dict[str, Function]
    routes: list[Route]

    def route_for(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            params = route.matches(method, path)
            if params is not None:
                return route, params
        return None


@cache
def _path_regex(path: str) -> re.Pattern[str]:
    pattern = re.escape(path)
    pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", pattern)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(pattern)


def load_template(path: str) -> Template:
    with open(path, encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)
    base = os.path.dirname(os.path.abspath(path))
    globals_ = (document.get("Globals") or {}).get("Function") or {}
    functions: dict[str, Function] = {}
    routes: list[Route] = []
    for name, resource in (document.get("Resources") or {}).items():
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
    return Template(path, functions, routes)


def load_handler(function: Function) -> Any:
    """Import a function's handler the way Lambda does: its CodeUri on sys.path."""
    if function.code_dir not in sys.path:
        sys.path.insert(0, function.code_dir)
    module_name, attribute = function.handler.rsplit(".", 1)
    return getattr(importlib.import_module(module_name), attribute)
