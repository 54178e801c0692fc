"""Host-wide sliding window log in a plain file under POSIX record locks (the default)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from pathlib import Path
from typing import NamedTuple

import platformdirs

from .._exceptions import TowerConfigError
from ._entries import Log, admit_step, encode, release, ticket_bytes
from ._file_layout import RECORD, entries_of
from ._file_own import OwnEntries
from ._file_place import usable_path
from ._file_repair import MAX_MOVES, move, rebuild
from ._locked_file import Busy, Damaged, LockedFile, Replaced, attach, detach, lock, unlock
from ._releases import PendingReleases

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: sqlite:// is the default there
    fcntl = None  # type: ignore[assignment]

__all__ = ["FileBackend", "default_file_path", "file_locks_available"]

logger = logging.getLogger("nftower.ratelimit")


def file_locks_available() -> bool:
    """Whether this platform has the POSIX record locks :class:`FileBackend` needs."""
    return fcntl is not None


def default_file_path() -> Path:
    """The file shared by every process of this user on this host.

    >>> default_file_path().name
    'ratelimit.bin'
    """
    return Path(platformdirs.user_cache_dir("nftower", appauthor=False)) / "ratelimit.bin"


class _Admission(NamedTuple):
    limit: int
    window: float
    ticket: str | None
    hold: float


class FileBackend:
    """Sliding window log shared by every process that opens the same file.

    The file starts with a 32-byte header, then holds one record per key: the key's SHA-256,
    the record's capacity, the number of entries, the time it was last written, and the
    entries (a time and a 16-byte ticket each). An acquisition takes an exclusive POSIX lock
    (``fcntl``) on the key's record, reads and rewrites the entries in place (``pread`` and
    ``pwrite``), and unlocks: the check and the record are one atomic step for every process of
    the host, and the time is read under the lock. Records are added under a lock on the header;
    a record unused for a day is given to the next new key. The kernel drops the locks of a
    process that dies, so a crash never blocks the others; an entry it left in flight expires
    after its hold.

    Accidents to the file are survived: deleted or replaced while in use, the first process to
    notice (under a lock, by its inode) moves every live entry into the file now at the path
    and all follow; cut short or emptied, it is written again; a damaged header or records are
    rebuilt into a new file renamed over it. Where the file cannot be written, every process
    uses the same file under the temp dir (one warning). A file of another program is never
    written: the limiter then counts within the process (see :class:`RateLimiter`).

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
        self._where: Path | None = None
        self._handle: LockedFile | None = None
        self._digests: dict[str, bytes] = {}
        self._capped: set[str] = set()
        self._own = OwnEntries()
        self._releases = PendingReleases(self._flush_quietly)

    # -- the protocol -----------------------------------------------------------------------

    def acquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        with self._file().lock:
            return self._write(key, _Admission(limit, window, ticket, hold))

    def release(self, key: str, ticket: str) -> None:
        """Note the end of the call now; it is written with the next acquisition of this
        process, or by a background flush within ``FLUSH_DELAY`` seconds, or at exit."""
        self._releases.add(key, ticket_bytes(ticket), time.time())

    async def aacquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        admission = _Admission(limit, window, ticket, hold)
        thread_lock = self._file().lock
        if thread_lock.acquire(blocking=False):
            try:
                return self._write(key, admission, wait=False)
            except Busy:
                pass
            finally:
                thread_lock.release()
        # Another process (or thread) holds a lock: wait for it off the event loop.
        return await asyncio.to_thread(self.acquire, key, limit, window, ticket, hold)

    async def arelease(self, key: str, ticket: str) -> None:
        self.release(key, ticket)  # no I/O: see release()

    def flush(self) -> None:
        """Write the noted releases now."""
        keys = self._releases.unwritten()
        if keys:
            with self._file().lock:
                for key in keys:
                    self._write(key, None)

    def close(self) -> None:
        self._flush_quietly()
        self._releases.stop()
        if self._handle is not None:
            with self._handle.lock:
                detach(self._handle)
            self._handle = None

    def __repr__(self) -> str:
        return f"FileBackend({str(self.path)!r})"

    # -- one locked read-change-write ---------------------------------------------------------

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except (OSError, ValueError) as error:  # the entries expire after their hold
            logger.debug("Could not write rate limit releases to %s: %s", self.path, error)

    def _write(self, key: str, admission: _Admission | None, wait: bool = True) -> float:
        """Under the key's record lock (hold the file's thread lock): date the noted releases of
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
        handle = self._file()
        for _ in range(MAX_MOVES):
            try:
                return self._update_in(handle, key, ended, admission, wait)
            except Replaced:
                move(handle, wait)
            except Damaged:
                try:
                    rebuild(handle, wait)
                except Replaced:
                    move(handle, wait)
        raise OSError(f"{self.path} keeps being replaced")

    def _update_in(
        self,
        handle: LockedFile,
        key: str,
        ended: dict[bytes, float],
        admission: _Admission | None,
        wait: bool,
    ) -> float:
        fd = handle.descriptor()
        digest = self._digest(key)
        limit = admission.limit if admission is not None else 0
        while True:
            record = handle.records.get(digest)
            if record is None:
                record = handle.find(digest, limit, wait)
                if record is None:
                    return 0.0  # releases of a key this file never had: nothing to date
                handle.records[digest] = record
            offset, capacity, size = record
            lock(fd, offset, size, wait)
            try:
                if handle.replaced():
                    raise Replaced
                raw = handle.read(offset, size)
                if len(raw) == size:
                    owner, _, _, _, entries = entries_of(raw)
                    if owner == digest:
                        log = release(entries, ended)
                        wait_for = 0.0
                        if admission is None:
                            self._own.released(key, ended)
                        else:  # first what the record lost of ours (a file cut short)
                            now = time.time()
                            log = self._own.restore(
                                key, log, ended, window=admission.window, now=now
                            )
                            log, wait_for = self._admit(key, log, capacity, admission)
                            if wait_for == 0.0:
                                self._own.add(key, log[-1])
                        # The entries first: a count written before them could name stale ones.
                        handle.write(offset + RECORD.size, encode(log))
                        handle.write(offset, RECORD.pack(digest, capacity, len(log), time.time()))
                        return wait_for
            finally:
                unlock(fd, offset, size)
            # The record went to another key, or the file was cut short: look for ours again.
            del handle.records[digest]

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

    # -- the file ----------------------------------------------------------------------------

    def _file(self) -> LockedFile:
        if self._handle is None:
            self._handle = attach(self.location())
        return self._handle

    def location(self) -> Path:
        """The file in use: :attr:`path`, or its stand-in under the temp dir when ``path``
        cannot be written (see :func:`~._file_place.usable_path`)."""
        if self._where is None:
            self._where = usable_path(self.path)
        return self._where

    def _digest(self, key: str) -> bytes:
        digest = self._digests.get(key)
        if digest is None:
            digest = self._digests[key] = hashlib.sha256(key.encode()).digest()
        return digest
