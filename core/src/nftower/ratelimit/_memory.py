"""In-process sliding window log (``memory://``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ._entries import Entry, admit, release

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
        self._logs: dict[str, list[Entry[str]]] = {}

    def acquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        with self._lock:
            self._logs[key], wait = admit(
                self._logs.get(key, []), self._clock(), limit, window, ticket, hold
            )
            return wait

    async def aacquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        return self.acquire(key, limit, window, ticket, hold)

    def release(self, key: str, ticket: str) -> None:
        with self._lock:
            if key in self._logs:
                self._logs[key] = release(self._logs[key], {ticket: self._clock()})

    async def arelease(self, key: str, ticket: str) -> None:
        self.release(key, ticket)

    def close(self) -> None:
        with self._lock:
            self._logs.clear()

    def __repr__(self) -> str:
        return "MemoryBackend()"
