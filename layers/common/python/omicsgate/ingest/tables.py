"""Tab-separated tables with a header row (tissues, gene status)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from omicsgate.ingest.errors import InputError
from omicsgate.ingest.textfile import MAX_COUNT, numbered_lines
from omicsgate.portal.reference import TISSUE_FIELDS

Parser = Callable[[str], Any]
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def as_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    raise ValueError(f"{text!r} is not a boolean (true/false)")


def as_count(text: str) -> int:
    digits = text.strip()
    if not (digits.removeprefix("-").isascii() and digits.removeprefix("-").isdigit()):
        raise ValueError(f"{text!r} is not a count")
    if digits.startswith("-"):
        raise ValueError(f"{digits} is negative")
    # Length first: int() refuses strings of thousands of digits.
    if len(digits.lstrip("0")) > len(str(MAX_COUNT)) or int(digits) > MAX_COUNT:
        raise ValueError(f"{digits[:30]} is larger than {MAX_COUNT}")
    return int(digits)


def as_text(text: str) -> str:
    if not text.strip():
        raise ValueError("empty")
    return text.strip()


def pattern(regex: str, what: str) -> Parser:
    compiled = re.compile(regex)

    def parse(text: str) -> str:
        if not compiled.fullmatch(text.strip()):
            raise ValueError(f"{text!r} is not {what}")
        return text.strip()

    return parse


TISSUE_COLUMNS: dict[str, Parser] = {
    **{name: as_text for name in TISSUE_FIELDS},
    "tissueSiteDetailId": pattern(r"[A-Za-z0-9_.-]{1,64}", "a tissue ID"),
    "colorHex": pattern(r"[0-9A-Fa-f]{6}", "a 6-digit hex colour"),
    "colorRgb": pattern(r"\d{1,3},\d{1,3},\d{1,3}", "an r,g,b colour"),
    "rnaSeqSampleCount": as_count,
    "rnaSeqAndGenotypeSampleCount": as_count,
    "expressedGeneCount": as_count,
    "eGeneCount": as_count,
    "hasEGenes": as_bool,
}

# Derived at publish from the expression part when there is one: optional in the file.
TISSUE_DEFAULTS: dict[str, Any] = {"rnaSeqSampleCount": 0, "expressedGeneCount": 0}

GENE_STATUS_COLUMNS: dict[str, Parser] = {
    "geneId": as_text,
    "tissueSiteDetailId": as_text,
    "expressed": as_bool,
    "testedEqtl": as_bool,
    "eqtl": as_bool,
}


def read_table(
    path: str,
    columns: dict[str, Parser],
    progress: bool = False,
    defaults: dict[str, Any] | None = None,
) -> Iterator[dict]:
    """Rows of a TSV whose header names (at least) ``columns``, parsed and checked; a
    column of ``defaults`` may be missing from the header and then takes its default."""
    defaults = defaults or {}
    lines = numbered_lines(path, progress)
    header: list[str] | None = None
    for number, line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if header is None:
            missing = [c for c in columns if c not in cells and c not in defaults]
            if missing:
                raise InputError(path, number, missing[0], "column missing from the header")
            header = cells
            continue
        if len(cells) != len(header):
            raise InputError(
                path,
                number,
                header[min(len(cells), len(header) - 1)],
                f"{len(cells)} cells, the header has {len(header)}",
            )
        row = dict(zip(header, cells, strict=True))
        yield {
            name: _parse(path, number, name, parse, row[name]) if name in row else defaults[name]
            for name, parse in columns.items()
        }
    if header is None:
        raise InputError(path, 1, "header", "the file is empty")


def _parse(path: str, line: int, field: str, parse: Parser, text: str) -> Any:
    try:
        return parse(text)
    except ValueError as error:
        raise InputError(path, line, field, str(error)) from None
