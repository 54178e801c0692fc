"""The blocking front over a backend: waits, holds slots, falls back, counts."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from dataclasses import dataclass

from .._exceptions import TowerConfigError
from ._memory import MemoryBackend
from ._protocol import RateLimitBackend

__all__ = ["RateLimiter", "RateLimiterStats"]

logger = logging.getLogger("nftower.ratelimit")

#: 429s further apart than this start a new burst (and a new warning).
BURST_GAP = 60.0
#: Longest pause a reported ``Retry-After`` imposes on the other callers of the process.
MAX_PAUSE = 60.0
#: Default longest time a slot is held (a request's timeout is shorter).
DEFAULT_HOLD = 120.0


@dataclass(frozen=True)
class RateLimiterStats:
    """A snapshot of one limiter's counters (for logs, benchmarks and tests)."""

    backend: str
    limit: int
    window: float
    admitted: int
    waits: int
    waited_seconds: float
    rate_limited: int
    fallback: bool
    outages: int


class RateLimiter:
    """Admits at most ``limit`` calls in any ``window`` seconds, as the server counts them.

    One instance is shared by every thread and event loop of the process (see
    :func:`~nftower.ratelimit.get_limiter`). Wrap each HTTP attempt in :meth:`slot` (sync,
    waits with ``time.sleep``) or :meth:`aslot` (async, ``asyncio.sleep``): the call counts as
    happening *now* until its response arrives and is then dated to that moment, so request
    latency, however uneven between processes, cannot squeeze more than ``limit`` calls into
    one server-side window.

    When the shared backend fails (Redis down, SQLite file unwritable) the limiter logs one
    warning and limits in-process until the backend answers again (retried every
    ``retry_backend_after`` seconds): a broken limiter store never fails a call.

    >>> from nftower.ratelimit import MemoryBackend
    >>> limiter = RateLimiter(MemoryBackend(), "key", limit=20, window=1.0)
    >>> for _ in range(3):
    ...     with limiter.slot():
    ...         pass                 # send the request here
    >>> limiter.stats().admitted
    3
    """

    def __init__(
        self,
        backend: RateLimitBackend,
        key: str,
        *,
        limit: int = 20,
        window: float = 1.0,
        margin: float = 0.005,
        retry_backend_after: float = 30.0,
    ) -> None:
        _check_limits(limit, window)
        if margin < 0:
            raise TowerConfigError(f"margin must be >= 0, got {margin!r}")
        self.backend = backend
        self.key = key
        self.limit = limit
        self.window = window
        self.margin = margin
        self.retry_backend_after = retry_backend_after
        self._fallback = MemoryBackend()
        self._lock = threading.Lock()
        self._in_fallback = False
        self._retry_at = 0.0
        self._outages = 0
        self._paused_until = 0.0
        self._last_429 = float("-inf")
        self._admitted = self._waits = self._rate_limited = 0
        self._waited = 0.0

    # -- public API -------------------------------------------------------------------------

    def slot(self, hold: float = DEFAULT_HOLD) -> _Slot:
        """Hold one of the ``limit`` slots while the ``with`` block runs (one HTTP attempt).

        ``hold`` bounds how long the call may count as in flight if the process dies inside
        the block.
        """
        return _Slot(self, hold)

    def aslot(self, hold: float = DEFAULT_HOLD) -> _AsyncSlot:
        """Async form of :meth:`slot` (``async with``); never blocks the event loop."""
        return _AsyncSlot(self, hold)

    def report_rate_limited(self, retry_after: float | None = None) -> None:
        """Record a 429 answer; the other callers of this process hold off ``retry_after`` s.

        The first 429 of a burst logs one warning; it means some client of the same token is
        not sharing this limiter's backend.
        """
        now = time.monotonic()
        with self._lock:
            self._rate_limited += 1
            new_burst = now - self._last_429 > BURST_GAP
            self._last_429 = now
            if retry_after is not None and retry_after > 0:
                pause = min(retry_after, MAX_PAUSE)
                self._paused_until = max(self._paused_until, now + pause)
        if new_burst:
            logger.warning(
                "Tower answered 429 Too Many Requests although calls are limited to %d per %gs "
                "(backend %s): another client of this token does not share the limiter; "
                "use a shared rate_limit_backend for all of them",
                self.limit,
                self.window,
                self.backend.url,
            )

    def stats(self) -> RateLimiterStats:
        """Counters since creation."""
        with self._lock:
            return RateLimiterStats(
                backend=self.backend.url,
                limit=self.limit,
                window=self.window,
                admitted=self._admitted,
                waits=self._waits,
                waited_seconds=self._waited,
                rate_limited=self._rate_limited,
                fallback=self._in_fallback,
                outages=self._outages,
            )

    def tighten(self, limit: int, window: float) -> None:
        """Adopt the stricter of the current and the given limit and window."""
        _check_limits(limit, window)
        with self._lock:
            self.limit = min(self.limit, limit)
            self.window = max(self.window, window)

    def __repr__(self) -> str:
        return (
            f"RateLimiter(key={self.key[:12]}..., limit={self.limit}, window={self.window}, "
            f"backend={self.backend.url!r})"
        )

    # -- admission --------------------------------------------------------------------------

    def _admit(self, ticket: str, hold: float) -> RateLimitBackend:
        started: float | None = None
        while True:
            wait, backend = self._step(ticket, hold)
            if wait <= 0:
                self._count(started)
                return backend
            started = started if started is not None else time.monotonic()
            time.sleep(wait)

    async def _aadmit(self, ticket: str, hold: float) -> RateLimitBackend:
        started: float | None = None
        while True:
            wait, backend = await self._astep(ticket, hold)
            if wait <= 0:
                self._count(started)
                return backend
            started = started if started is not None else time.monotonic()
            await asyncio.sleep(wait)

    def _step(self, ticket: str, hold: float) -> tuple[float, RateLimitBackend]:
        span = self.window + self.margin
        if (local := self._without_backend(span, ticket, hold)) is not None:
            return local
        try:
            wait = self.backend.acquire(self.key, self.limit, span, ticket, hold)
        except Exception as exc:
            return self._after_failure(exc, span, ticket, hold)
        self._backend_ok()
        return wait, self.backend

    async def _astep(self, ticket: str, hold: float) -> tuple[float, RateLimitBackend]:
        span = self.window + self.margin
        if (local := self._without_backend(span, ticket, hold)) is not None:
            return local
        try:
            wait = await self.backend.aacquire(self.key, self.limit, span, ticket, hold)
        except Exception as exc:
            return self._after_failure(exc, span, ticket, hold)
        self._backend_ok()
        return wait, self.backend

    def _without_backend(
        self, span: float, ticket: str, hold: float
    ) -> tuple[float, RateLimitBackend] | None:
        """The step's answer when the shared backend is not asked: a pause after a 429, or
        the in-process log while the backend is down; ``None`` to ask the backend."""
        if (pause := self._paused_until - time.monotonic()) > 0:
            return pause, self._fallback
        if self._in_fallback and time.monotonic() < self._retry_at:
            return self._fallback.acquire(self.key, self.limit, span, ticket, hold), self._fallback
        return None

    def _after_failure(
        self, exc: Exception, span: float, ticket: str, hold: float
    ) -> tuple[float, RateLimitBackend]:
        self._backend_failed(exc)
        return self._fallback.acquire(self.key, self.limit, span, ticket, hold), self._fallback

    def _release(self, backend: RateLimitBackend, ticket: str) -> None:
        try:
            backend.release(self.key, ticket)
        except Exception as exc:  # the entry expires by itself after `hold`
            self._backend_failed(exc)

    async def _arelease(self, backend: RateLimitBackend, ticket: str) -> None:
        try:
            await backend.arelease(self.key, ticket)
        except Exception as exc:
            self._backend_failed(exc)

    # -- fallback and counters --------------------------------------------------------------

    def _backend_failed(self, exc: Exception) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + self.retry_backend_after
            if self._in_fallback:
                first = False
            else:
                first = self._in_fallback = True
                self._outages += 1
        if first:
            logger.warning(
                "Rate limit backend %s is unavailable (%s: %s); limiting calls within this "
                "process only until it answers again",
                self.backend.url,
                type(exc).__name__,
                exc,
            )
        else:
            logger.debug("Rate limit backend %s still unavailable: %s", self.backend.url, exc)

    def _backend_ok(self) -> None:
        if not self._in_fallback:
            return
        with self._lock:
            recovered, self._in_fallback = self._in_fallback, False
        if recovered:
            logger.info("Rate limit backend %s is available again", self.backend.url)

    def _count(self, started: float | None) -> None:
        with self._lock:
            self._admitted += 1
            if started is not None:
                self._waits += 1
                self._waited += time.monotonic() - started


