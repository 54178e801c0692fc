"""The sliding window log of one key, and its bytes for the backends that keep it in a file.

A log is a short list of ``(time, ticket)`` entries, one per recent call of a key.
:func:`admit` and :func:`release` only compute; the backends make each call to them atomic (a
lock, a write transaction). In a file or a SQLite row an entry takes 24 bytes.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

from ._protocol import MAX_HOLD, PENDING_POLL

__all__ = [
    "ENTRY",
    "Change",
    "Entry",
    "Log",
    "admit",
    "admit_step",
    "decode",
    "encode",
    "release",
    "release_step",
    "ticket_bytes",
]

#: The ticket of an entry: ``None`` for a call dated once and for all.
T = TypeVar("T", bound=Hashable)
Entry = tuple[float, T | None]


def admit(
    log: list[Entry[T]],
    now: float,
    limit: int,
    window: float,
    ticket: T | None,
    hold: float,
) -> tuple[list[Entry[T]], float]:
    """The entries that still count, plus this call if fewer than ``limit`` do.

    Returns the new log and ``0.0`` when the call was recorded, else the log without it and
    the seconds to wait. A call with a ticket is recorded ``hold`` seconds ahead (in flight:
    it counts in every window until :func:`release` dates it); entries dated further ahead
    than any hold only exist if the clock was set back, and are dropped.

    >>> log, wait = admit([], 100.0, 2, 1.0, None, 0.0)       # dated now
    >>> log, wait = admit(log, 100.5, 2, 1.0, "t1", 60.0)     # in flight: 60 s ahead
    >>> round(admit(log, 100.6, 2, 1.0, None, 0.0)[1], 3)     # full: 100.0 leaves in 0.4 s
    0.4
    >>> admit(log, 101.2, 1, 1.0, None, 0.0)[1]               # full of a call in flight
    0.01
    """
    live = [entry for entry in log if now - window < entry[0] <= now + MAX_HOLD + window]
    if len(live) < limit:
        live.append((now + min(hold, MAX_HOLD) if ticket else now, ticket))
        return live, 0.0
    # The entry `limit` places from the newest leaves the window first.
    blocking = sorted(at for at, _ in live)[len(live) - limit]
    if blocking > now:  # still in flight: its end is not known yet
        return live, PENDING_POLL
    return live, max(blocking + window - now, 1e-6)


def release(log: list[Entry[T]], ended: Mapping[T, float]) -> list[Entry[T]]:
    """``log`` with each call in ``ended`` (ticket -> time its response arrived) dated then.

    >>> release([(160.0, "t1"), (99.0, None)], {"t1": 100.5})
    [(100.5, None), (99.0, None)]
    """
    if not ended:
        return log
    return [
        (min(at, ended[ticket]), None) if ticket is not None and ticket in ended else (at, ticket)
        for at, ticket in log
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
    """Admit one call if fewer than ``limit`` count (see :func:`admit`)."""
    mine = ticket_bytes(ticket) if ticket else None
    # time.time() runs under the store's lock, so admissions are ordered in time.
    return lambda log: admit(log, time.time(), limit, window, mine, hold)


def release_step(ticket: str) -> Change:
    """Date the call ``ticket`` now: its response has arrived."""
    ended = {ticket_bytes(ticket): time.time()}
    return lambda log: (release(log, ended), 0.0)
