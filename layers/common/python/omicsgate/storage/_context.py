"""TileDB configuration built from the settings."""

from __future__ import annotations

from urllib.parse import urlparse

from omicsgate.settings import Settings

# For reads of a few tiles far apart in large files (GWAS loci in a 10^8-row array).
# TileDB merges the tile reads of one file into one request until it spans
# ``vfs.min_batch_size`` (20 MB by default) whatever the gaps: a 10-variant PheWAS moved
# 237 MB to use 1.7 MB. Here only reads less than ``vfs.min_batch_gap`` apart are merged:
# on S3 its default, 500 KB (a request costs more than that much transfer), on a local
# disk none (the page cache has no per-request cost).
SCATTERED_READS = {"vfs.min_batch_size": "0"}
SCATTERED_LOCAL_READS = {**SCATTERED_READS, "vfs.min_batch_gap": "0"}


def tiledb_config(settings: Settings, scattered: bool = False) -> dict[str, str]:
    """The TileDB configuration of the store; ``scattered``: for reads of a few tiles far
    apart (see ``SCATTERED_READS``)."""
    timeout_ms = max(100, int(settings.remote_timeout_seconds * 1000))
    config = {
        "vfs.s3.region": settings.region,
        # A bad endpoint should fail a request fast, not hang a Lambda for its timeout.
        # A silent one fails a request after ``remote_timeout_seconds`` without a byte (the
        # AWS SDK's low-speed limit, not a cap on long transfers), tried twice; a failed
        # small-file read then checks the file exists: a request meets at most 6 such waits.
        "vfs.s3.connect_timeout_ms": str(min(3000, timeout_ms)),
        "vfs.s3.connect_max_tries": "2",
        "vfs.s3.request_timeout_ms": str(timeout_ms),
    }
    if settings.s3_endpoint:
        endpoint = urlparse(settings.s3_endpoint)
        config["vfs.s3.endpoint_override"] = endpoint.netloc or endpoint.path
        config["vfs.s3.scheme"] = endpoint.scheme or "https"
        config["vfs.s3.use_virtual_addressing"] = "false"
    if scattered:
        config.update(SCATTERED_READS if "://" in settings.data_uri else SCATTERED_LOCAL_READS)
    return config
