"""TileDB configuration built from the settings."""

from __future__ import annotations

from urllib.parse import urlparse

from omicsgate.settings import Settings


def tiledb_config(settings: Settings) -> dict[str, str]:
    config = {
        "vfs.s3.region": settings.region,
        # A bad endpoint should fail a request fast, not hang a Lambda for its timeout.
        "vfs.s3.connect_timeout_ms": "3000",
        "vfs.s3.connect_max_tries": "2",
        "vfs.s3.request_timeout_ms": "10000",
    }
    if settings.s3_endpoint:
        endpoint = urlparse(settings.s3_endpoint)
        config["vfs.s3.endpoint_override"] = endpoint.netloc or endpoint.path
        config["vfs.s3.scheme"] = endpoint.scheme or "https"
        config["vfs.s3.use_virtual_addressing"] = "false"
    return config
