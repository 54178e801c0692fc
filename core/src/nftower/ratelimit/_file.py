"""Host-wide sliding window log in a plain file under POSIX record locks (the default)."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import mmap
import os
import struct
import threading
import time
import weakref
from pathlib import Path
from typing import NamedTuple

import platformdirs

from .._exceptions import TowerConfigError
from ._entries import ENTRY, Log, admit_step, decode, encode, ticket_bytes
from ._releases import PendingReleases
from ._window import release

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: sqlite:// is the default there
    fcntl = None  # type: ignore[assignment]

__all__ = ["FileBackend", "default_file_path", "file_locks_available"]

logger = logging.getLogger("nftower.ratelimit")

#: The first bytes of the file.
MAGIC = b"nftower rate limit log, v1\n".ljust(32, b"\0")
#: A record: the key's SHA-256, its capacity, how many entries it holds, when it was written.
RECORD = struct.Struct("<32sIId")
#: Entries a new record holds at least (calls per window a key can count).
MIN_CAPACITY = 256
#: A record unused for this long may be given to another key (a token not used any more).
STALE_AFTER = 86400.0


def file_locks_available() -> bool:
    """Whether this platform has the POSIX record locks :class:`FileBackend` needs."""
    return fcntl is not None


def default_file_path() -> Path:
    """The file shared by every process of this user on this host.

    >>> default_file_path().name
    'ratelimit.bin'
    """
    return Path(platformdirs.user_cache_dir("nftower", appauthor=False)) / "ratelimit.bin"


class _Record(NamedTuple):
    offset: int
    capacity: int
    size: int


def _record(offset: int, capacity: int) -> _Record:
    return _Record(offset, capacity, RECORD.size + capacity * ENTRY.size)


class _Admission(NamedTuple):
    limit: int
    window: float
    ticket: str | None
    hold: float


class _Busy(Exception):
    """Another process holds the lock and the caller asked not to wait."""


def _lock(fd: int, start: int, length: int, wait: bool) -> None:
    assert fcntl is not None
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB, length, start)
    except OSError as error:
        if not wait and error.errno in (errno.EACCES, errno.EAGAIN):
            raise _Busy from None
        raise


def _unlock(fd: int, start: int, length: int) -> None:
    assert fcntl is not None
    fcntl.lockf(fd, fcntl.LOCK_UN, length, start)


class FileBackend:
    """Sliding window log shared by every process that opens the same file.

    The file starts with a 32-byte header, then holds one record per key: the key's SHA-256,
    the record's capacity, the number of entries, the time it was last written, and the
    entries (a time and a 16-byte ticket each). An acquisition takes an exclusive POSIX lock
    (``fcntl``) on the key's record, reads and rewrites the entries in place through a memory
    map, and unlocks: the check and the record are one atomic step for every process of the
    host, and the time is read under the lock. Records are added under a lock on the header; a
    record unused for a day is given to the next new key. The kernel drops the locks of a
    process that dies, so a crash never blocks the others; an entry it left in flight expires
    after its hold. Delete the file to reset it, never truncate it while processes use it (as
    with SQLite's shared-memory file, their memory map would fault).

    The end of a call (:meth:`release`) is written with the next acquisition of the process,
    or by a background flush within ``FLUSH_DELAY`` seconds: a late release only makes an
    entry count longer. A record holds at least ``MIN_CAPACITY`` entries (more when its first
    caller's limit is higher); a later caller asking for a higher limit is limited to the
    capacity, with a warning. The async methods try the lock without waiting, in the event
    loop; only when another process holds it do they wait in a worker thread.

    >>> import tempfile, pathlib
    >>> backend = FileBackend(pathlib.Path(tempfile.mkdtemp()) / "rl.bin")
    >>> backend.acquire("k", 1, 1.0), backend.acquire("k", 1, 1.0) > 0
    (0.0, True)
    >>> backend.close()
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise TowerConfigError(
                "The file rate limit backend needs POSIX file locks; use sqlite:// or redis://"
            )
        self.path = Path(path) if path is not None else default_file_path()
        self.url = f"file://{self.path}"
        self._lock = threading.Lock()
        self._fd = -1
        self._map: mmap.mmap | None = None
        self._records: dict[str, _Record] = {}
        self._digests: dict[str, bytes] = {}
        self._capped: set[str] = set()
        self._releases = PendingReleases(self._flush_quietly)
        _OPEN.add(self)

    # -- the protocol -----------------------------------------------------------------------

    def acquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        with self._lock:
            return self._write(key, _Admission(limit, window, ticket, hold))

    def release(self, key: str, ticket: str) -> None:
        """Note the end of the call now; it is written with the next acquisition of this
        process, or by a background flush within ``FLUSH_DELAY`` seconds, or at exit."""
        self._releases.add(key, ticket_bytes(ticket), time.time())

    async def aacquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        admission = _Admission(limit, window, ticket, hold)
        if self._lock.acquire(blocking=False):
            try:
                return self._write(key, admission, wait=False)
            except _Busy:
                pass
            finally:
                self._lock.release()
        # Another process (or thread) holds a lock: wait for it off the event loop.
        return await asyncio.to_thread(self.acquire, key, limit, window, ticket, hold)

    async def arelease(self, key: str, ticket: str) -> None:
        self.release(key, ticket)  # no I/O: see release()

    def flush(self) -> None:
        """Write the noted releases now."""
        with self._lock:
            for key in self._releases.unwritten():
                self._write(key, None)

    def close(self) -> None:
        self._flush_quietly()
        self._releases.stop()
        with self._lock:
            if self._map is not None:
                self._map.close()
            if self._fd >= 0:
                os.close(self._fd)
            self._map, self._fd = None, -1
            self._records.clear()

    def __repr__(self) -> str:
        return f"FileBackend({str(self.path)!r})"

    # -- one locked read-change-write ---------------------------------------------------------

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except (OSError, ValueError) as error:  # the entries expire after their hold
            logger.debug("Could not write rate limit releases to %s: %s", self.path, error)

    def _write(self, key: str, admission: _Admission | None, wait: bool = True) -> float:
        """Under the key's record lock (hold ``self._lock``): date the noted releases of
        ``key`` and admit one call; the seconds to wait (0.0: admitted, or no admission)."""
        ended = self._releases.take(key)
        try:
            return self._update(key, ended, admission, wait)
        except BaseException:
            self._releases.restore(key, ended)
            raise

    def _update(
        self, key: str, ended: dict[bytes, float], admission: _Admission | None, wait: bool
    ) -> float:
        fd = self._file()
        digest = self._digest(key)
        limit = admission.limit if admission is not None else 0
        while True:
            record = self._records.get(key)
            if record is None:
                record = self._find(fd, digest, limit, wait)
                if record is None:
                    return 0.0  # releases of a key this file never had: nothing to date
                self._records[key] = record
            offset, capacity, size = record
            view = self._view(fd, offset + size)
            _lock(fd, offset, size, wait)
            try:
                owner, _, count, _ = RECORD.unpack_from(view, offset)
                if owner == digest:
                    start = offset + RECORD.size
                    end = start + min(count, capacity) * ENTRY.size
                    log = release(decode(view[start:end]), ended)
                    wait_for = 0.0
                    if admission is not None:
                        log, wait_for = self._admit(key, log, capacity, admission)
                    # The entries first: a count written before them could name stale ones.
                    body = encode(log)
                    view[start : start + len(body)] = body
                    RECORD.pack_into(view, offset, digest, capacity, len(log), time.time())
                    return wait_for
            finally:
                _unlock(fd, offset, size)
            del self._records[key]  # the record went to another key: look for ours again

    def _admit(self, key: str, log: Log, capacity: int, admission: _Admission) -> tuple[Log, float]:
        limit, window, ticket, hold = admission
        if limit > capacity and key not in self._capped:
            self._capped.add(key)
            logger.warning(
                "Rate limit %d per %gs is more than the file %s keeps per token (%d); "
                "limiting to %d (use a new file, sqlite:// or redis:// for higher limits)",
                limit,
                window,
                self.path,
                capacity,
                capacity,
            )
        return admit_step(min(limit, capacity), window, ticket, hold)(log)

    # -- the file and its records -------------------------------------------------------------

    def _file(self) -> int:
        if self._fd < 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        return self._fd

    def _view(self, fd: int, end: int) -> mmap.mmap:
        """The file mapped in memory, up to at least ``end`` (records are only ever added)."""
        if self._map is None or len(self._map) < end:
            size = os.fstat(fd).st_size
            if size < end:
                raise ValueError(f"{self.path} is shorter than its records; delete it")
            if self._map is not None:
                self._map.close()
            self._map = mmap.mmap(fd, size)
        return self._map

    def _digest(self, key: str) -> bytes:
        digest = self._digests.get(key)
        if digest is None:
            digest = self._digests[key] = hashlib.sha256(key.encode()).digest()
        return digest

    def _find(self, fd: int, digest: bytes, limit: int, wait: bool) -> _Record | None:
        """The record of ``digest``; a new one (of at least ``limit`` entries) if there is
        none and ``limit`` > 0. Records are looked up and added under the header's lock."""
        _lock(fd, 0, len(MAGIC), wait)
        try:
            data = os.pread(fd, os.fstat(fd).st_size, 0)
            if not data:
                os.pwrite(fd, MAGIC, 0)
                data = MAGIC
            elif not data.startswith(MAGIC):
                raise ValueError(
                    f"{self.path} is not an nftower rate limit file; delete it or choose "
                    "another rate_limit_backend"
                )
            stale: _Record | None = None
            offset = len(MAGIC)
            while offset + RECORD.size <= len(data):
                owner, capacity, _, used = RECORD.unpack_from(data, offset)
                record = _record(offset, capacity)
                if capacity < 1 or offset + record.size > len(data):
                    raise ValueError(f"{self.path} is damaged at byte {offset}; delete it")
                if owner == digest:
                    return record
                if stale is None and capacity >= limit and used < time.time() - STALE_AFTER:
                    stale = record
                offset += record.size
            if limit <= 0:
                return None
            if stale is not None and self._take_over(fd, stale, digest, wait):
                return stale
            record = _record(offset, max(limit, MIN_CAPACITY))
            empty = RECORD.pack(digest, record.capacity, 0, time.time())
            os.pwrite(fd, empty.ljust(record.size, b"\0"), offset)
            return record
        finally:
            _unlock(fd, 0, len(MAGIC))

    def _take_over(self, fd: int, record: _Record, digest: bytes, wait: bool) -> bool:
        """Give a record unused for a day to ``digest`` (under its lock, if still unused)."""
        _lock(fd, record.offset, record.size, wait)
        try:
            _, capacity, _, used = RECORD.unpack_from(os.pread(fd, RECORD.size, record.offset))
            if capacity != record.capacity or used >= time.time() - STALE_AFTER:
                return False
            os.pwrite(fd, RECORD.pack(digest, capacity, 0, time.time()), record.offset)
            return True
        finally:
            _unlock(fd, record.offset, record.size)


#: Backends of this process, so that a forked child gets fresh thread locks.
_OPEN: weakref.WeakSet[FileBackend] = weakref.WeakSet()


def _after_fork() -> None:
    # A lock held by another thread at fork() would never be released in the child, and the
    # flush thread is not there. The open file stays usable: record locks belong to each
    # process, and pread/pwrite use no file offset.
    for backend in _OPEN:
        backend._lock = threading.Lock()
        backend._releases.forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
