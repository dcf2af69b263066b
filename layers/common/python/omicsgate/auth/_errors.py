from __future__ import annotations

from dataclasses import dataclass


class AuthError(Exception):
    """A missing, malformed, invalid or revoked token: answered 401 with the reason."""


class KeysUnavailable(Exception):
    """The issuer's signing keys cannot be fetched: tokens cannot be checked (503)."""


@dataclass(frozen=True)
class Charge:
    """The state of a caller's allowance after a charge (or a refusal)."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds at which the window ends
    cost: int

    def headers(self) -> dict[str, str]:
        return {
            "X-Allowance-Limit": str(self.limit),
            "X-Allowance-Remaining": str(self.remaining),
            "X-Allowance-Reset": str(self.reset),
        }


class AllowanceExceeded(Exception):
    """The request costs more than what is left: answered 429 with Retry-After."""

    def __init__(self, charge: Charge, now: float) -> None:
        self.charge = charge
        self.retry_after = max(1, int(charge.reset - now + 0.999))
        super().__init__(
            f"Too many requests. Allowance: {charge.limit} per window, {charge.remaining} "
            f"left; this request costs {charge.cost}. Please try again after "
            f"{self.retry_after} seconds (at epoch {charge.reset})."
        )
