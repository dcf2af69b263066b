"""Descriptors checked offline before anything is stored: CWL with cwltool's loader
(schema-salad validation with every reference resolved, steps' ``run`` included), WDL with
miniwdl (parse + typecheck, imports included), Galaxy with gxformat2's linter. NFL and SMK
get no parser (no library small enough to ship does it): their container directives are
read by pattern. Each validator sees the version's files written out under a temporary
directory, so relative imports resolve among them and nowhere else."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from omicsgate.trs._service import NewFile

_LOCATED = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)?\s*(?P<msg>.+)$")


class DescriptorInvalid(Exception):
    """A 400: ``problems`` lists ``{"file", "line", "message"}``; nothing was stored."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        # The last: schema-salad lists the enclosing fields first, the error itself last.
        last = problems[-1]
        where = f"{last['file']}:{last['line']}" if last.get("line") else last["file"]
        super().__init__(f"invalid descriptor {where}: {last['message']}")
        self.problems = problems


@dataclass
class Inspection:
    versions: dict[str, list[str]] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)

    def add(self, kind: str, version: str | None, images: list[str]) -> None:
        if version and version not in self.versions.setdefault(kind, []):
            self.versions[kind].append(version)
        self.images.extend(i for i in images if i not in self.images)


def inspect(files: list[NewFile]) -> Inspection:
    """Validate every primary descriptor (with what it imports); gather versions, images."""
    found = Inspection()
    primaries = [f for f in files if f.file_type == "PRIMARY_DESCRIPTOR"]
    if not primaries:
        return found
    with tempfile.TemporaryDirectory(prefix="trs-") as root:
        _write_out(root, files)
        for primary in primaries:
            checker = _CHECKERS.get(str(primary.type))
            if checker is not None:
                version, images = checker(root, primary.path, files)
                found.add(str(primary.type), version, images)
    return found


