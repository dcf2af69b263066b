"""Users and allowance counters in a SQLite file: the local, AWS-free backend."""

from __future__ import annotations

import json
import os
import sqlite3
import threading

from omicsgate.auth._records import UserRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    uid TEXT PRIMARY KEY, groups TEXT NOT NULL, tier TEXT NOT NULL, valid_after INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS allowance (
    subject TEXT NOT NULL, window INTEGER NOT NULL, used INTEGER NOT NULL, expires INTEGER,
    PRIMARY KEY (subject, window)
);
"""


class SqliteBackend:
    def __init__(self, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self._local = threading.local()
        with self._connection() as db:
            db.executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        if not hasattr(self._local, "db"):
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
        connection: sqlite3.Connection = self._local.db
        return connection

    def get_user(self, uid: str) -> UserRecord | None:
        row = (
            self._connection()
            .execute("SELECT groups, tier, valid_after FROM users WHERE uid = ?", (uid,))
            .fetchone()
        )
        if row is None:
            return None
        return UserRecord(uid, frozenset(json.loads(row[0])), row[1], int(row[2]))

    def put_user(self, user: UserRecord) -> None:
        self._connection().execute(
            "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)",
            (user.uid, json.dumps(sorted(user.groups)), user.tier, user.valid_after),
        )

    def spend(
        self, subject: str, window: int, cost: int, limit: int, expires: int
    ) -> tuple[bool, int]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")  # one writer at a time, across processes too
        try:
            row = db.execute(
                "SELECT used FROM allowance WHERE subject = ? AND window = ?", (subject, window)
            ).fetchone()
            used = int(row[0]) if row else 0
            charged = used + cost <= limit
            if charged and cost:
                used += cost
                db.execute(
                    "INSERT OR REPLACE INTO allowance VALUES (?, ?, ?, ?)",
                    (subject, window, used, expires),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return charged, used
