"""One settings object, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DEFAULT_DATA_DIR = ".data"
DEFAULT_AUTH_DIR = ".auth"
LOCAL_ISSUER = "omicsgate-local"
DEFAULT_AUDIENCE = "omicsgate"
DEFAULT_TIERS = "standard=100000,trusted=1000000"


@dataclass(frozen=True)
class Settings:
    data_uri: str
    s3_endpoint: str | None
    region: str
    release_ttl_seconds: float
    max_ids: int
    # Auth: tokens, users and the allowance.
    jwt_issuer: str = LOCAL_ISSUER
    jwt_audience: str = DEFAULT_AUDIENCE
    jwks_url: str | None = None
    auth_dir: str = DEFAULT_AUTH_DIR
    users_table: str | None = None
    dynamodb_endpoint: str | None = None
    tier_limits: tuple[tuple[str, int], ...] = ()
    anonymous_limit: int = 10_000
    allowance_window_seconds: int = 600
    # TRS registry metadata: a DynamoDB table in AWS; unset, a SQLite file beside the data.
    trs_table: str | None = None
    # How long S3, DynamoDB or the JWKS host may stay silent before a request gives up (the
    # AWS C++ SDK's own default): a request meets at most 6 such waits (tests/integration/
    # test_faults.py), so it ends inside the Lambda timeout (28 s), as a 503.
    remote_timeout_seconds: float = 3.0
    # The portal's built pages and the API reference (omicsgate.web.static): unset, the
    # ``portal`` folder of the data URI, where the deploy uploads ``portal/dist``.
    portal_uri: str = ""

    def tier_limit(self, tier: str) -> int:
        limits = dict(self.tier_limits)
        return limits.get(tier, limits.get("standard", 0))


def _data_uri(raw: str) -> str:
    if raw.startswith("s3://"):
        return raw.rstrip("/")
    # A relative directory is anchored once, so later chdir calls cannot move the store.
    return os.path.abspath(raw)


def _tiers(raw: str) -> tuple[tuple[str, int], ...]:
    """``standard=100000,trusted=1000000`` -> (("standard", 100000), ...)."""
    pairs = (item.split("=", 1) for item in raw.split(",") if item.strip())
    return tuple((name.strip(), int(limit)) for name, limit in pairs)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    data_uri = _data_uri(env.get("OMICSGATE_DATA_URI") or DEFAULT_DATA_DIR)
    return Settings(
        data_uri=data_uri,
        s3_endpoint=env.get("OMICSGATE_S3_ENDPOINT") or None,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        release_ttl_seconds=float(env.get("OMICSGATE_RELEASE_TTL_SECONDS", "60")),
        max_ids=int(env.get("OMICSGATE_MAX_IDS", "1000")),
        jwt_issuer=env.get("OMICSGATE_JWT_ISSUER") or LOCAL_ISSUER,
        jwt_audience=env.get("OMICSGATE_JWT_AUDIENCE") or DEFAULT_AUDIENCE,
        jwks_url=env.get("OMICSGATE_JWKS_URL") or None,
        auth_dir=os.path.abspath(env.get("OMICSGATE_AUTH_DIR") or DEFAULT_AUTH_DIR),
        users_table=env.get("OMICSGATE_USERS_TABLE") or None,
        dynamodb_endpoint=env.get("OMICSGATE_DYNAMODB_ENDPOINT") or None,
        tier_limits=_tiers(env.get("OMICSGATE_TIERS") or DEFAULT_TIERS),
        anonymous_limit=int(env.get("OMICSGATE_ANONYMOUS_LIMIT", "10000")),
        allowance_window_seconds=int(env.get("OMICSGATE_ALLOWANCE_WINDOW_SECONDS", "600")),
        trs_table=env.get("OMICSGATE_TRS_TABLE") or None,
        remote_timeout_seconds=float(env.get("OMICSGATE_REMOTE_TIMEOUT_SECONDS", "3")),
        portal_uri=_data_uri(env.get("OMICSGATE_PORTAL_URI") or f"{data_uri}/portal"),
    )


def aws_client(service: str, settings: Settings, endpoint: str | None = None) -> Any:
    """A boto3 client that gives up on a silent endpoint after the remote timeout and
    retries a failed call once (standard mode: throttling and 5xx, with backoff), so an
    unavailable S3 or DynamoDB is a 503 within about 2 x the timeout (botocore's defaults,
    60 s x 5 attempts, would outlast the Lambda)."""
    import boto3
    from botocore.config import Config

    timeout = settings.remote_timeout_seconds
    config = Config(
        connect_timeout=min(timeout, 3.0),
        read_timeout=timeout,
        retries={"mode": "standard", "max_attempts": 2},
    )
    return boto3.client(service, region_name=settings.region, endpoint_url=endpoint, config=config)
