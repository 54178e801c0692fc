"""Host-wide sliding window log in a SQLite file (``sqlite:///path``)."""

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

from ._entries import Change, Log, admit_step, decode, encode, release_step

__all__ = ["SQLiteBackend", "default_sqlite_path"]

T = TypeVar("T")

#: Rows of keys unused for this long are removed (tokens that are not used any more).
STALE_AFTER = 86400.0

# One row per key; a log keeps at most `limit` entries of 24 bytes.
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS windows "
    "(key TEXT PRIMARY KEY, log BLOB NOT NULL, used REAL NOT NULL) WITHOUT ROWID"
)
_UPDATE = "UPDATE windows SET log = nftower_window(log), used = ? WHERE key = ?"
_ADD_KEY = "INSERT OR IGNORE INTO windows (key, log, used) VALUES (?, x'', ?)"
_FORGET = "DELETE FROM windows WHERE used < ?"


def default_sqlite_path() -> Path:
    """The SQLite file that ``sqlite://`` names: one per user, in the user cache directory.

    >>> default_sqlite_path().name
    'ratelimit.sqlite3'
    """
    return Path(platformdirs.user_cache_dir("nftower", appauthor=False)) / "ratelimit.sqlite3"


def is_busy(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


def retry_while_busy(action: Callable[[], T], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except sqlite3.OperationalError as error:
            if not is_busy(error) or time.monotonic() > deadline:
                raise
        time.sleep(random.uniform(0.002, 0.02))


class LogFile:
    """One connection of this process to the file, and its lock.

    :meth:`update` rewrites the log of a key in one ``UPDATE`` statement: SQLite calls a
    Python function for the new log while it holds the file's write lock.
    """

    def __init__(self, path: Path, timeout: float) -> None:
        self.path, self.timeout = path, timeout
        self.lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._change: Change | None = None
        self._result = 0.0
        self._error: BaseException | None = None

    def ready(self) -> bool:
        return self._conn is not None and self._pid == os.getpid()

    def connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        self._forget_inherited()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        try:
            # Switching to WAL needs a moment alone with the file: when several processes open
            # a new file at once, SQLite may answer "locked" without waiting; retry then.
            retry_while_busy(lambda: conn.execute("PRAGMA journal_mode=WAL"), 10.0)
            conn.execute("PRAGMA synchronous=NORMAL")
            retry_while_busy(lambda: conn.execute(_SCHEMA), 10.0)
            retry_while_busy(lambda: conn.execute(_FORGET, (time.time() - STALE_AFTER,)), 10.0)
            conn.create_function("nftower_window", 1, self._apply)
        except BaseException:
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    def update(self, key: str, change: Change) -> float:
        """Apply ``change`` to the log of ``key`` atomically (hold :attr:`lock`)."""
        conn = self.connection()
        self._change, self._result, self._error = change, 0.0, None
        try:
            if conn.execute(_UPDATE, (time.time(), key)).rowcount == 0:  # a new key
                conn.execute(_ADD_KEY, (key, time.time()))
                conn.execute(_UPDATE, (time.time(), key))
        except sqlite3.OperationalError:
            if self._error is not None:  # raised by `change`: show that, not SQLite's summary
                raise self._error from None
            raise
        finally:
            self._change = None
        return self._result

    def _apply(self, blob: bytes) -> bytes:
        assert self._change is not None
        try:
            log: Log
            log, self._result = self._change(decode(blob))
            return encode(log)
        except BaseException as error:
            self._error = error
            raise

    def close(self) -> None:
        with self.lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._forget_inherited()

    def _forget_inherited(self) -> None:
        # A connection must not be used, nor closed, after fork(): the child opens its own and
        # keeps the inherited one referenced, since closing it would drop the child's locks.
        if self._conn is not None and self._pid != os.getpid():
            _INHERITED.append(self._conn)
        self._conn = None


_INHERITED: list[sqlite3.Connection] = []


class SQLiteBackend:
    """Sliding window log shared by every process that opens the same SQLite file.

    The file holds one row per key: the hashed key and its log (a time and a random ticket
    per recent call, at most ``limit`` of them). Each acquisition and each release is one
    ``UPDATE`` of that row, whose new log is computed inside the statement (a function
    registered on the connection): SQLite takes the file's write lock before it reads the
    row, so the check and the record are one atomic step across processes. Timestamps come
    from the host's wall clock, which every process on the host shares. Rows of keys unused
    for a day are removed when a process opens the file.

    The async methods run the statement in the event loop on a connection that never waits
    for the file lock; only when another process holds the lock do they wait in a thread.

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
        self._blocking = LogFile(self.path, busy_timeout)
        self._inline = LogFile(self.path, 0.0)

    def acquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        return self._write(key, admit_step(limit, window, ticket, hold))

    def release(self, key: str, ticket: str) -> None:
        self._write(key, release_step(ticket))

    async def aacquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        return await self._awrite(key, admit_step(limit, window, ticket, hold))

    async def arelease(self, key: str, ticket: str) -> None:
        await self._awrite(key, release_step(ticket))

    def _write(self, key: str, change: Change) -> float:
        with self._blocking.lock:
            return retry_while_busy(lambda: self._blocking.update(key, change), self._busy_timeout)

    async def _awrite(self, key: str, change: Change) -> float:
        handle = self._inline
        if not handle.ready():
            await asyncio.to_thread(self._open_inline)
        if handle.lock.acquire(blocking=False):
            try:
                return handle.update(key, change)
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
            finally:
                handle.lock.release()
        # Another process (or thread) holds the lock: wait for it off the event loop.
        return await asyncio.to_thread(self._write, key, change)

    def _open_inline(self) -> None:
        with self._inline.lock:
            self._inline.connection()

    def close(self) -> None:
        self._blocking.close()
        self._inline.close()

    def __repr__(self) -> str:
        return f"SQLiteBackend({str(self.path)!r})"