def _write_out(root: str, files: list[NewFile]) -> None:
    for f in files:
        target = os.path.join(root, f.path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(f.content)


_LOADER_ID = re.compile(r"\(\d{6,}\) ")  # schema-salad prefixes some messages with its loader's id


def _relative(root: str, text: str) -> str:
    """Validator messages name temporary paths and file URIs: give the registered path."""
    # schema-salad names files relative to the working directory: that form goes first.
    for prefix in (f"{os.path.relpath(root)}/", f"file://{root}/", f"{root}/"):
        text = text.replace(prefix, "")
    return _LOADER_ID.sub("", text)


def _problems(root: str, path: str, message: str) -> list[dict[str, Any]]:
    """One problem per located line of the message (``file:line:col: text``); the
    unlocated lines after one continue its message."""
    problems: list[dict[str, Any]] = []
    for raw in _relative(root, message).splitlines():
        match = _LOCATED.match(raw.strip())
        if match:
            line = int(match["line"])
            message = match["msg"].strip().removeprefix("* ")  # schema-salad's bullets
            problems.append({"file": match["file"], "line": line, "message": message})
        elif problems and raw.strip():
            problems[-1]["message"] += f" {raw.strip()}"
    return problems or [{"file": path, "line": None, "message": _relative(root, message)}]


# ---------------------------------------------------------------- CWL
_PROCESS_CLASSES = ("CommandLineTool", "Workflow", "ExpressionTool", "Operation")
_STEP_TOOL = re.compile(r"^Tool definition (\S+) failed validation:")


def _check_cwl(root: str, path: str, files: list[NewFile]) -> tuple[str | None, list[str]]:
    """cwltool's own loader (``load_tool``, as ``cwltool --validate`` does): schema-salad
    validation, every identifier resolved (an unknown type name is an error) and each step's
    ``run`` loaded and checked too. Offline: only the version's files are read."""
    # The primary descriptor with all it imports, then each other CWL file that is a whole
    # process (a client may run any of them by path); fragments are checked where imported.
    others = [
        f.path
        for f in files
        if _is_cwl_part(f) and f.path != path and _is_process(_yaml(f.content))
    ]
    for name in [path, *others]:
        _load_cwl(root, name)
    documents = [_yaml(f.content) for f in files if f.type == "CWL"]
    version = _yaml(_content(files, path)).get("cwlVersion")
    images = [pull for doc in documents for pull in _docker_pulls(doc)]
    return (str(version) if version else None), images


def _load_cwl(root: str, name: str) -> None:
    import logging

    from cwltool.context import LoadingContext
    from cwltool.errors import WorkflowException
    from cwltool.load_tool import load_tool
    from cwltool.workflow import default_make_tool
    from schema_salad.exceptions import ValidationException

    # "Resolved ..." on every load, and schema-salad's tracebacks of a refused reference:
    # what is wrong goes back to the writer in the 400, not into the function's log.
    for logger in ("cwltool", "salad"):
        logging.getLogger(logger).setLevel(logging.ERROR)
    context = LoadingContext(
        {
            "strict": True,
            "do_validate": True,
            "skip_schemas": True,  # $schemas would be fetched from the network
            "disable_js_validation": True,  # jshint needs node.js or a container
            "fetcher_constructor": _offline_fetcher(root),
        }
    )
    context.construct_tool_object = default_make_tool
    try:
        load_tool(_file_uri(root, name), context)
    except (ValidationException, WorkflowException) as error:  # a step's tool: the latter
        text = _relative(root, str(error))
        # An error without a line in a step's tool is the tool's, not the workflow's.
        step = _STEP_TOOL.match(text)
        raise DescriptorInvalid(_problems(root, step[1] if step else name, text)) from None
    except Exception as error:  # YAML errors, unknown cwlVersion values, cwltool's own
        raise DescriptorInvalid(_problems(root, name, f"{name}:1: {error}")) from None


def _file_uri(root: str, name: str) -> str:
    from pathlib import Path

    return Path(root, name).as_uri()


def _offline_fetcher(root: str) -> Any:
    """A schema-salad fetcher that reads the version's files and nothing else: no network
    (no HTTP session), no file outside ``root``; cwltool's bundled CWL schemas come from
    its cache as always."""
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    from schema_salad.exceptions import ValidationException
    from schema_salad.fetcher import DefaultFetcher

    inside = os.path.realpath(root) + os.sep

    class OfflineFetcher(DefaultFetcher):
        def __init__(self, cache: Any, session: Any) -> None:
            super().__init__(cache, None)

        def _allowed(self, url: str) -> None:
            if url in self.cache:
                return
            split = urlsplit(url)
            local = os.path.realpath(url2pathname(split.path)) if split.scheme == "file" else ""
            if not local.startswith(inside):
                shown = _relative(root, url)
                raise ValidationException(
                    f"{shown!r} is not among the version's files (registration reads no network)"
                )

        def fetch_text(self, url: str, content_types: list[str] | None = None) -> str:
            self._allowed(url)
            return super().fetch_text(url, content_types)

        def check_exists(self, url: str) -> bool:
            self._allowed(url)
            return super().check_exists(url)

    return OfflineFetcher


def _is_process(document: dict[str, Any]) -> bool:
    return "$graph" in document or document.get("class") in _PROCESS_CLASSES


def _is_cwl_part(file: NewFile) -> bool:
    return file.type == "CWL" and file.file_type == "SECONDARY_DESCRIPTOR"


def _content(files: list[NewFile], path: str) -> bytes:
    return next(f.content for f in files if f.path == path)


def _yaml(content: bytes) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.safe_load(content)
    except yaml.YAMLError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _docker_pulls(node: Any) -> Iterator[str]:
    """dockerPull of every DockerRequirement, in list form or map form, at any depth."""
    if isinstance(node, dict):
        if node.get("class") == "DockerRequirement" and isinstance(node.get("dockerPull"), str):
            yield node["dockerPull"]
        docker = node.get("DockerRequirement")
        if isinstance(docker, dict) and isinstance(docker.get("dockerPull"), str):
            yield docker["dockerPull"]
        for value in node.values():
            yield from _docker_pulls(value)
    elif isinstance(node, list):
        for value in node:
            yield from _docker_pulls(value)


# ---------------------------------------------------------------- WDL
def _check_wdl(root: str, path: str, files: list[NewFile]) -> tuple[str | None, list[str]]:
    import WDL

    def local_only(uri: str, path: list[str], importer: Any = None) -> str:
        # Imports resolve among the version's files: no http, no paths outside the tool.
        resolved = os.path.normpath(os.path.join(os.path.dirname(importer.pos.abspath), uri))
        if not resolved.startswith(root + os.sep) or not os.path.exists(resolved):
            raise FileNotFoundError(f"import {uri!r} is not among the version's files")
        return resolved

    try:
        document = WDL.load(os.path.join(root, path), read_source=_wdl_reader(local_only))
    except WDL.Error.MultipleValidationErrors as errors:
        raise DescriptorInvalid([_wdl_problem(root, e) for e in errors.exceptions]) from None
    except (WDL.Error.SyntaxError, WDL.Error.ValidationError, WDL.Error.ImportError) as error:
        raise DescriptorInvalid([_wdl_problem(root, error)]) from None
    images = [image for task in _wdl_tasks(document) for image in _runtime_images(task)]
    return document.wdl_version, images


def _wdl_reader(resolve: Any) -> Any:
    import WDL

    async def read(uri: str, path: list[str], importer: Any) -> Any:
        if importer is not None:
            uri = resolve(uri, path, importer)
        return await WDL.read_source_default(uri, path, importer)

    return read


def _wdl_problem(root: str, error: Any) -> dict[str, Any]:
    pos = getattr(error, "pos", None)
    message = str(error)
    if pos is None:
        return {"file": "?", "line": None, "message": _relative(root, message)}
    return {
        "file": _relative(root, str(pos.abspath or pos.uri)),
        "line": pos.line,
        "message": _relative(root, message),
    }


def _wdl_tasks(document: Any) -> Iterator[Any]:
    yield from document.tasks
    for imported in document.imports:
        yield from _wdl_tasks(imported.doc)


def _runtime_images(task: Any) -> Iterator[str]:
    for key in ("docker", "container"):
        expression = task.runtime.get(key)
        literal = getattr(expression, "literal", None) if expression is not None else None
        value = getattr(literal, "value", None)
        if isinstance(value, str):
            yield value


# ---------------------------------------------------------------- Galaxy
def _check_galaxy(root: str, path: str, files: list[NewFile]) -> tuple[str | None, list[str]]:
    import json

    from gxformat2.lint import lint_format2, lint_ga
    from gxformat2.linting import LintContext

    content = _content(files, path)
    try:
        workflow = json.loads(content) if content.lstrip().startswith(b"{") else _yaml(content)
    except ValueError as error:
        raise DescriptorInvalid([{"file": path, "line": None, "message": str(error)}]) from None
    native = workflow.get("a_galaxy_workflow") == "true"
    context = LintContext()
    try:
        (lint_ga if native else lint_format2)(context, workflow)
    except Exception as error:  # the linter's model refuses the document outright
        raise DescriptorInvalid([{"file": path, "line": None, "message": str(error)}]) from None
    if context.found_errors or context.error_messages:
        raise DescriptorInvalid([_lint_problem(path, m) for m in context.error_messages])
    version = str(workflow.get("format-version", "0.1")) if native else "gxformat2"
    return version, []


def _lint_problem(path: str, message: Any) -> dict[str, Any]:
    pointer = getattr(message, "json_pointer", "") or ""
    text = str(getattr(message, "message", message))
    return {"file": path, "line": None, "message": f"{pointer}: {text}" if pointer else text}


# ---------------------------------------------------------------- Nextflow, Snakemake
_CONTAINER = re.compile(r"""^\s*container:?\s*['"]([^'"$]+)['"]""", re.MULTILINE)


def _check_by_pattern(root: str, path: str, files: list[NewFile]) -> tuple[str | None, list[str]]:
    text = _content(files, path).decode(errors="replace")
    return None, [image.removeprefix("docker://") for image in _CONTAINER.findall(text)]


_CHECKERS = {
    "CWL": _check_cwl,
    "WDL": _check_wdl,
    "GALAXY": _check_galaxy,
    "NFL": _check_by_pattern,
    "SMK": _check_by_pattern,
}
