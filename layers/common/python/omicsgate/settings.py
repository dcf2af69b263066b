"""One settings object, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_DATA_DIR = ".data"


@dataclass(frozen=True)
class Settings:
    data_uri: str
    s3_endpoint: str | None
    region: str
    release_ttl_seconds: float
    service: str
    max_ids: int

    @property
    def on_s3(self) -> bool:
        return self.data_uri.startswith("s3://")


def _data_uri(raw: str) -> str:
    if raw.startswith("s3://"):
        return raw.rstrip("/")
    # A relative directory is anchored once, so later chdir calls cannot move the store.
    return os.path.abspath(raw)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    return Settings(
        data_uri=_data_uri(env.get("OMICSGATE_DATA_URI") or DEFAULT_DATA_DIR),
        s3_endpoint=env.get("OMICSGATE_S3_ENDPOINT") or None,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        release_ttl_seconds=float(env.get("OMICSGATE_RELEASE_TTL_SECONDS", "60")),
        service=env.get("POWERTOOLS_SERVICE_NAME", "omicsgate"),
        max_ids=int(env.get("OMICSGATE_MAX_IDS", "1000")),
    )
