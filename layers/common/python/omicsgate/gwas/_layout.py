"""Where the GWAS catalogue lives under the data URI (see the package docstring)."""

from __future__ import annotations

import re

from omicsgate.storage._layout import join

__all__ = ["join"]

GWAS_DIR = "gwas"
STUDIES_DIR = "studies"
SLOTS_DIR = "slots"
ATTEMPTS_DIR = "attempts"
BY_POSITION = "by_position"
BY_STUDY = "by_study"
HITS = "hits"
RSIDS = "rsids"
GENES = "genes"
SNAPSHOT_FILE = "catalog.json.gz"
PANELS_DIR = "panels"
SNPLIST_FILE = "snplist.json"
# A panel's arrays, in its attempt directory.
PANEL_SNPS = "snps"
PANEL_POSITIONS = "positions"
PANEL_RSIDS = "rsids"
PANEL_GENOTYPES = "genotypes"
_STUDY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_RECORD = re.compile(r"^(?P<id>[A-Za-z0-9][A-Za-z0-9._-]{0,63})@(?P<slot>[0-9]{1,9})\.json$")


def is_study_id(name: str) -> bool:
    return bool(_STUDY_ID.match(name))


def gwas_uri(root: str, *parts: str) -> str:
    return join(root, GWAS_DIR, *parts)


def record_name(study_id: str, slot: int) -> str:
    return f"{study_id}@{slot}.json"


def parse_record_name(name: str) -> tuple[str, int] | None:
    match = _RECORD.match(name)
    return (match.group("id"), int(match.group("slot"))) if match else None


def panel_record_uri(root: str, population: str) -> str:
    return gwas_uri(root, PANELS_DIR, f"{population}.json")
