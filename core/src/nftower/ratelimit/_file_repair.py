"""Moving to the rate limit file now at the path, and rebuilding a damaged one.

A process holds the file open while a cleaner deletes it, a script replaces it, or another
process rebuilds it. Each process checks, under the lock of each record it uses, that the path
still names the file it holds. When it does not, the first process to notice copies every
live entry of the old file into the file now at the path (creating it if needed) and empties
the old records, so the host keeps one window per key; the others find them empty, and all move
to the new file. A damaged file (a header overwritten or cut short, records cut off) is rebuilt
the same way: a new file with a valid header is renamed over the path under the old file's
header lock, and the records still readable in the old one are moved into it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

from ._entries import encode
from ._file_layout import HEADER, MAGIC, RECORD, entries_of, merge, parse
from ._locked_file import Damaged, LockedFile, Replaced, lock, unlock

__all__ = ["move", "rebuild"]

logger = logging.getLogger("nftower.ratelimit")

#: Moves in a row before giving up (the path changing again and again).
MAX_MOVES = 5

_warned: set[str] = set()


def rebuild(handle: LockedFile, wait: bool) -> None:
    """Rename a new, valid file over the damaged one ``handle`` holds (under its header
    lock), unless another process already did; then :class:`Replaced` is raised."""
    fd = handle.descriptor()
    lock(fd, 0, HEADER, wait)
    try:
        if not handle.replaced():
            layout = parse(os.pread(fd, os.fstat(fd).st_size, 0))
            if layout.intact:
                return  # repaired meanwhile
            _replace_with_new_file(handle.path)
            if str(handle.path) not in _warned:
                _warned.add(str(handle.path))
                logger.warning(
                    "Rate limit file %s was damaged (%s); rebuilt it with the %d records "
                    "still readable in it",
                    handle.path,
                    "its header" if not layout.header_ok else "records cut off",
                    len(layout.records),
                )
    finally:
        unlock(fd, 0, HEADER)
    raise Replaced


def _replace_with_new_file(path: Path) -> None:
    """Put an empty rate limit file (its magic only) at ``path`` in one rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        os.pwrite(fd, MAGIC, 0)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def move(handle: LockedFile, wait: bool) -> None:
    """Copy the live entries of the file ``handle`` holds into the file now at its path, and
    hold that one from now on (hold ``handle.lock``)."""
    for _ in range(MAX_MOVES):
        fresh = LockedFile(handle.path)
        try:
            _copy_records(handle, fresh, wait)
        except Damaged:
            with contextlib.suppress(Replaced):
                rebuild(fresh, wait)
            fresh.close()
            continue
        except BaseException:
            fresh.close()
            raise
        logger.info("Rate limit file %s was deleted or replaced; using the new one", handle.path)
        handle.adopt(fresh)
        return
    raise OSError(f"{handle.path} keeps being replaced")


def _copy_records(old: LockedFile, new: LockedFile, wait: bool) -> None:
    """Move each record's entries from ``old`` to ``new`` (one record at a time, under the
    locks of both), leaving the old record empty."""
    old_fd, new_fd = old.descriptor(), new.descriptor()
    layout = parse(os.pread(old_fd, os.fstat(old_fd).st_size, 0))
    for owner, record, _ in layout.records:
        if not any(owner):
            continue
        lock(old_fd, record.offset, record.size, wait)
        try:
            raw = os.pread(old_fd, record.size, record.offset)
            if len(raw) < record.size:
                continue
            _, capacity, count, used, log = entries_of(raw)
            if count == 0:
                continue
            target = new.find(owner, capacity, wait)
            assert target is not None
            lock(new_fd, target.offset, target.size, wait)
            try:
                mine, _, _, _, current = entries_of(os.pread(new_fd, target.size, target.offset))
                if mine == owner:
                    merged = merge(current, log, target.capacity)
                    body = encode(merged)  # the entries first, as every writer does
                    os.pwrite(new_fd, body, target.offset + RECORD.size)
                    head = RECORD.pack(owner, target.capacity, len(merged), used)
                    os.pwrite(new_fd, head, target.offset)
            finally:
                unlock(new_fd, target.offset, target.size)
            os.pwrite(old_fd, RECORD.pack(owner, capacity, 0, used), record.offset)
        finally:
            unlock(old_fd, record.offset, record.size)
