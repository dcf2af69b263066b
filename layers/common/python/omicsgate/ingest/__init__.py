"""Ingestion: standard files in, a complete data release out. Never used while serving."""
