"""The rate limit file as this process holds it: its records and their POSIX record locks.

A process opens each file once, whatever the number of backends on it: POSIX record locks
belong to the process, so two descriptors of one file would not exclude each other, and closing
either would drop the locks taken through the other.

The file is read and written with ``pread``/``pwrite``, never mapped in memory: a file cut
short by another program then reads short (and is repaired) instead of faulting the process.
Under each lock the process checks that the path still names the file it holds (device and
inode); when the file was deleted or replaced, it moves to the file now at the path (see
:mod:`._file_repair`).
"""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

from ._file_layout import (
    HEADER,
    MAGIC,
    MIN_CAPACITY,
    RECORD,
    STALE_AFTER,
    Record,
    parse,
    record_at,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: sqlite:// is the default there
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "MIN_CAPACITY",
    "RECORD",
    "Busy",
    "Damaged",
    "LockedFile",
    "Record",
    "Replaced",
    "attach",
    "detach",
    "lock",
    "unlock",
]


class Busy(Exception):
    """Another process holds the lock and the caller asked not to wait."""


class Replaced(Exception):
    """The path names another file than the one held (deleted, replaced or rebuilt)."""


class Damaged(Exception):
    """The file is a damaged rate limit file: rebuild it."""


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
    """One open file: its descriptor and records, and the thread lock that every use of them
    in this process holds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.records: dict[bytes, Record] = {}
        self.users = 0
        self._fd = -1
        self._identity: tuple[int, int] = (0, 0)

    def descriptor(self) -> int:
        if self._fd < 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            status = os.fstat(fd)
            self._fd, self._identity = fd, (status.st_dev, status.st_ino)
        return self._fd

    def replaced(self) -> bool:
        """Whether the path names another file than the open one (or none)."""
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return True
        except OSError:
            return False  # cannot tell: keep the open file
        return (status.st_dev, status.st_ino) != self._identity

    def read(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset`` (fewer past the end; never through a memory map)."""
        return os.pread(self.descriptor(), size, offset)

    def write(self, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset`` of the open file."""
        os.pwrite(self.descriptor(), data, offset)

    def find(self, digest: bytes, limit: int, wait: bool) -> Record | None:
        """The record of ``digest``; a new one (of at least ``limit`` entries) if there is
        none and ``limit`` > 0. Records are looked up and added under the header's lock.

        Raises :class:`Replaced` when the path names another file now, :class:`Damaged` for a
        damaged rate limit file, ``ValueError`` for a file of another kind.
        """
        fd = self.descriptor()
        lock(fd, 0, HEADER, wait)
        try:
            if self.replaced():
                raise Replaced
            data = os.pread(fd, os.fstat(fd).st_size, 0)
            layout = parse(data)
            if layout.fresh:  # new, or emptied: nothing to keep
                os.pwrite(fd, MAGIC, 0)
                layout = parse(MAGIC)
            elif not layout.intact:
                if not layout.ours:
                    raise ValueError(
                        f"{self.path} is not an nftower rate limit file; delete it or choose "
                        "another rate_limit_backend"
                    )
                raise Damaged
            stale: Record | None = None
            for owner, record, used in layout.records:
                if owner == digest:
                    return record
                if stale is None and record.capacity >= limit and used < time.time() - STALE_AFTER:
                    stale = record
            if limit <= 0:
                return None
            if stale is not None and self._take_over(stale, digest, wait):
                return stale
            offset = HEADER
            if layout.records:
                offset = layout.records[-1][1].offset + layout.records[-1][1].size
            record = record_at(offset, max(limit, MIN_CAPACITY))
            empty = RECORD.pack(digest, record.capacity, 0, time.time())
            os.pwrite(fd, empty.ljust(record.size, b"\0"), offset)
            return record
        finally:
            unlock(fd, 0, HEADER)

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

    def adopt(self, other: LockedFile) -> None:
        """Hold ``other``'s file from now on instead of this one (which is closed)."""
        self.close()
        self._fd, self._identity, self.records = other._fd, other._identity, other.records
        other._fd, other.records = -1, {}

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = -1
        self.records = {}


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
    # file stays usable: record locks belong to each process.
    global _FILES_LOCK
    _FILES_LOCK = threading.Lock()
    for handle in _FILES.values():
        handle.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
