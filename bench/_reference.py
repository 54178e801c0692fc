"""A reference store for the overhead benchmark: the least any SQLite store can do per call.

``OneSQLiteUpdate`` admits every call with one ``UPDATE`` of one row in a WAL-mode SQLite file
(autocommit: one write transaction) and keeps no log at all. No store that writes each call to
SQLite can cost less, which is why the default host-wide store is not SQLite.
"""

from __future__ import annotations

import sqlite3
import threading
import time


class OneSQLiteUpdate:
    """A rate-limit backend that records nothing but one SQLite write per acquisition."""

    def __init__(self, path: str) -> None:
        self.url = f"sqlite://{path}"  # stands in for a sqlite:// backend of that file
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, at REAL) WITHOUT ROWID"
        )
        self._lock = threading.Lock()

    def acquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO calls VALUES (?, ?)", (key, time.time()))
        return 0.0

    async def aacquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        return self.acquire(key, limit, window, ticket, hold)

    def release(self, key: str, ticket: str) -> None:
        pass

    async def arelease(self, key: str, ticket: str) -> None:
        pass

    def close(self) -> None:
        self._conn.close()
