"""Tokens: each way a token can be wrong is refused with a 401 saying why."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest

from omicsgate.auth import get_auth
from omicsgate.localapi.events import http_api_event
from tests.conftest import Caller
from tests.tokens import (
    claims,
    foreign_ec_key,
    hs256_with_public_key,
    local_key,
    rsa_key,
    signed,
    unsigned_token,
    user_token,
)

pytestmark = pytest.mark.integration


def get(call: Caller, path: str, authorization: str | None, query: str = "") -> tuple:
    headers = {"authorization": authorization} if authorization is not None else {}
    return call.event(http_api_event("GET", path, query, headers=headers))


def test_valid_token_is_accepted_and_user_shown(backend: str, call: Caller) -> None:
    token = user_token("alice", {"cohort-a"})
    status, body, headers = get(call, "/gwas/user", f"Bearer {token}")
    assert status == 200, body
    assert body["user"]["uid"] == "alice"
    assert body["user"]["groups"] == ["cohort-a"]
    assert body["request"]["ip"] == "127.0.0.1"
    assert int(headers["x-allowance-remaining"]) == body["user"]["allowance"]["remaining"]


REFUSALS: list[tuple[str, Callable[[], str | None], str]] = [
    ("missing", lambda: None, "needs a bearer token"),
    ("not bearer", lambda: "Basic YWxpY2U6c2VjcmV0", "Bearer <token>"),
    ("malformed", lambda: "Bearer not.a.jwt", "malformed token"),
    (
        "wrong signature",
        lambda: "Bearer " + signed(claims(), key=foreign_ec_key()),
        "signature is invalid",
    ),
    ("expired", lambda: "Bearer " + signed(claims(exp=int(time.time()) - 120)), "expired"),
    (
        "not yet valid",
        lambda: "Bearer " + signed(claims(nbf=int(time.time()) + 600)),
        "not yet valid",
    ),
    (
        "wrong issuer",
        lambda: "Bearer " + signed(claims(iss="https://evil.example")),
        "wrong issuer",
    ),
    ("wrong audience", lambda: "Bearer " + signed(claims(aud="someone-else")), "wrong audience"),
    (
        "no expiry",
        lambda: "Bearer " + signed({k: v for k, v in claims().items() if k != "exp"}),
        "'exp' claim",
    ),
    ("alg none", lambda: "Bearer " + unsigned_token(claims()), "'none' is not accepted"),
    (
        "HS256 key confusion",
        lambda: "Bearer " + hs256_with_public_key(claims()),
        "'HS256' is not accepted",
    ),
    ("unknown kid", lambda: "Bearer " + signed(claims(), kid="no-such-key"), "unknown key"),
]


@pytest.mark.parametrize(("case", "make", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_bad_tokens_are_refused_with_a_reason(
    backend: str, call: Caller, case: str, make: Callable[[], str | None], reason: str
) -> None:
    status, body, headers = get(call, "/gwas/user", make())
    assert status == 401
    assert reason in body["message"]
    assert headers["www-authenticate"].startswith("Bearer")
    assert "Traceback" not in json.dumps(body)


def test_a_bad_token_is_refused_on_public_routes_too(backend: str, call: Caller) -> None:
    """A caller who sends a token means to be someone: never fall back to anonymous."""
    status, body, _ = get(call, "/api/v4/tissueInfo", "Bearer " + signed(claims(aud="x")))
    assert status == 401
    assert "wrong audience" in body["detail"]


def test_revocation_refuses_every_earlier_token(backend: str, call: Caller) -> None:
    old = user_token("bob", {"cohort-b"})
    assert get(call, "/gwas/user", f"Bearer {old}")[0] == 200
    get_auth().revoke("bob")
    status, body, _ = get(call, "/gwas/user", f"Bearer {old}")
    assert status == 401 and "revoked" in body["message"]
    fresh = user_token("bob", {"cohort-b"})
    assert get(call, "/gwas/user", f"Bearer {fresh}")[0] == 200


def test_rs256_keys_from_the_jwks_are_accepted(backend: str, call: Caller) -> None:
    key = rsa_key()
    local_key()  # make sure the local key and jwks.json exist
    path = os.path.join(get_auth().settings.auth_dir, "jwks.json")
    with open(path) as handle:
        jwks: dict[str, Any] = json.load(handle)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks["keys"].append({**public, "kid": "rsa-1", "alg": "RS256", "use": "sig"})
    with open(path, "w") as handle:
        json.dump(jwks, handle)
    os.utime(path, (time.time() + 1, time.time() + 1))  # a new mtime, even within a tick
    token = signed(claims("carol"), kid="rsa-1", key=key, algorithm="RS256")
    status, body, _ = get(call, "/gwas/user", f"Bearer {token}")
    assert status == 200, body
    # An ES256 header on the RSA key is refused, not "verified" with the wrong family.
    confused = signed(claims("carol"), kid="rsa-1", key=local_key()[0], algorithm="ES256")
    status, body, _ = get(call, "/gwas/user", f"Bearer {confused}")
    assert status == 401 and "does not match its key" in body["message"]


def test_keys_are_fetched_from_a_jwks_url(backend: str, call: Caller, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """In AWS the keys come from the issuer's JWKS URL (Cognito's .well-known/jwks.json)."""
    import functools
    import http.server
    import threading

    from omicsgate.localapi.devtools import reset_settings

    key, kid = local_key()
    jwks = os.path.join(get_auth().settings.auth_dir, "jwks.json")
    (tmp_path / ".well-known").mkdir()
    (tmp_path / ".well-known" / "jwks.json").write_text(Path(jwks).read_text())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    os.environ.update(OMICSGATE_JWKS_URL=url, OMICSGATE_AUTH_DIR=str(tmp_path / "empty"))
    reset_settings()
    try:
        token = signed(claims("dave"), kid=kid, key=key)  # the key the URL publishes
        status, body, _ = get(call, "/gwas/user", f"Bearer {token}")
        assert status == 200, body
        stranger = signed(claims("dave"), kid="rotated-away", key=key)
        assert get(call, "/gwas/user", f"Bearer {stranger}")[1]["message"].endswith("(kid)")
        server.shutdown()
        server.server_close()
        reset_settings()  # a new container, and the issuer is down: 503, not 401 or 500
        status, body, _ = get(call, "/gwas/user", f"Bearer {token}")
        assert status == 503 and "retry later" in body["message"]
    finally:
        del os.environ["OMICSGATE_JWKS_URL"]
        os.environ["OMICSGATE_AUTH_DIR"] = os.path.dirname(jwks)
        reset_settings()
