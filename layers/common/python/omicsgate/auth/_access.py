"""Callers and dataset visibility: pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ANONYMOUS_UID = ""


@dataclass(frozen=True)
class Caller:
    uid: str = ANONYMOUS_UID
    groups: frozenset[str] = field(default_factory=frozenset)
    tier: str = "anonymous"
    ip: str = "0.0.0.0"
    token_expires: int | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)

    @property
    def anonymous(self) -> bool:
        return self.uid == ANONYMOUS_UID

    @property
    def allowance_subject(self) -> str:
        """Users spend their own allowance; anonymous callers share one per IP."""
        return f"ip#{self.ip}" if self.anonymous else f"user#{self.uid}"


def restricted_groups(access: Mapping[str, Any] | None) -> frozenset[str]:
    """The groups a dataset is restricted to; empty means public."""
    return frozenset((access or {}).get("groups") or ())


def can_see(caller: Caller, groups: Iterable[str]) -> bool:
    needed = frozenset(groups)
    return not needed or bool(needed & caller.groups)
