"""What the user and allowance stores hold, and the interface both backends offer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class UserRecord:
    uid: str
    groups: frozenset[str]
    tier: str
    valid_after: int = 0  # tokens issued before this epoch second are revoked


class AuthBackend(Protocol):
    def get_user(self, uid: str) -> UserRecord | None: ...

    def put_user(self, user: UserRecord) -> None: ...

    def spend(
        self, subject: str, window: int, cost: int, limit: int, expires: int
    ) -> tuple[bool, int]:
        """Atomically add ``cost`` to the window's counter unless it would pass ``limit``.

        Returns (charged, units used in the window after the attempt).
        """
        ...


def window_start(now: float, window_seconds: int) -> int:
    return int(now // window_seconds) * window_seconds
