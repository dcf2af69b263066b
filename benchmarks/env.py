"""The benchmark environment: fake AWS credentials, a moto S3 server, demo releases."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from omicsgate.localapi.devtools import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_DIR = ROOT / "functions" / "reference"
TEMPLATE = ROOT / "infra" / "template.yaml"
EVENTS = ROOT / "events"
BIN = Path(sys.executable).parent
BUCKET = "omicsgate-bench"

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "OmicsGateBench",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


def setup_process_env() -> None:
    """Fake credentials, quiet powertools, and the reference function importable."""
    os.environ.update(AWS_ENV)
    # The bench measures latency, not the OpenGWAS-style allowance: thousands of replayed
    # requests would use up a window's (anonymous 10,000, and 1,000 a gwasinfo/files).
    os.environ["OMICSGATE_ANONYMOUS_LIMIT"] = str(10**12)
    os.environ["OMICSGATE_TIERS"] = f"standard={10**12},trusted={10**12}"
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("OMICSGATE_S3_ENDPOINT", None)
    paths = [str(FUNCTION_DIR), str(ROOT), os.environ.get("PYTHONPATH", "")]
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    if str(FUNCTION_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTION_DIR))


@dataclass(frozen=True)
class Moto:
    """A moto S3 server; its access log is the ground truth for S3 requests."""

    endpoint: str
    log: Path

    def requests(self) -> list[str]:
        """Every HTTP request served so far, as "METHOD /path"."""
        text = self.log.read_text(errors="replace")
        return [f"{m[1]} {m[2]}" for m in _ACCESS_LINE.finditer(text)]


_ACCESS_LINE = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+) (\S+) HTTP/[0-9.]+')


@contextmanager
def moto_server(log_dir: str) -> Iterator[Moto]:
    """moto in its own process (TileDB's S3 client hangs on an in-process one), with a bucket."""
    port = free_port()
    log = Path(log_dir) / "moto.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(endpoint)
        import boto3

        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        yield Moto(endpoint, log)
    finally:
        process.terminate()
        process.wait(timeout=10)


TEST_DEMO = {"genes": 800, "seed": 11}  # tests/conftest.py's demo_files


def start_demo_release(data_uri: str, endpoint: str | None = None) -> subprocess.Popen[bytes]:
    """Build the demo release with the project's CLI (in the background)."""
    env = dict(os.environ, OMICSGATE_DATA_URI=data_uri)
    env.pop("OMICSGATE_S3_ENDPOINT", None)
    if endpoint:
        env["OMICSGATE_S3_ENDPOINT"] = endpoint
    # The demo the tests build: the stored events (replayed for every route) name its
    # variants, such as dyneqtl's planted eQTL of Cd300lf.
    command = [str(BIN / "omicsgate"), "--data-uri", data_uri, "--quiet", "demo", "release"]
    command += ["--genes", str(TEST_DEMO["genes"]), "--seed", str(TEST_DEMO["seed"])]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_built(process: subprocess.Popen[bytes]) -> None:
    _, stderr = process.communicate(timeout=300)
    if process.returncode:
        raise RuntimeError(f"demo release failed: {stderr.decode(errors='replace')}")
