"""infra/lambda_sizes.py, which `make build` runs after `sam build`: each function's code
plus its layers, unzipped, against Lambda's 262,144,000 bytes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.unit

TEMPLATE = """
Globals:
  Function:
    Layers:
      - !Ref CommonLayer
Resources:
  CommonLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: CommonLayer}
  Small:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: Small, Handler: small.handler}
  Big:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: Big
      Layers: [{Ref: CommonLayer}]
      Events: {Get: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: !Sub "/${X}"}}}
"""


def build(tmp_path: Path, big_bytes: int) -> Path:
    """A `sam build` directory: a 1,000-byte function, a big one and a 2,000-byte layer."""
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    for name, size in (("Small", 1000), ("Big", big_bytes), ("CommonLayer/python", 2000)):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "code.bin").write_bytes(b"\0" * size)
    return tmp_path


def check(directory: Path) -> subprocess.CompletedProcess[str]:
    script = str(ROOT / "infra" / "lambda_sizes.py")
    return subprocess.run(
        [sys.executable, script, str(directory)], capture_output=True, text=True, timeout=60
    )


def test_functions_within_the_limit_pass(tmp_path: Path) -> None:
    result = check(build(tmp_path, 262_144_000 - 2000))  # exactly the limit with the layer
    assert result.returncode == 0, result.stderr
    assert "Small: 0.0 MB of 262.1 (0.00 MB + 0.0 MB CommonLayer) ok" in result.stdout
    assert "Big: 262.1 MB of 262.1 (262.14 MB + 0.0 MB CommonLayer) ok" in result.stdout


def test_a_function_past_the_limit_with_its_layers_fails(tmp_path: Path) -> None:
    result = check(build(tmp_path, 262_144_000 - 1999))  # one byte over, counting the layer
    assert result.returncode == 1
    assert "Big: 262.1 MB of 262.1 (262.14 MB + 0.0 MB CommonLayer) OVER" in result.stdout
    assert "past Lambda's unzipped limit: Big" in result.stderr
