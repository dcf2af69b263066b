"""schemathesis against the OpenAPI of every function (each app's own document, built from
the template's functions so none is left out) and against the standards' documents the
portal API and RNAget answer to (TRS 2.1 in test_trs_schemathesis), over the local API on
the test release: no server error and no answer that violates the document, with valid
and with invalid requests. How runs are made, and the checks every run skips:
``tests/schemathesis_runs``. Skipped here as well:
- ``positive_data_acceptance``: a schema-valid request may name an ID the data lacks or a
  value out of the data's range, and the APIs answer those with 400/404 naming the
  parameter, as GTEx, OpenGWAS and RNAget servers do. In the catalog, a ``project`` naming
  no release the caller may see is a 400 (as OpenCGA answers an unknown study), and
  ``silent=true`` over IDs some of which are missing answers 400 with the partial results
  (OpenCGA 4).

Where a standard's document is wrong about what real servers (and the compliance suites)
do, the deviation is written below with its reason: the document is patched before the
run, or a failure is allowed by its check and text.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import SHARED, TEMPLATE
from tests.schemathesis_runs import report, run_schemathesis, unexplained

pytestmark = pytest.mark.integration
SKIPPED = ["positive_data_acceptance"]
MODES = ["positive", "negative"]
# The catalog's first run (40 examples an operation) found two 500s: a Link header built
# from a non-ASCII ID.
EXAMPLES = {"CatalogFunction": 40}


def _functions() -> dict[str, tuple[str, str]]:
    """Function name -> (code directory, app module), from the template."""
    from omicsgate.localapi.template import load_template

    template = load_template(str(TEMPLATE))
    return {
        name: (function.code_dir, function.handler.split(".")[0] + ".app")
        for name, function in sorted(template.functions.items())
    }


FUNCTIONS = _functions()

# RNAget 1.2 against /rnaget.
RNAGET_ALLOWED = [
    # start > end on a continuous region is 501, as the RNAget compliance suite expects
    # (test_rnaget_compliance); schemathesis calls every 5xx a server error.
    ("ST101", re.compile(r"\[501\].*is after end", re.S)),
]


def own_document(function: str, directory: Path) -> Path:
    code_dir, module = FUNCTIONS[function]
    script = (
        f"import json, sys; sys.path.insert(0, {code_dir!r}); "
        f"from {module} import app; print(json.dumps(app.openapi()))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    path = directory / f"{function}.json"
    path.write_text(done.stdout)
    return path


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_function_meets_its_own_openapi(
    server: str, tmp_path: Path, function: str, mode: str
) -> None:
    spec = own_document(function, tmp_path)
    examples = EXAMPLES.get(function, 12)
    failures = run_schemathesis(spec, server, mode, tmp_path, SKIPPED, examples)
    assert not failures, report(failures)


def ratgtex_document(directory: Path) -> Path:
    """RatGTEx v4's document, with the deviations below patched in."""
    source = SHARED / "specs" / "ratgtex-v4-openapi.yaml"
    spec: dict[str, Any] = yaml.safe_load(source.read_text())
    # 1. It lists only 200 for every route; RatGTEx's server (Flask) answers 400 to a bad or
    # unknown parameter, and a GTEx-style server (FastAPI) 422 to a missing required one.
    schema = {"type": "object"}
    refused = {"description": "refused", "content": {"application/json": {"schema": schema}}}
    for path in spec["paths"].values():
        for operation in path.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("400", refused)
                operation["responses"].setdefault("422", refused)
    # 2. Gene and exon coordinates are integers in the server's JSON (pandas int64; see
    # ../shared/apis/ratgtex.md); the document types them as strings.
    _retype(spec, {"start", "end", "tss"}, {"type": "integer"})
    # 3. dyneqtl's pValueThreshold is null when tensorQTL gave the pair no threshold, and a
    # QTL's ref/alt are null when the release holds no record of its variant (tensorQTL's
    # tables name variants by position only; RatGTEx's server fails on such a row).
    _retype(spec, {"pValueThreshold"}, {"type": ["number", "null"]})
    _retype(spec, {"ref", "alt"}, {"type": ["string", "null"]})
    out = directory / "ratgtex.json"
    out.write_text(json.dumps(spec))
    return out


def _retype(node: Any, names: set[str], schema: dict[str, Any]) -> None:
    """Every property named in ``names``, anywhere in the document, gets ``schema``."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name in names & set(properties):
                properties[name] = {**schema, **{k: v for k, v in properties[name].items()
                                                 if k in ("example", "description")}}  # fmt: skip
        for value in node.values():
            _retype(value, names, schema)
    elif isinstance(node, list):
        for value in node:
            _retype(value, names, schema)


@pytest.mark.parametrize("mode", MODES)
def test_portal_api_meets_the_ratgtex_v4_document(server: str, tmp_path: Path, mode: str) -> None:
    if not (SHARED / "specs").exists():
        pytest.skip("../shared/specs is not beside the checkout")
    spec = ratgtex_document(tmp_path)
    failures = run_schemathesis(spec, f"{server}/api/v4", mode, tmp_path, SKIPPED)
    assert not failures, report(failures)


@pytest.mark.parametrize("mode", MODES)
def test_rnaget_meets_the_rnaget_1_2_document(server: str, tmp_path: Path, mode: str) -> None:
    spec = SHARED / "specs" / "rnaget-openapi-1.2.0.yaml"
    if not spec.exists():
        pytest.skip("../shared/specs is not beside the checkout")
    failures = run_schemathesis(spec, f"{server}/rnaget", mode, tmp_path, SKIPPED)
    assert not unexplained(failures, RNAGET_ALLOWED), report(failures)
