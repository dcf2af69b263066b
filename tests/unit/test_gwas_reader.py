"""When a handle opened before the studies were listed may serve them (``_rows_since``)."""

from __future__ import annotations

from omicsgate.gwas import Study
from omicsgate.gwas._catalog import study_from_record
from omicsgate.gwas._reader import CLOCK_SKEW_SECONDS, _rows_since


def study(slot: int, created: str | None) -> Study:
    record = {"id": f"s-{slot}", "slot": slot, "attempt": "attempts/x", "created": created}
    return study_from_record(record)


def test_a_record_created_stamp_is_read_as_epoch_seconds() -> None:
    assert study(1, "1970-01-01T00:01:40Z").committed == 100.0
    assert study(1, None).committed is None
    assert study(1, "yesterday").committed is None


def test_a_handle_opened_after_the_newest_commit_and_the_clock_margin_holds_every_row() -> None:
    old = [study(1, "2026-01-01T00:00:00Z"), study(2, "2026-01-01T00:00:10Z")]
    newest = old[1].committed
    assert newest is not None
    listed = newest + 3600
    assert _rows_since(old, listed) == newest + 1 + CLOCK_SKEW_SECONDS


def test_a_recent_or_undated_study_asks_for_a_handle_opened_after_the_listing() -> None:
    recent = study(3, "2026-01-01T00:00:00Z")
    assert recent.committed is not None
    listed = recent.committed + 5
    assert _rows_since([recent], listed) == listed
    assert _rows_since([recent, study(4, None)], recent.committed + 3600) == recent.committed + 3600
    assert _rows_since([], listed) == 0.0
