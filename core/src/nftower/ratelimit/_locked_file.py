"""The rate limit file as this process holds it: its records and their POSIX record locks.

A process opens each file once, whatever the number of backends on it: POSIX record locks
belong to the process, so two descriptors of one file would not exclude each other, and closing
either would drop the locks taken through the other.
"""

from __future__ import annotations

import errno
import mmap
import os
import struct
import threading
import time
from pathlib import Path
from typing import NamedTuple

from ._entries import ENTRY

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: sqlite:// is the default there
    fcntl = None  # type: ignore[assignment]

__all__ = ["Busy", "LockedFile", "Record", "attach", "detach", "lock", "unlock"]

#: The first bytes of the file.
MAGIC = b"nftower rate limit log, v1\n".ljust(32, b"\0")
#: A record: the key's SHA-256, its capacity, how many entries it holds, when it was written.
RECORD = struct.Struct("<32sIId")
#: Entries a new record holds at least (calls per window a key can count).
MIN_CAPACITY = 256
#: A record unused for this long may be given to another key (a token not used any more).
STALE_AFTER = 86400.0


class Record(NamedTuple):
    offset: int
    capacity: int
    size: int


def _record(offset: int, capacity: int) -> Record:
    return Record(offset, capacity, RECORD.size + capacity * ENTRY.size)


class Busy(Exception):
    """Another process holds the lock and the caller asked not to wait."""


def lock(fd: int, start: int, length: int, wait: bool) -> None:
    """Lock bytes ``start`` to ``start + length`` exclusively; :class:`Busy` if ``wait`` is
    false and another process holds them."""
    assert fcntl is not None
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB, length, start)
    except OSError as error:
        if not wait and error.errno in (errno.EACCES, errno.EAGAIN):
            raise Busy from None
        raise


def unlock(fd: int, start: int, length: int) -> None:
    assert fcntl is not None
    fcntl.lockf(fd, fcntl.LOCK_UN, length, start)


class LockedFile:
    """One open file: its descriptor, memory map and records, and the thread lock that every
    use of them in this process holds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.records: dict[bytes, Record] = {}
        self.users = 0
        self._fd = -1
        self._map: mmap.mmap | None = None

    def descriptor(self) -> int:
        if self._fd < 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        return self._fd

    def view(self, end: int) -> mmap.mmap:
        """The file mapped in memory, up to at least ``end`` (records are only ever added)."""
        if self._map is None or len(self._map) < end:
            size = os.fstat(self._fd).st_size
            if size < end:
                raise ValueError(f"{self.path} is shorter than its records; delete it")
            if self._map is not None:
                self._map.close()
            self._map = mmap.mmap(self._fd, size)
        return self._map

    def find(self, digest: bytes, limit: int, wait: bool) -> Record | None:
        """The record of ``digest``; a new one (of at least ``limit`` entries) if there is
        none and ``limit`` > 0. Records are looked up and added under the header's lock."""
        fd = self.descriptor()
        lock(fd, 0, len(MAGIC), wait)
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
            stale: Record | None = None
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
            if stale is not None and self._take_over(stale, digest, wait):
                return stale
            record = _record(offset, max(limit, MIN_CAPACITY))
            empty = RECORD.pack(digest, record.capacity, 0, time.time())
            os.pwrite(fd, empty.ljust(record.size, b"\0"), offset)
            return record
        finally:
            unlock(fd, 0, len(MAGIC))

    def _take_over(self, record: Record, digest: bytes, wait: bool) -> bool:
        """Give a record unused for a day to ``digest`` (under its lock, if still unused)."""
        lock(self._fd, record.offset, record.size, wait)
        try:
            head = os.pread(self._fd, RECORD.size, record.offset)
            _, capacity, _, used = RECORD.unpack_from(head)
            if capacity != record.capacity or used >= time.time() - STALE_AFTER:
                return False
            os.pwrite(self._fd, RECORD.pack(digest, capacity, 0, time.time()), record.offset)
            return True
        finally:
            unlock(self._fd, record.offset, record.size)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
        if self._fd >= 0:
            os.close(self._fd)
        self._map, self._fd = None, -1
        self.records.clear()


_FILES: dict[str, LockedFile] = {}
_FILES_LOCK = threading.Lock()


def attach(path: Path) -> LockedFile:
    """This process's handle on the file at ``path`` (opened on first use)."""
    with _FILES_LOCK:
        handle = _FILES.setdefault(os.path.realpath(path), LockedFile(path))
        handle.users += 1
        return handle


def detach(handle: LockedFile) -> None:
    """One user fewer; the last one closes the file (hold ``handle.lock``)."""
    with _FILES_LOCK:
        handle.users -= 1
        if handle.users <= 0:
            handle.close()
            _FILES.pop(os.path.realpath(handle.path), None)


def _after_fork() -> None:
    # A lock held by another thread at fork() would never be released in the child. The open
    # file stays usable: record locks belong to each process, and memory maps are shared.
    global _FILES_LOCK
    _FILES_LOCK = threading.Lock()
    for handle in _FILES.values():
        handle.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
