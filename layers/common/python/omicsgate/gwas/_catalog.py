"""Study records: what a study is, who may see it, where its data lives."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from omicsgate.gwas import _layout

# GwasInfo fields OpenGWAS serves, in its order; a record may carry others (kept, served).
GWASINFO_FIELDS = (
    "id", "trait", "build", "group_name", "category", "subcategory", "population", "sex",
    "author", "nsnp", "sample_size", "year", "ontology", "unit", "ncase", "ncontrol",
    "study_design", "consortium", "pmid", "doi", "note", "priority", "mr", "coverage",
    "qc_prior_to_upload", "sd",
)  # fmt: skip


@dataclass(frozen=True)
class Study:
    id: str
    slot: int
    attempt: str  # the study's directory, relative to gwas/
    groups: frozenset[str] = frozenset()
    info: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    files: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    # Index SNPs clumped at ingestion (``omicsgate.gwas.ld.PRECLUMP``), None without a panel.
    clumped: tuple[str, ...] | None = field(default=None, hash=False, compare=False)
    # Wall time (whole seconds) of the record's writing, after the study's rows were.
    committed: float | None = field(default=None, hash=False, compare=False)

    @property
    def trait(self) -> str:
        return str(self.info.get("trait") or "")

    @property
    def batch(self) -> str:
        """OpenGWAS batches are ID prefixes: ``ieu-a-2`` is in ``ieu-a``."""
        head, _, tail = self.id.rpartition("-")
        return head if head and tail else self.id

    def gwasinfo(self) -> dict[str, Any]:
        """The study's GwasInfo: every metadata field, ``id`` first."""
        return {"id": self.id, **{k: v for k, v in self.info.items() if k != "id"}}


def study_from_record(record: dict[str, Any]) -> Study:
    return Study(
        id=str(record["id"]),
        slot=int(record["slot"]),
        attempt=str(record["attempt"]),
        groups=frozenset(record.get("groups") or ()),
        info=dict(record.get("info") or {}),
        files=dict(record.get("files") or {}),
        clumped=_clumped(record.get("clumped")),
        committed=_epoch(record.get("created")),
    )


def _epoch(stamp: Any) -> float | None:
    """``2026-11-23T20:09:10Z`` -> seconds since the epoch; None when absent or unreadable."""
    import calendar

    try:
        return float(calendar.timegm(time.strptime(str(stamp), "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return None


def _clumped(entry: Any) -> tuple[str, ...] | None:
    return tuple(entry["rsids"]) if isinstance(entry, dict) and "rsids" in entry else None


def newest_per_id(names: list[str]) -> dict[str, tuple[int, str]]:
    """Record file names -> {study ID: (slot, name)}; a re-ingested study has two records
    for a moment, and the one with the higher slot is the newer."""
    found: dict[str, tuple[int, str]] = {}
    for name in names:
        parsed = _layout.parse_record_name(name)
        if parsed is None:
            continue  # a temporary file of an atomic write in flight
        study_id, slot = parsed
        if study_id not in found or slot > found[study_id][0]:
            found[study_id] = (slot, name)
    return found
