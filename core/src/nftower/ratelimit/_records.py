"""Small shared records with an expiry, kept in the rate limiter's store.

``ensure_run`` keeps two kinds of them: a *lease* on a run name (one process at a time decides
whether to launch it) and a *launch in flight* (a launch whose answer never came). They live
where the limiter keeps its windows, so they reach as far as the limit does: every process of
the host with ``file://`` and ``sqlite://``, every host with ``redis://``, this process with
``memory://``. A record is a short text under a key, gone after its time to live.

- :class:`MemoryRecords`: this process (``memory://``, and the fallback when a store fails);
- :class:`SQLiteRecords`: a table of a SQLite file (``sqlite://``; with ``file://``, a SQLite
  file next to the rate limit file in use, since the record format of that file holds only
  windows);
- :class:`RedisRecords`: Redis keys with an expiry (``SET NX PX``).

>>> records = MemoryRecords()
>>> records.put("lease:x", "me", 5.0, only_new=True) is None   # taken
True
>>> records.put("lease:x", "you", 5.0, only_new=True)          # held by someone else
'me'
>>> records.drop("lease:x", "me"); records.get("lease:x") is None
True
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ._file import FileBackend
from ._memory import MemoryBackend
from ._protocol import RateLimitBackend
from ._redis import RedisBackend
from ._sqlite import SQLiteBackend, retry_while_busy

if TYPE_CHECKING:
    from redis import Redis

__all__ = [
    "MemoryRecords",
    "RedisRecords",
    "SQLiteRecords",
    "SharedRecords",
    "records_for",
    "reset_records",
]

logger = logging.getLogger("nftower.ratelimit")


@runtime_checkable
class SharedRecords(Protocol):
    """Atomic operations on short text records that expire."""

    url: str

    def put(self, key: str, value: str, ttl: float, *, only_new: bool = False) -> str | None:
        """Store ``value`` for ``ttl`` seconds and return ``None``; with ``only_new``, leave a
        live record alone and return its value instead."""
        ...

    def get(self, key: str) -> str | None:
        """The live value of ``key``, or ``None``."""
        ...

    def drop(self, key: str, value: str | None = None) -> None:
        """Remove ``key`` (only while it still holds ``value``, when given)."""
        ...


class MemoryRecords:
    """Records of this process only."""

    url = "memory://"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[str, float]] = {}

    def put(self, key: str, value: str, ttl: float, *, only_new: bool = False) -> str | None:
        now = time.time()
        with self._lock:
            current = self._items.get(key)
            if only_new and current is not None and current[1] > now:
                return current[0]
            self._items[key] = (value, now + ttl)
            return None

    def get(self, key: str) -> str | None:
        with self._lock:
            current = self._items.get(key)
            return current[0] if current is not None and current[1] > time.time() else None

    def drop(self, key: str, value: str | None = None) -> None:
        with self._lock:
            current = self._items.get(key)
            if current is not None and (value is None or current[0] == value):
                del self._items[key]


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS records "
    "(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL) WITHOUT ROWID"
)


class SQLiteRecords:
    """Records in the ``records`` table of a SQLite file (every process of the host)."""

    def __init__(self, path: Path, *, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.url = f"sqlite://{path}"
        self._timeout = busy_timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            retry_while_busy(lambda: conn.execute("PRAGMA journal_mode=WAL"), self._timeout)
            retry_while_busy(lambda: conn.execute(_SCHEMA), self._timeout)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _transaction(self, work: Any) -> Any:
        with self._lock:
            conn = self._connection()

            def attempt() -> Any:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(conn, time.time())
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                return result

            return retry_while_busy(attempt, self._timeout)

    def put(self, key: str, value: str, ttl: float, *, only_new: bool = False) -> str | None:
        def work(conn: sqlite3.Connection, now: float) -> str | None:
            if only_new:
                row = conn.execute(
                    "SELECT value FROM records WHERE key = ? AND expires > ?", (key, now)
                ).fetchone()
                if row is not None:
                    return str(row[0])
            conn.execute(
                "INSERT OR REPLACE INTO records (key, value, expires) VALUES (?, ?, ?)",
                (key, value, now + ttl),
            )
            conn.execute("DELETE FROM records WHERE expires < ?", (now - 3600.0,))
            return None

        result: str | None = self._transaction(work)
        return result

    def get(self, key: str) -> str | None:
        with self._lock:
            row = retry_while_busy(
                lambda: (
                    self._connection()
                    .execute(
                        "SELECT value FROM records WHERE key = ? AND expires > ?",
                        (key, time.time()),
                    )
                    .fetchone()
                ),
                self._timeout,
            )
        return None if row is None else str(row[0])

    def drop(self, key: str, value: str | None = None) -> None:
        def work(conn: sqlite3.Connection, now: float) -> None:
            if value is None:
                conn.execute("DELETE FROM records WHERE key = ?", (key,))
            else:
                conn.execute("DELETE FROM records WHERE key = ? AND value = ?", (key, value))

        self._transaction(work)


_DROP_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
RECORD_PREFIX = "nftower:record:"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisRecords:
    """Records as Redis keys with an expiry (every host using the server)."""

    def __init__(self, backend: RedisBackend) -> None:
        self.url = backend.url
        self._raw_url = backend._raw_url
        self._timeout = backend._timeout
        self._lock = threading.Lock()
        self._client: Redis | None = None
        self._pid = 0

    def _redis(self) -> Redis:
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                import redis

                self._client = redis.Redis.from_url(
                    self._raw_url,
                    socket_connect_timeout=self._timeout,
                    socket_timeout=self._timeout,
                )
                self._pid = os.getpid()
            return self._client

    def put(self, key: str, value: str, ttl: float, *, only_new: bool = False) -> str | None:
        client, name, ms = self._redis(), RECORD_PREFIX + key, max(1, round(ttl * 1000))
        while True:
            if client.set(name, value, px=ms, nx=only_new):
                return None
            current = client.get(name)
            if current is not None:
                return _text(current)
            # expired between the two commands: try again

    def get(self, key: str) -> str | None:
        current = self._redis().get(RECORD_PREFIX + key)
        return None if current is None else _text(current)

    def drop(self, key: str, value: str | None = None) -> None:
        client = self._redis()
        if value is None:
            client.delete(RECORD_PREFIX + key)
        else:
            client.eval(_DROP_IF, 1, RECORD_PREFIX + key, value)


class _Guarded:
    """A shared store that falls back to this process's records when it fails (one warning)."""

    def __init__(self, store: SharedRecords) -> None:
        self.store = store
        self.url = store.url
        self._local = MemoryRecords()
        self._failed = False

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if not self._failed:
            try:
                return getattr(self.store, method)(*args, **kwargs)
            except Exception as error:
                self._failed = True
                logger.warning(
                    "Shared records at %s are unavailable (%s: %s); run-name leases and "
                    "launches in flight are kept within this process only",
                    self.url,
                    type(error).__name__,
                    error,
                )
        return getattr(self._local, method)(*args, **kwargs)

    def put(self, key: str, value: str, ttl: float, *, only_new: bool = False) -> str | None:
        result: str | None = self._call("put", key, value, ttl, only_new=only_new)
        return result

    def get(self, key: str) -> str | None:
        result: str | None = self._call("get", key)
        return result

    def drop(self, key: str, value: str | None = None) -> None:
        self._call("drop", key, value)


_lock = threading.Lock()
_stores: dict[str, SharedRecords] = {}


def _build(backend: RateLimitBackend) -> SharedRecords:
    if isinstance(backend, MemoryBackend):
        return MemoryRecords()
    if isinstance(backend, FileBackend):
        try:
            where = backend.location()
        except OSError:
            where = backend.path  # unusable: the guard below keeps records in the process
        return SQLiteRecords(where.with_name(where.name + ".records.sqlite3"))
    if isinstance(backend, SQLiteBackend):
        return SQLiteRecords(backend.path)
    if isinstance(backend, RedisBackend):
        return RedisRecords(backend)
    if isinstance(backend, SharedRecords):
        return backend
    return MemoryRecords()


def records_for(backend: RateLimitBackend) -> SharedRecords:
    """The records kept next to ``backend``'s windows (one per store per process).

    >>> records_for(MemoryBackend()).url
    'memory://'
    """
    where = getattr(backend, "records_url", None) or backend.url
    with _lock:
        store = _stores.get(where)
        if store is None:
            store = _stores[where] = _Guarded(_build(backend))
        return store


def reset_records() -> None:
    """Forget the stores (tests)."""
    with _lock:
        _stores.clear()
