"""Request recording and the per-token sliding-window rate limit."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


def token_hash(token: str) -> str:
    """SHA-256 of an access token: how tokens appear in records (never in clear).

    >>> token_hash("abc")[:12]
    'ba7816bf8f01'
    """
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as the emulator saw it, with the answer it gave.

    ``query`` keeps the last value of each parameter, ``query_string`` the raw query.
    ``status`` is ``None`` when the connection was dropped or reset without a response
    (faults ``drop_before``, ``drop_after``, ``reset_before``, ``reset_after``); ``fault``
    names the injected fault that hit the request. ``workflow_id`` is set when the request
    created a run (a launch, even one whose response was then dropped). ``headers`` never
    include ``Authorization``. A ``multipart/form-data`` request has ``form`` (part name ->
    file name, media type and size; never the bytes) instead of ``json``;
    ``response_content_type`` is the answer's.

    >>> r = RecordedRequest("GET", "/workflow", {}, None, 200, {}, None, 0.0, None)
    >>> r.operation
    'GET /workflow'
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int | None
    response_json: Any
    token_hash: str | None
    time: float
    workspace_id: int | None
    fault: str | None = None
    workflow_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query_string: str = ""
    form: dict[str, Any] | None = None
    response_content_type: str | None = None

    @property
    def operation(self) -> str:
        """``"<METHOD> <path>"``."""
        return f"{self.method} {self.path}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (used by the admin API)."""
        return asdict(self)


def max_calls_in_window(times: Iterable[float], window: float) -> int:
    """Largest number of timestamps falling in any half-open interval of ``window`` seconds.

    >>> max_calls_in_window([0.0, 0.5, 0.99, 1.0, 1.6], 1.0)
    3
    """
    ordered = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


class RequestLog:
    """Thread-safe list of :class:`RecordedRequest` (the server appends, tests read copies)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def append(self, record: RecordedRequest) -> None:
        with self._lock:
            self._items.append(record)

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def launches(self) -> list[RecordedRequest]:
        """Launch requests that created a run."""
        return [
            r
            for r in self.snapshot()
            if r.method == "POST" and r.path == "/workflow/launch" and r.workflow_id
        ]

    def max_calls_in_window(self, window: float, token: str | None = None) -> int:
        """Peak request count in any ``window`` seconds, for one token or per token (max)."""
        records = self.snapshot()
        if token is not None:
            wanted = token_hash(token)
            return max_calls_in_window((r.time for r in records if r.token_hash == wanted), window)
        by_token: dict[str | None, list[float]] = {}
        for r in records:
            by_token.setdefault(r.token_hash, []).append(r.time)
        return max((max_calls_in_window(t, window) for t in by_token.values()), default=0)

    def stats(self, window: float) -> dict[str, Any]:
        """Counters summarising the recorded traffic."""
        records = self.snapshot()
        statuses = Counter(str(r.status) for r in records)
        return {
            "requests": len(records),
            "rate_limited": sum(1 for r in records if r.status == 429),
            "launches": len(self.launches()),
            "max_calls_in_window": self.max_calls_in_window(window),
            "window": window,
            "faults_applied": sum(1 for r in records if r.fault),
            "dropped": sum(1 for r in records if r.status is None),
            "by_status": dict(sorted(statuses.items())),
            "by_operation": dict(Counter(r.operation for r in records).most_common()),
        }


class SlidingWindowLimiter:
    """At most ``limit`` calls in any ``window`` seconds per key; rejected calls count too.

    ``hit`` returns 0.0 when the call is admitted, else the seconds until a call would be.

    >>> limiter = SlidingWindowLimiter(2, 1.0)
    >>> [round(limiter.hit("t", now), 3) for now in (0.0, 0.1, 0.2)]
    [0.0, 0.0, 0.9]
    """

    def __init__(self, limit: int | None, window: float) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._calls: dict[str, deque[float]] = {}

    def hit(self, key: str, now: float) -> float:
        if self.limit is None:
            return 0.0
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and now - calls[0] >= self.window:
                calls.popleft()
            calls.append(now)
            if len(calls) <= self.limit:
                return 0.0
            # Next call admitted once all but (limit - 1) of these calls have left the window.
            return max(calls[len(calls) - self.limit] + self.window - now, 0.001)
