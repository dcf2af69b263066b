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

    def __init__(self, url: str | None, path: str, timeout: float = 5.0) -> None:
        self.url, self.path, self.timeout = url, path, timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._version: float | None = None
        # None until a fetch succeeds: a new microVM's monotonic clock may be under 60 s,
        # so "never fetched" cannot be a time. A failed fetch is not remembered, so the
        # next request tries again and the keys come back as soon as the issuer does.
        self._fetched: float | None = None

    def get(self, kid: str) -> jwt.PyJWK | None:
        if self.url:
            fresh = self._fetched is not None and time.monotonic() - self._fetched <= 60
            if kid not in self._keys and not fresh:
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
            with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
                document = json.load(response)
        except (OSError, ValueError) as error:
            raise KeysUnavailable(f"cannot fetch signing keys: {error}") from error
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            # An error page or a proxy's answer, not a key set: as unavailable as no answer.
            raise KeysUnavailable(f"cannot fetch signing keys: {self.url} sent no JWKS")
        return dict(document)

    def _read_file(self) -> dict[str, Any]:
        with open(self.path, encoding="utf-8") as handle:
            return dict(json.load(handle))

    @staticmethod
    def _parse(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
        keys = {}
        for entry in document.get("keys", []):
            if isinstance(entry, dict) and entry.get("kid") and entry.get("kty") in ("RSA", "EC"):
                try:
                    keys[entry["kid"]] = jwt.PyJWK(entry)
                except jwt.PyJWKError:
                    continue  # a key we cannot use signs nothing we accept
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
