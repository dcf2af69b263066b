"""Benchmarks: cold start, warm latency and TileDB S3 requests per request (`make bench`)."""
