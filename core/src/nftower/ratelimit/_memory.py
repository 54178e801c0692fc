"""In-process sliding window log (``memory://``)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["MemoryBackend"]


class MemoryBackend:
    """Exact sliding window log kept in this process only.

    One :class:`threading.Lock` guards a deque of admission times per key; nothing awaits
    while holding it, so threads and any number of event loops can share one instance.
    Other processes are not limited: use the default (host-wide) or a Redis backend for that.

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
        self._logs: dict[str, deque[float]] = {}

    def acquire(self, key: str, limit: int, window: float) -> float:
        with self._lock:
            now = self._clock()
            log = self._logs.get(key)
            if log is None:
                log = self._logs[key] = deque()
            horizon = now - window
            while log and log[0] <= horizon:
                log.popleft()
            if len(log) < limit:
                log.append(now)
                return 0.0
            # The call recorded `limit` places before the end leaves the window first.
            return max(log[len(log) - limit] + window - now, 1e-6)

    async def aacquire(self, key: str, limit: int, window: float) -> float:
        return self.acquire(key, limit, window)

    def close(self) -> None:
        with self._lock:
            self._logs.clear()

    def __repr__(self) -> str:
        return "MemoryBackend()"
