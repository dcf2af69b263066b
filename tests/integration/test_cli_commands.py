"""`omicsgate token issue` refuses what it cannot honour; `releases current ID` reports."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from omicsgate.ingest.cli import main
from omicsgate.ingest.demo import DEMO_RELEASE, DemoFiles, write_demo
from omicsgate.storage import get_store
from tests.conftest import build_release, use_store

pytestmark = pytest.mark.integration
DAY = 24 * 3600


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--days", "-1"], "--days"),
        (["--days", "0"], "--days"),
        (["--days", "366"], "--days"),
        (["--days", "nan"], "--days"),
        (["--tier", "platinum"], "--tier"),
        (["--tier", ""], "--tier"),
    ],
)
def test_token_issue_refuses_an_expired_token_or_an_unknown_tier(
    capsys: pytest.CaptureFixture[str], options: list[str], named: str
) -> None:
    assert main(["token", "issue", "--user", "carol", *options]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # no token printed
    assert err.startswith(f"omicsgate: {named}: ")
    assert "Traceback" not in err


def test_unknown_tier_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    main(["token", "issue", "--user", "carol", "--tier", "platinum"])
    assert "'platinum' (known: standard, trusted;" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("tier", "days"), [("trusted", "1"), ("standard", "365"), ("standard", "0.5")]
)
def test_token_issue_signs_the_lifetime_and_tier_asked_for(
    capsys: pytest.CaptureFixture[str], tier: str, days: str
) -> None:
    before = int(time.time())
    assert main(["token", "issue", "--user", "dave", "--tier", tier, "--days", days]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["tier"] == tier
    assert before + float(days) * DAY <= claims["exp"] <= time.time() + float(days) * DAY + 1


def test_publish_confirms_the_switch(
    tmp_path: Path, demo_files: DemoFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = str(tmp_path / "data")
    build_release(uri, demo_files)
    small = write_demo(str(tmp_path / "small"), genes=30, seed=3)
    build_release(uri, small, release="v2", make_current=False)
    capsys.readouterr()

    assert main(["--data-uri", uri, "releases", "current", "v2"]) == 0
    assert capsys.readouterr().out == f"release v2 is now current (was {DEMO_RELEASE})\n"
    use_store(uri)
    assert get_store().current_release() == "v2"