class _Slot:
    """``with limiter.slot():`` admits one call on entry and dates it on exit."""

    __slots__ = ("_backend", "_hold", "_limiter", "_ticket")

    def __init__(self, limiter: RateLimiter, hold: float) -> None:
        self._limiter, self._hold = limiter, hold

    def __enter__(self) -> None:
        self._ticket = _new_ticket()
        self._backend = self._limiter._admit(self._ticket, self._hold)

    def __exit__(self, *exc_info: object) -> None:
        self._limiter._release(self._backend, self._ticket)


class _AsyncSlot(_Slot):
    """``async with limiter.aslot():`` waits with ``asyncio.sleep``."""

    __slots__ = ()

    def __enter__(self) -> None:
        raise TypeError(
            "limiter.aslot() is for 'async with' (it waits with asyncio.sleep); a plain 'with' "
            "would block the event loop: use 'with limiter.slot():' in sync code"
        )

    async def __aenter__(self) -> None:
        self._ticket = _new_ticket()
        self._backend = await self._limiter._aadmit(self._ticket, self._hold)

    async def __aexit__(self, *exc_info: object) -> None:
        await self._limiter._arelease(self._backend, self._ticket)


def _new_ticket() -> str:
    """16 random hex digits naming one call (``random`` reseeds itself in a forked child)."""
    return f"{random.getrandbits(64):016x}"


def _check_limits(limit: int, window: float) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise TowerConfigError(f"rate limit must be a positive integer, got {limit!r}")
    if not isinstance(window, (int, float)) or isinstance(window, bool) or window <= 0:
        raise TowerConfigError(
            f"rate limit window must be a positive number of seconds, got {window!r}"
        )
