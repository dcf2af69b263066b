"""The local metadata store: one SQLite file that survives restarts (WAL, one writer)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from typing import Any

from omicsgate.trs._records import Stored, encode

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, rev INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
);
"""


class SqliteMetadata:
    def __init__(self, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._db().executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        if not hasattr(self._local, "db"):
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
        connection: sqlite3.Connection = self._local.db
        return connection

    def get(self, kind: str, key: str) -> Stored | None:
        row = (
            self._db()
            .execute("SELECT doc, rev FROM records WHERE kind = ? AND key = ?", (kind, key))
            .fetchone()
        )
        return Stored(json.loads(row[0]), int(row[1])) if row else None

    def scan(self, kind: str) -> list[tuple[str, Stored]]:
        rows = self._db().execute(
            "SELECT key, doc, rev FROM records WHERE kind = ? ORDER BY key", (kind,)
        )
        return [(key, Stored(json.loads(doc), int(rev))) for key, doc, rev in rows]

    def put(self, kind: str, key: str, doc: dict[str, Any], expected_rev: int | None) -> bool:
        text = encode(doc)
        db = self._db()
        if expected_rev is None:
            cursor = db.execute(
                "INSERT OR IGNORE INTO records VALUES (?, ?, ?, 1)", (kind, key, text)
            )
        else:
            # One statement: the revision check and the write cannot be split by another writer.
            cursor = db.execute(
                "UPDATE records SET doc = ?, rev = rev + 1 WHERE kind = ? AND key = ? AND rev = ?",
                (text, kind, key, expected_rev),
            )
        return cursor.rowcount == 1

    def delete(self, kind: str, key: str, expected_rev: int) -> bool:
        cursor = self._db().execute(
            "DELETE FROM records WHERE kind = ? AND key = ? AND rev = ?", (kind, key, expected_rev)
        )
        return cursor.rowcount == 1
