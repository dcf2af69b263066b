"""Tokens for tests: the local issuer's, and forgeries of every kind a verifier must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from omicsgate.auth import get_auth
from omicsgate.localapi.tokens import issue_token, signing_key


def claims(uid: str = "alice", **override: Any) -> dict[str, Any]:
    settings = get_auth().settings
    now = int(time.time())
    return {
        "sub": uid,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 3600,
        **override,
    }


def local_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    return signing_key(get_auth().settings.auth_dir)


def signed(
    body: dict[str, Any], kid: str | None = None, key: Any = None, algorithm: str = "ES256"
) -> str:
    own_key, own_kid = local_key()
    return jwt.encode(body, key or own_key, algorithm=algorithm, headers={"kid": kid or own_kid})


def user_token(uid: str, groups: set[str] | None = None, tier: str = "standard") -> str:
    return issue_token(get_auth(), uid, frozenset(groups or ()), tier)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned_token(body: dict[str, Any]) -> str:
    """``alg: none``: what a broken verifier would accept."""
    _, kid = local_key()
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{_b64(json.dumps(body).encode())}."


def hs256_with_public_key(body: dict[str, Any]) -> str:
    """Key confusion: HMAC-signed with the server's *public* key as the secret."""
    key, kid = local_key()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = _b64(json.dumps(body).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def foreign_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
