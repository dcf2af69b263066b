"""A local token issuer for development: an ES256 key made on first use, its JWKS beside it.

In AWS, tokens come from Cognito (or another OIDC issuer); this module is never deployed.
"""

from __future__ import annotations

import json
import os
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from omicsgate.auth import Auth
from omicsgate.auth._records import UserRecord
from omicsgate.auth._service import JWKS_FILE, PRIVATE_KEY_FILE

DEFAULT_LIFETIME = 14 * 24 * 3600  # OpenGWAS tokens last 14 days


def signing_key(auth_dir: str) -> tuple[ec.EllipticCurvePrivateKey, str]:
    """The local private key and its kid, created (with jwks.json) on first use."""
    key_path = os.path.join(auth_dir, PRIVATE_KEY_FILE)
    if not os.path.exists(key_path):
        os.makedirs(auth_dir, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
    with open(key_path, "rb") as handle:
        loaded = serialization.load_pem_private_key(handle.read(), password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(loaded.public_key()))
    kid = jwt.PyJWK(public).key_id or _thumbprint(public)
    _write_jwks(auth_dir, {**public, "kid": kid, "alg": "ES256", "use": "sig"})
    return loaded, kid


def _thumbprint(jwk: dict[str, str]) -> str:
    import base64
    import hashlib

    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:16]


def _write_jwks(auth_dir: str, jwk: dict[str, str]) -> None:
    """Add the local key to jwks.json, keeping any other keys an operator put there."""
    path = os.path.join(auth_dir, JWKS_FILE)
    document: dict[str, list[dict[str, str]]] = {"keys": []}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    if jwk in document["keys"]:
        return
    document["keys"] = [k for k in document["keys"] if k.get("kid") != jwk["kid"]] + [jwk]
    with open(f"{path}.tmp", "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
    os.replace(f"{path}.tmp", path)


def issue_token(
    auth: Auth,
    uid: str,
    groups: frozenset[str],
    tier: str,
    lifetime: int = DEFAULT_LIFETIME,
    roles: frozenset[str] = frozenset(),
) -> str:
    """Register (or update) the user, then sign a token for them. Roles (e.g. the TRS
    registry's ``trs-writer``) travel in the token's ``roles`` claim only."""
    key, kid = signing_key(auth.settings.auth_dir)
    existing = auth.backend.get_user(uid)
    valid_after = existing.valid_after if existing else 0
    auth.backend.put_user(UserRecord(uid, groups, tier, valid_after))
    issued = max(int(time.time()), valid_after)
    claims = {
        "sub": uid,
        "iss": auth.settings.jwt_issuer,
        "aud": auth.settings.jwt_audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "groups": sorted(groups),
        "tier": tier,
    }
    if roles:
        claims["roles"] = sorted(roles)
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})
