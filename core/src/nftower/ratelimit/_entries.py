"""A log as bytes, for the backends that keep it in a file: 24 bytes per entry."""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Callable

from ._window import Entry, admit, release

__all__ = [
    "ENTRY",
    "Change",
    "Log",
    "admit_step",
    "decode",
    "encode",
    "release_step",
    "ticket_bytes",
]

TICKET_SIZE = 16
#: One entry: its time (float64) and the call's ticket (zeros: none).
ENTRY = struct.Struct(f"<d{TICKET_SIZE}s")
_NO_TICKET = bytes(TICKET_SIZE)

#: A log as the file backends hold it in memory: tickets in their 16-byte form.
Log = list[Entry[bytes]]


def ticket_bytes(ticket: str) -> bytes:
    """The 16 bytes that stand for ``ticket`` (the limiter's are 16 hex digits).

    >>> ticket_bytes("t1")
    b't1\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'
    >>> len(ticket_bytes("a ticket longer than sixteen bytes"))
    16
    """
    raw = ticket.encode()
    if len(raw) > TICKET_SIZE:
        raw = hashlib.blake2b(raw, digest_size=TICKET_SIZE).digest()
    return raw.ljust(TICKET_SIZE, b"\0")


def decode(data: bytes) -> Log:
    """The entries in ``data``; a torn last entry is left out.

    >>> decode(encode([(1.5, None), (2.0, ticket_bytes("t"))]))[0]
    (1.5, b'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00')
    """
    # An entry without a ticket comes back with zeros, which no release names.
    if torn := len(data) % ENTRY.size:
        data = data[:-torn]
    return list(ENTRY.iter_unpack(data))


def encode(log: Log) -> bytes:
    """``log`` as bytes (entries without a ticket get zeros)."""
    return b"".join([ENTRY.pack(at, ticket or _NO_TICKET) for at, ticket in log])


#: A step applied to one key's log under the store's lock: the new log and a wait (0.0: none).
Change = Callable[[Log], tuple[Log, float]]


def admit_step(limit: int, window: float, ticket: str | None, hold: float) -> Change:
    """Admit one call if fewer than ``limit`` count (see :func:`~._window.admit`)."""
    mine = ticket_bytes(ticket) if ticket else None
    # time.time() runs under the store's lock, so admissions are ordered in time.
    return lambda log: admit(log, time.time(), limit, window, mine, hold)


def release_step(ticket: str) -> Change:
    """Date the call ``ticket`` now: its response has arrived."""
    ended = {ticket_bytes(ticket): time.time()}
    return lambda log: (release(log, ended), 0.0)
