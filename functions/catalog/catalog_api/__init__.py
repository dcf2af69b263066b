"""Catalog API group (OpenCGA REST conventions, /v2)."""
