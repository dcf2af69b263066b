"""Descriptor files by their sha-256 under ``<data URI>/trs/files/``: a file is written
once under its own digest before any metadata names it, so a reader never meets a
half-written file and concurrent writers of the same bytes write the same object."""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

from omicsgate.settings import Settings, aws_client

PREFIX = "trs/files"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = f"{settings.data_uri}/{PREFIX}"
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:
            self._client = aws_client("s3", self.settings, self.settings.s3_endpoint)
        return self._client

    def _bucket_key(self, digest: str) -> tuple[str, str]:
        bucket, _, key = f"{self.root}/{digest}".removeprefix("s3://").partition("/")
        return bucket, key

    def put(self, data: bytes) -> str:
        digest = sha256(data)
        if self.root.startswith("s3://"):
            bucket, key = self._bucket_key(digest)
            self._s3().put_object(Bucket=bucket, Key=key, Body=data)
            return digest
        path = os.path.join(self.root, digest)
        if not os.path.exists(path):
            os.makedirs(self.root, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        return digest

    def get(self, digest: str) -> bytes:
        if self.root.startswith("s3://"):
            bucket, key = self._bucket_key(digest)
            body: bytes = self._s3().get_object(Bucket=bucket, Key=key)["Body"].read()
            return body
        with open(os.path.join(self.root, digest), "rb") as handle:
            return handle.read()
