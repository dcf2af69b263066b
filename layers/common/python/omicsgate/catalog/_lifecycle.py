"""Every catalog endpoint's place in OpenCGA's deprecation lifecycle, declared here once.

Warning (works) -> Deprecated (works) -> Hidden (works, gone from the OpenAPI) -> Removed
(410). Endpoints not listed are stable. What each stage does to a response:

==========  =======  ===================  =====================================  ========
stage       answers  WARNING event        headers                                OpenAPI
==========  =======  ===================  =====================================  ========
warning     yes      yes                  ``Deprecation`` (a future date),       listed
                                          ``Link`` to the successor
deprecated  yes      yes                  ``Deprecation`` (past), ``Sunset``,     deprecated
                                          ``Link``
hidden      yes      yes                  as deprecated                          absent
removed     410      ERROR event          ``Link``                               absent
==========  =======  ===================  =====================================  ========

``Deprecation`` is RFC 9745's structured date (``@<epoch seconds>``), ``Sunset`` RFC 8594's
HTTP-date, ``Link: <successor>; rel="successor-version"`` RFC 8288 / RFC 5829.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from enum import StrEnum


class Stage(StrEnum):
    STABLE = "stable"
    WARNING = "warning"
    DEPRECATED = "deprecated"
    HIDDEN = "hidden"
    REMOVED = "removed"


@dataclass(frozen=True)
class Lifecycle:
    stage: Stage
    replacement: str  # the successor's path ({ids} kept: it is filled from the request)
    deprecation: datetime  # when it is (or will be) deprecated
    sunset: datetime | None = None  # when it stops answering
    note: str = ""

    @property
    def working(self) -> bool:
        return self.stage is not Stage.REMOVED

    @property
    def in_openapi(self) -> bool:
        return self.stage in (Stage.STABLE, Stage.WARNING, Stage.DEPRECATED)

    def message(self, path: str, successor: str | None = None) -> str:
        """What the WARNING (or 410's ERROR) event says; ``successor`` with its IDs."""
        successor = successor or self.replacement
        if self.stage is Stage.WARNING:
            when = self.deprecation.date().isoformat()
            return f"{path} will be deprecated on {when}; use {successor}. {self.note}".strip()
        if self.stage is Stage.REMOVED:
            return f"{path} was removed; use {successor}"
        until = f" until {self.sunset.date().isoformat()}" if self.sunset else ""
        return f"{path} is deprecated and answers{until}; use {successor}"

    def headers(self, successor_url: str) -> dict[str, str]:
        headers = {"Link": f'<{successor_url}>; rel="successor-version"'}
        if self.stage is Stage.REMOVED:
            return headers
        headers["Deprecation"] = f"@{int(self.deprecation.timestamp())}"
        if self.sunset and self.stage is not Stage.WARNING:
            headers["Sunset"] = format_datetime(self.sunset, usegmt=True)
        return headers


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


STABLE = Lifecycle(Stage.STABLE, "", _day("2026-01-01"))

# The one declaration. Each entry is a real rename of this API's history.
LIFECYCLE: dict[str, Lifecycle] = {
    # The planned next step: a project's studies become a filter of /studies/search.
    "/v2/projects/{ids}/studies": Lifecycle(
        Stage.WARNING,
        "/v2/studies/search?project={ids}",
        _day("2027-06-01"),
        note="The search pages, counts and sorts like every other search.",
    ),
    # A variant's GWAS associations, first published as /gwas, renamed to say what it lists.
    "/v2/variants/{ids}/gwas": Lifecycle(
        Stage.DEPRECATED,
        "/v2/variants/{ids}/associations",
        _day("2026-09-01"),
        sunset=_day("2027-03-01"),
    ),
    # A gene's eQTLs, first published as /qtls: deprecated a release earlier, now hidden.
    "/v2/genes/{ids}/qtls": Lifecycle(
        Stage.HIDDEN,
        "/v2/genes/{ids}/eqtls",
        _day("2026-06-01"),
        sunset=_day("2027-01-31"),
    ),
    # The list of endpoints, first /meta/endpoints, is OpenCGA's /meta/api.
    "/v2/meta/endpoints": Lifecycle(
        Stage.REMOVED,
        "/v2/meta/api",
        _day("2026-03-01"),
        sunset=_day("2026-09-01"),
    ),
}


def lifecycle(path: str) -> Lifecycle:
    return LIFECYCLE.get(path, STABLE)


def successor(entry: Lifecycle, ids: str | None) -> str:
    return entry.replacement.replace("{ids}", ids) if ids else entry.replacement
