"""The sliding window log itself, shared by the in-process and the SQLite backends.

A log is a short list of ``(time, ticket)`` entries, one per recent call of a key. These
functions only compute; the backends make each call to them atomic (a lock, a write
transaction).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

from ._protocol import MAX_HOLD, PENDING_POLL

__all__ = ["admit", "release"]

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
