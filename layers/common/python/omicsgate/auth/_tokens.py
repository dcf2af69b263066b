"""JWT verification: RS256/ES256 keys from a JWKS (a URL in AWS, a file locally)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import jwt

from omicsgate.auth._errors import AuthError, KeysUnavailable

ALGORITHMS = ("RS256", "ES256")
_KEY_FAMILY = {"RS256": "RSA", "ES256": "EC"}
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud"]


class JwksKeys:
    """Signing keys by ``kid``. A URL is re-read when an unknown kid shows up (key rotation),
    at most once a minute; a file is re-read when it changes."""

    def __init__(self, url: str | None, path: str) -> None:
        self.url, self.path = url, path
        self._keys: dict[str, jwt.PyJWK] = {}
        self._version: float | None = None
        self._fetched = 0.0

    def get(self, kid: str) -> jwt.PyJWK | None:
        if self.url:
            if kid not in self._keys and time.monotonic() - self._fetched > 60:
                self._keys = self._parse(self._fetch_url())
                self._fetched = time.monotonic()
        else:
            mtime = os.path.getmtime(self.path) if os.path.exists(self.path) else None
            if mtime != self._version:
                self._keys = self._parse(self._read_file()) if mtime else {}
                self._version = mtime
        return self._keys.get(kid)

    def _fetch_url(self) -> dict[str, Any]:
        import urllib.request

        assert self.url is not None
        try:
            with urllib.request.urlopen(self.url, timeout=5) as response:
                return dict(json.load(response))
        except (OSError, ValueError) as error:
            raise KeysUnavailable(f"cannot fetch signing keys: {error}") from error

    def _read_file(self) -> dict[str, Any]:
        with open(self.path, encoding="utf-8") as handle:
            return dict(json.load(handle))

    @staticmethod
    def _parse(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
        keys = {}
        for entry in document.get("keys", []):
            if entry.get("kid") and entry.get("kty") in ("RSA", "EC"):
                keys[entry["kid"]] = jwt.PyJWK(entry)
        return keys


class TokenVerifier:
    def __init__(self, keys: JwksKeys, issuer: str, audience: str) -> None:
        self.keys, self.issuer, self.audience = keys, issuer, audience

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or AuthError saying exactly why it is refused."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as error:
            raise AuthError("malformed token") from error
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise AuthError(f"token algorithm {algorithm!r} is not accepted (RS256, ES256)")
        key = self.keys.get(str(header.get("kid", "")))
        if key is None:
            raise AuthError("token signed with an unknown key (kid)")
        if key.key_type != _KEY_FAMILY[algorithm]:
            raise AuthError(f"token algorithm {algorithm} does not match its key")
        try:
            return dict(
                jwt.decode(
                    token,
                    key.key,
                    algorithms=[algorithm],
                    audience=self.audience,
                    issuer=self.issuer,
                    options={"require": _REQUIRED_CLAIMS},
                    leeway=5,
                )
            )
        except jwt.ExpiredSignatureError as error:
            raise AuthError("token expired") from error
        except jwt.ImmatureSignatureError as error:
            raise AuthError("token not yet valid") from error
        except jwt.InvalidAudienceError as error:
            raise AuthError("token has the wrong audience") from error
        except jwt.InvalidIssuerError as error:
            raise AuthError("token has the wrong issuer") from error
        except jwt.InvalidSignatureError as error:
            raise AuthError("token signature is invalid") from error
        except jwt.MissingRequiredClaimError as error:
            raise AuthError(f"token lacks the {error.claim!r} claim") from error
        except jwt.InvalidTokenError as error:
            raise AuthError(f"invalid token: {error}") from error
