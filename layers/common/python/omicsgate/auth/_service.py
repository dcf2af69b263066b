"""The container's auth service: verifies tokens, finds users, charges allowances."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from omicsgate.auth._access import Caller
from omicsgate.auth._errors import AllowanceExceeded, AuthError, Charge
from omicsgate.auth._records import AuthBackend, UserRecord, window_start
from omicsgate.settings import Settings, get_settings

JWKS_FILE = "jwks.json"
PRIVATE_KEY_FILE = "signing-key.pem"
USERS_FILE = "users.sqlite"


def _claim_groups(claims: Mapping[str, Any]) -> frozenset[str]:
    groups = claims.get("groups") or claims.get("cognito:groups") or []
    if isinstance(groups, str):
        groups = groups.split(",")
    return frozenset(str(g) for g in groups if g)


class Auth:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._verifier: Any = None
        self._backend: AuthBackend | None = None

    @property
    def backend(self) -> AuthBackend:
        if self._backend is None:
            if self.settings.users_table:
                from omicsgate.auth._dynamo import DynamoBackend

                self._backend = DynamoBackend(self.settings.users_table, self.settings)
            else:
                from omicsgate.auth._sqlite import SqliteBackend

                self._backend = SqliteBackend(os.path.join(self.settings.auth_dir, USERS_FILE))
        return self._backend

    @property
    def verifier(self) -> Any:
        if self._verifier is None:
            from omicsgate.auth._tokens import JwksKeys, TokenVerifier

            keys = JwksKeys(
                self.settings.jwks_url,
                os.path.join(self.settings.auth_dir, JWKS_FILE),
                self.settings.remote_timeout_seconds,
            )
            self._verifier = TokenVerifier(
                keys, self.settings.jwt_issuer, self.settings.jwt_audience
            )
        return self._verifier

    def caller(self, authorization: str | None, ip: str) -> Caller:
        """Anonymous without a header; a verified user with one; AuthError otherwise."""
        if authorization is None:
            return Caller(ip=ip)
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("Authorization must be 'Bearer <token>'")
        claims = self.verifier.verify(token.strip())
        uid = str(claims["sub"])
        user = self.backend.get_user(uid)
        if user and int(claims["iat"]) < user.valid_after:
            raise AuthError("token revoked: it was issued before the user's last revocation")
        groups = user.groups if user else _claim_groups(claims)
        tier = user.tier if user else str(claims.get("tier") or "standard")
        return Caller(uid, groups, tier, ip, int(claims["exp"]), claims)

    def limit_for(self, caller: Caller) -> int:
        if caller.anonymous:
            return self.settings.anonymous_limit
        return self.settings.tier_limit(caller.tier)

    def charge(self, caller: Caller, cost: int) -> Charge:
        """Spend ``cost`` units before the work runs; AllowanceExceeded if they are not there."""
        now = time.time()
        window = self.settings.allowance_window_seconds
        start = window_start(now, window)
        limit = self.limit_for(caller)
        if cost > limit:
            charged, used = False, 0
        else:
            charged, used = self.backend.spend(
                caller.allowance_subject, start, cost, limit, expires=start + 2 * window
            )
        charge = Charge(charged, limit, max(0, limit - used), start + window, cost)
        if not charged:
            raise AllowanceExceeded(charge, now)
        return charge

    def revoke(self, uid: str, at: int | None = None) -> UserRecord:
        """Refuse every token of ``uid`` issued before now (or ``at``)."""
        user = self.backend.get_user(uid) or UserRecord(uid, frozenset(), "standard")
        # Past every token issued so far, even those stamped at the previous watermark.
        watermark = at or max(int(time.time()), user.valid_after) + 1
        revoked = UserRecord(user.uid, user.groups, user.tier, watermark)
        self.backend.put_user(revoked)
        return revoked


@lru_cache(maxsize=1)
def get_auth() -> Auth:
    return Auth(get_settings())


def reset_auth() -> None:
    get_auth.cache_clear()
