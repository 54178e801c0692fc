"""Host-wide sliding window log in a SQLite file (the default backend)."""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import platformdirs

from ._protocol import MAX_HOLD, PENDING_POLL

__all__ = ["SQLiteBackend", "default_sqlite_path"]

T = TypeVar("T")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS calls (key TEXT NOT NULL, at REAL NOT NULL, ticket TEXT)",
    "CREATE INDEX IF NOT EXISTS calls_key_at ON calls (key, at)",
)


def default_sqlite_path() -> Path:
    """The file shared by every process of this user on this host.

    >>> default_sqlite_path().name
    'ratelimit.sqlite3'
    """
    return Path(platformdirs.user_cache_dir("nftower", appauthor=False)) / "ratelimit.sqlite3"


class SQLiteBackend:
    """Sliding window log shared by every process that opens the same SQLite file.

    Each acquisition is one ``BEGIN IMMEDIATE`` transaction (SQLite's write lock is taken
    before the count, so the check and the insert are atomic across processes). Timestamps
    come from the host's wall clock, which every process on the host shares. Rows hold the
    hashed key, a time and a random ticket only; at most ``limit`` rows per key remain.

    >>> import tempfile, pathlib
    >>> backend = SQLiteBackend(pathlib.Path(tempfile.mkdtemp()) / "rl.sqlite3")
    >>> backend.acquire("k", 1, 1.0), backend.acquire("k", 1, 1.0) > 0
    (0.0, True)
    >>> backend.close()
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, busy_timeout: float = 10.0):
        self.path = Path(path) if path is not None else default_sqlite_path()
        self.url = f"sqlite://{self.path}" if self.path.is_absolute() else f"sqlite:///{self.path}"
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def _connection(self) -> sqlite3.Connection:
        # A connection must not cross fork(): a child opens its own.
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            # Switching to WAL needs a moment alone with the file: when several processes open
            # a new file at once, SQLite may answer "locked" without waiting; retry then.
            self._retry_while_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
            conn.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                conn.execute(statement)
        except BaseException:
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    def acquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        with self._lock:
            return self._retry_while_locked(
                lambda: self._transaction(key, limit, window, ticket, hold)
            )

    def release(self, key: str, ticket: str) -> None:
        with self._lock:
            conn = self._connection()
            self._retry_while_locked(
                lambda: conn.execute(
                    "UPDATE calls SET at = min(at, ?), ticket = NULL WHERE key = ? AND ticket = ?",
                    (time.time(), key, ticket),
                )
            )

    async def arelease(self, key: str, ticket: str) -> None:
        await asyncio.to_thread(self.release, key, ticket)

    def _transaction(
        self, key: str, limit: int, window: float, ticket: str | None, hold: float
    ) -> float:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            wait = self._check_and_record(conn, key, limit, window, ticket, hold)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return wait

    def _retry_while_locked(self, action: Callable[[], T]) -> T:
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                return action()
            except sqlite3.OperationalError as error:
                message = str(error).lower()
                if ("locked" not in message and "busy" not in message) or (
                    time.monotonic() > deadline
                ):
                    raise
            time.sleep(random.uniform(0.002, 0.02))

    @staticmethod
    def _check_and_record(
        conn: sqlite3.Connection,
        key: str,
        limit: int,
        window: float,
        ticket: str | None,
        hold: float,
    ) -> float:
        now = time.time()  # read under the write lock, so admissions are ordered in time
        # Rows dated beyond the longest hold only exist if the clock was set back.
        conn.execute(
            "DELETE FROM calls WHERE key = ? AND (at <= ? OR at > ?)",
            (key, now - window, now + MAX_HOLD + window),
        )
        (count,) = conn.execute("SELECT COUNT(*) FROM calls WHERE key = ?", (key,)).fetchone()
        if count < limit:
            at = now + min(hold, MAX_HOLD) if ticket else now
            conn.execute("INSERT INTO calls (key, at, ticket) VALUES (?, ?, ?)", (key, at, ticket))
            return 0.0
        (blocking,) = conn.execute(
            "SELECT at FROM calls WHERE key = ? ORDER BY at LIMIT 1 OFFSET ?",
            (key, count - limit),
        ).fetchone()
        if blocking > now:  # still in flight: its end is not known yet
            return PENDING_POLL
        return max(float(blocking) + window - now, 1e-6)

    async def aacquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        return await asyncio.to_thread(self.acquire, key, limit, window, ticket, hold)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __repr__(self) -> str:
        return f"SQLiteBackend({str(self.path)!r})"
