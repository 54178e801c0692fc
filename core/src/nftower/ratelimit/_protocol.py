"""The storage contract every rate-limit backend fulfils."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["MAX_HOLD", "PENDING_POLL", "RateLimitBackend"]

#: Longest time a call may stay in flight; its entry expires afterwards even if never released.
MAX_HOLD = 300.0
#: How soon to look again when the window is full of calls still in flight.
PENDING_POLL = 0.01


@runtime_checkable
class RateLimitBackend(Protocol):
    """Atomic check-and-record of one call in a sliding window log.

    ``acquire(key, limit, window, ticket, hold)`` looks at the calls recorded for ``key`` whose
    time is within the last ``window`` seconds. If fewer than ``limit`` are, it records this
    one and returns ``0.0``; otherwise it records nothing and returns the number of seconds
    after which to ask again. The check and the record are one atomic step for every
    participant sharing the backend.

    A call recorded with a ``ticket`` and ``hold > 0`` is *in flight*: its entry is dated
    ``hold`` seconds ahead, so it counts in every window until ``release(key, ticket)`` dates it
    to the moment the response arrived. The server saw the call at some moment before that,
    so however long requests take, no server-side window can hold more than ``limit`` calls.
    Without a ticket the entry is dated at admission.

    ``url`` names the backend without credentials (safe to log).
    """

    url: str

    def acquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        """Record one call for ``key`` and return 0.0, or return the seconds to wait."""
        ...

    async def aacquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        """Async form of :meth:`acquire`; never blocks the event loop."""
        ...

    def release(self, key: str, ticket: str) -> None:
        """Date the in-flight call ``ticket`` to now (its response has arrived)."""
        ...

    async def arelease(self, key: str, ticket: str) -> None:
        """Async form of :meth:`release`."""
        ...

    def close(self) -> None:
        """Release connections; the backend may not be used afterwards."""
        ...
