"""Host-wide sliding window log in a SQLite file (the default backend)."""

from __future__ import annotations

import asyncio
import atexit
import logging
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

logger = logging.getLogger("nftower.ratelimit")

#: Longest delay before the end of a call is written when no other call follows.
FLUSH_DELAY = 0.02
#: Rows older than this are removed whatever their key (tokens that are not used any more).
STALE_AFTER = 86400.0

# At most `limit` rows per key stay, so scans are cheaper than keeping an index up to date.
_SCHEMA = "CREATE TABLE IF NOT EXISTS calls (key TEXT NOT NULL, at REAL NOT NULL, ticket TEXT)"


def default_sqlite_path() -> Path:
    """The file shared by every process of this user on this host.

    >>> default_sqlite_path().name
    'ratelimit.sqlite3'
    """
    return Path(platformdirs.user_cache_dir("nftower", appauthor=False)) / "ratelimit.sqlite3"


def _is_busy(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


class _Connection:
    """One SQLite connection, its lock, and the process that opened it."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path, self.timeout = path, timeout
        self.lock = threading.Lock()
        self.conn: sqlite3.Connection | None = None
        self.pid = 0

    def get(self) -> sqlite3.Connection:
        # A connection must not cross fork(): a child opens its own.
        if self.conn is not None and self.pid == os.getpid():
            return self.conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        try:
            # Switching to WAL needs a moment alone with the file: when several processes open
            # a new file at once, SQLite may answer "locked" without waiting; retry then.
            _retry_while_busy(lambda: conn.execute("PRAGMA journal_mode=WAL"), 10.0)
            conn.execute("PRAGMA synchronous=NORMAL")
            _retry_while_busy(lambda: conn.execute(_SCHEMA), 10.0)
        except BaseException:
            conn.close()
            raise
        self.conn, self.pid = conn, os.getpid()
        return conn

    def ready(self) -> bool:
        return self.conn is not None and self.pid == os.getpid()

    def close(self) -> None:
        with self.lock:
            if self.conn is not None and self.pid == os.getpid():
                self.conn.close()
            self.conn = None


def _retry_while_busy(action: Callable[[], T], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() > deadline:
                raise
        time.sleep(random.uniform(0.002, 0.02))


class SQLiteBackend:
    """Sliding window log shared by every process that opens the same SQLite file.

    Each acquisition is one ``BEGIN IMMEDIATE`` transaction (SQLite's write lock is taken
    before the count, so the check and the insert are atomic across processes). Timestamps
    come from the host's wall clock, which every process on the host shares. Rows hold the
    hashed key, a time and a random ticket only; at most ``limit`` rows per key remain.

    The async methods first try the transaction in the event loop on a connection that never
    waits for the file lock (a few tens of microseconds); only when another process holds the
    lock do they wait in a worker thread, so the loop is never blocked.

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
        self._blocking = _Connection(self.path, busy_timeout)
        self._inline = _Connection(self.path, 0.0)
        self._releases = _PendingReleases(self._flush_quietly)

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except (OSError, sqlite3.Error) as error:  # the entries expire after their hold
            logger.debug("Could not write rate limit releases to %s: %s", self.path, error)

    # -- sync -------------------------------------------------------------------------------

    def acquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        with self._blocking.lock:
            conn = self._blocking.get()
            return _retry_while_busy(
                lambda: self._transaction(conn, key, limit, window, ticket, hold),
                self._busy_timeout,
            )

    def release(self, key: str, ticket: str) -> None:
        """Note the end of the call now; it is written with the next acquisition of this
        process, or by a background flush within ``FLUSH_DELAY`` seconds, or at exit."""
        self._releases.add(time.time(), key, ticket)

    def flush(self) -> None:
        """Write the noted releases now."""
        if not self._releases.pending():
            return
        with self._blocking.lock:
            conn = self._blocking.get()
            _retry_while_busy(lambda: self._write_releases(conn), self._busy_timeout)

    def _write_releases(self, conn: sqlite3.Connection) -> None:
        items = self._releases.pending()
        conn.execute("BEGIN IMMEDIATE")
        try:
            _apply_releases(conn, items)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._releases.done(items)

    def _transaction(
        self,
        conn: sqlite3.Connection,
        key: str,
        limit: int,
        window: float,
        ticket: str | None,
        hold: float,
    ) -> float:
        releases = self._releases.pending()
        conn.execute("BEGIN IMMEDIATE")
        try:
            _apply_releases(conn, releases)
            wait = _check_and_record(conn, key, limit, window, ticket, hold)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._releases.done(releases)
        return wait

    # -- async ------------------------------------------------------------------------------

    async def aacquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        if not self._inline.ready():
            await asyncio.to_thread(self._open_inline)
        wait = self._try_inline(
            lambda conn: self._transaction(conn, key, limit, window, ticket, hold)
        )
        if wait is not None:
            return wait
        return await asyncio.to_thread(self.acquire, key, limit, window, ticket, hold)

    async def arelease(self, key: str, ticket: str) -> None:
        self.release(key, ticket)  # no I/O: see release()

    def _try_inline(self, action: Callable[[sqlite3.Connection], T]) -> T | None:
        """``action`` on the never-waiting connection, or ``None`` if that would wait."""
        handle = self._inline
        if handle.conn is None or not handle.ready() or not handle.lock.acquire(blocking=False):
            return None
        try:
            return action(handle.conn)
        except sqlite3.OperationalError as error:
            if _is_busy(error):
                return None
            raise
        finally:
            handle.lock.release()

    def close(self) -> None:
        self._flush_quietly()
        self._releases.stop()
        self._blocking.close()
        self._inline.close()

    def __repr__(self) -> str:
        return f"SQLiteBackend({str(self.path)!r})"

    def _open_inline(self) -> None:
        with self._inline.lock:
            self._inline.get()


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
    if random.random() < 0.01:  # rows of tokens no longer used: gone after a day
        conn.execute("DELETE FROM calls WHERE at < ?", (now - STALE_AFTER,))
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


def _apply_releases(conn: sqlite3.Connection, items: list[tuple[str, float, str]]) -> None:
    if items:
        conn.executemany(
            "UPDATE calls SET at = min(at, ?), ticket = NULL WHERE key = ? AND ticket = ?",
            [(at, key, ticket) for ticket, at, key in items],
        )


class _PendingReleases:
    """Ends of calls not yet written: (ticket, completed at, key).

    Writing each release in its own transaction would double the cost of a call. A release
    only makes an entry count for less time, so writing it a little later is safe: the next
    acquisition of this process writes it in its own transaction, and a daemon thread writes
    whatever is left ``FLUSH_DELAY`` seconds later (and at interpreter exit).
    """

    def __init__(self, flush: Callable[[], None]) -> None:
        self._flush = flush
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, str]] = {}
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._stopped = False
        self._exit_hook = False

    def add(self, at: float, key: str, ticket: str) -> None:
        with self._lock:
            self._items[ticket] = (at, key)
            if self._pid != os.getpid():  # threads do not survive fork()
                self._thread, self._pid = None, os.getpid()
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._run, name="nftower-ratelimit-flush", daemon=True
                )
                self._thread.start()
            if not self._exit_hook:
                self._exit_hook = True
                atexit.register(self._flush)

    def pending(self) -> list[tuple[str, float, str]]:
        with self._lock:
            return [(ticket, at, key) for ticket, (at, key) in self._items.items()]

    def done(self, items: list[tuple[str, float, str]]) -> None:
        if items:
            with self._lock:
                for ticket, _, _ in items:
                    self._items.pop(ticket, None)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_DELAY)
            with self._lock:
                if not self._items or self._stopped:
                    self._thread = None
                    return
            self._flush()
