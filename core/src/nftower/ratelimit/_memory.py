"""In-process sliding window log (``memory://``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ._protocol import MAX_HOLD, PENDING_POLL

__all__ = ["MemoryBackend"]


class MemoryBackend:
    """Exact sliding window log kept in this process only.

    One :class:`threading.Lock` guards a short list of ``[time, ticket]`` entries per key
    (at most ``limit`` stay); nothing awaits while holding it, so threads and any number of
    event loops can share one instance. Other processes are not limited: use the default
    (host-wide) or a Redis backend for that.

    >>> backend = MemoryBackend()
    >>> [backend.acquire("k", 2, 1.0) for _ in range(2)]
    [0.0, 0.0]
    >>> 0.0 < backend.acquire("k", 2, 1.0) <= 1.0
    True
    """

    url = "memory://"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._logs: dict[str, list[tuple[float, str | None]]] = {}

    def acquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        with self._lock:
            now = self._clock()
            log = [entry for entry in self._logs.get(key, ()) if entry[0] > now - window]
            self._logs[key] = log
            if len(log) < limit:
                log.append((now + min(hold, MAX_HOLD) if ticket else now, ticket))
                return 0.0
            # The entry `limit` places from the newest leaves the window first.
            blocking = sorted(at for at, _ in log)[len(log) - limit]
            if blocking > now:  # still in flight: its end is not known yet
                return PENDING_POLL
            return max(blocking + window - now, 1e-6)

    async def aacquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        return self.acquire(key, limit, window, ticket, hold)

    def release(self, key: str, ticket: str) -> None:
        with self._lock:
            now = self._clock()
            log = self._logs.get(key, [])
            for index, (at, owner) in enumerate(log):
                if owner == ticket:
                    log[index] = (min(at, now), None)
                    return

    async def arelease(self, key: str, ticket: str) -> None:
        self.release(key, ticket)

    def close(self) -> None:
        with self._lock:
            self._logs.clear()

    def __repr__(self) -> str:
        return "MemoryBackend()"
