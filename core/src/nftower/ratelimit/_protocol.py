"""The storage contract every rate-limit backend fulfils."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["RateLimitBackend"]


@runtime_checkable
class RateLimitBackend(Protocol):
    """Atomic check-and-record of one call in a sliding window log.

    ``acquire(key, limit, window)`` looks at the calls recorded for ``key`` in the last
    ``window`` seconds. If fewer than ``limit`` are recorded it records this one and returns
    ``0.0``; otherwise it records nothing and returns the number of seconds after which a slot
    frees up. The check and the record are one atomic step for every participant sharing the
    backend, so no interleaving can admit more than ``limit`` calls in any ``window``.

    ``url`` names the backend without credentials (safe to log).
    """

    url: str

    def acquire(self, key: str, limit: int, window: float) -> float:
        """Record one call for ``key`` and return 0.0, or return the seconds to wait."""
        ...

    async def aacquire(self, key: str, limit: int, window: float) -> float:
        """Async form of :meth:`acquire`; never blocks the event loop."""
        ...

    def close(self) -> None:
        """Release connections; the backend may not be used afterwards."""
        ...
