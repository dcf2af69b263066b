"""schemathesis, the practical TRS conformance suite, against the bundled TRS 2.1 spec and
the local API over a registry holding the demo tool: no server error, no answer that
violates the spec.

Skipped checks, and why (besides those of every run, ``tests/schemathesis_runs``):
- ``status_code_conformance`` in the negative run only: the spec documents no 400 or 422,
  so every refusal of a schema-violating request is "undocumented" there; the negative
  run still requires that each such request is refused, and with the spec's Error shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SHARED, Caller
from tests.schemathesis_runs import report, run_schemathesis
from tests.trs_data import demo_registry_server

pytestmark = pytest.mark.integration
SPEC = SHARED / "specs" / "trs-2.1.0-openapi.bundled.yaml"


@pytest.fixture(scope="module")
def trs_url(tmp_path_factory: pytest.TempPathFactory, call: Caller) -> Iterator[str]:
    with demo_registry_server(str(tmp_path_factory.mktemp("trs-data")), call) as url:
        yield f"{url}/ga4gh/trs/v2"


@pytest.mark.parametrize(
    ("mode", "skipped"), [("positive", []), ("negative", ["status_code_conformance"])]
)
def test_schemathesis_finds_nothing(
    trs_url: str, tmp_path: Path, mode: str, skipped: list[str]
) -> None:
    if not SPEC.exists():
        pytest.skip("../shared/specs is not beside the checkout")
    failures = run_schemathesis(SPEC, trs_url, mode, tmp_path, skipped, max_examples=40)
    assert not failures, report(failures)
