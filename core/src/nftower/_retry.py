"""Retry policy: which failures are retried, and after how long (pure functions).

A small :func:`decide` function rather than tenacity or stamina: the retry loop is one
generator (``BaseTowerClient._attempts``) that yields its sleeps to the sync or async driver,
and the decision needs the :class:`~nftower._endpoints.Call` (is it the launch?) and the server's
``Retry-After``. Those libraries wrap whole callables in decorators or context managers, which
would put the policy in two places and hide the launch rule in predicate plumbing.

Rules:

- Connection refused / not obtained (the request never left): retried for every call.
- 429: retried for every call, the launch POST included. Tower's rate limit refuses the
  request before any handler sees it, so nothing was done and a retry cannot double it.
- Other transport failures and timeouts, invalid response bodies, 502, 503 and 504:
  retried for idempotent calls only. The launch POST is not idempotent.
- 500 (Tower's "Oops... Unable to process request"): retried at most ``MAX_500_RETRIES``
  times, for idempotent calls only. One blip (a database hiccup) must not fail a look-up
  such as ``ensure_run``'s search for the run; a 500 that repeats is a server bug and is
  raised with its Error ID.
- Delay: the server's ``Retry-After`` (seconds or HTTP date) when given, capped at
  ``RETRY_AFTER_CAP`` (60 s, the longest pause a 429 imposes on the token's other callers
  too); else capped exponential backoff ``0.5 s x 2^(attempt-1)`` (at most 30 s) with up to
  25 % jitter. Tower's window is one second, so a longer ``Retry-After`` (3,600 from a proxy)
  is not worth a night: the client waits the cap and says so in its log.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

from ._endpoints import Call
from ._exceptions import TowerAPIError, TowerConnectionError, TowerError

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "MAX_500_RETRIES",
    "RETRY_AFTER_CAP",
    "RETRY_STATUSES",
    "attempts_allowed",
    "backoff",
    "decide",
    "parse_retry_after",
]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 60.0
MAX_500_RETRIES = 2


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date), or ``None``.

    Example:
        >>> parse_retry_after("2.5")
        2.5
        >>> parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now=lambda: 1445412480.0)
        5.0
        >>> parse_retry_after("soon") is None
        True
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def backoff(
    attempt: int,
    *,
    base: float = BACKOFF_BASE,
    cap: float = BACKOFF_CAP,
    rand: Callable[[], float] = random.random,
) -> float:
    """Jittered exponential backoff before retry number ``attempt`` (1-based).

    Example:
        >>> [backoff(n, rand=lambda: 0.0) for n in (1, 2, 3, 10)]
        [0.5, 1.0, 2.0, 30.0]
        >>> backoff(1, rand=lambda: 1.0)
        0.375
    """
    delay: float = min(cap, base * 2.0 ** max(0, attempt - 1))
    return delay * (1.0 - 0.25 * float(rand()))


def attempts_allowed(error: TowerError, max_retries: int) -> int:
    """How many attempts a call gets in all when it keeps failing as ``error`` did (a 500 gets
    fewer retries than a 503): the bound :func:`decide` keeps, and the M of the log line
    "attempt N of M failed".

    Example:
        >>> from nftower._api_errors import api_error
        >>> attempts_allowed(api_error(500, "GET /workflow", "Oops..."), max_retries=5)
        3
        >>> attempts_allowed(api_error(503, "GET /workflow", "busy"), max_retries=5)
        6
    """
    if isinstance(error, TowerAPIError) and error.status_code == 500:
        return min(max_retries, MAX_500_RETRIES) + 1
    return max_retries + 1


def decide(
    call: Call,
    attempt: int,
    error: TowerError,
    *,
    max_retries: int,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before retrying ``call`` after attempt number ``attempt`` failed.

    ``None`` means "do not retry: raise". ``attempt`` counts from 1; at most ``max_retries``
    retries follow the first attempt.

    Example:
        >>> from nftower._endpoints import describe_workflow, launch
        >>> from nftower._api_errors import api_error
        >>> from nftower._exceptions import TowerConnectionError
        >>> busy = api_error(503, "GET /workflow/{workflowId}", "busy")
        >>> decide(describe_workflow(1, "a"), 1, busy, max_retries=5, rand=lambda: 0.0)
        0.5
        >>> decide(launch(1, {}), 1, busy, max_retries=5) is None
        True
        >>> limited = api_error(429, "POST /workflow/launch", "Slow down", retry_after=3600)
        >>> decide(launch(1, {}), 1, limited, max_retries=5)
        60.0
        >>> refused = TowerConnectionError("refused", request_sent=False)
        >>> decide(launch(1, {}), 1, refused, max_retries=5, rand=lambda: 0.0)
        0.5
    """
    if attempt >= attempts_allowed(error, max_retries):
        return None
    if isinstance(error, TowerConnectionError):
        if error.request_sent and not call.idempotent:
            return None
        return backoff(attempt, rand=rand)
    if isinstance(error, TowerAPIError):
        status = error.status_code
        if status == 500 and call.idempotent:
            return backoff(attempt, rand=rand)
        if status not in RETRY_STATUSES or (status != 429 and not call.idempotent):
            return None
        if error.retry_after is not None:
            return min(error.retry_after, RETRY_AFTER_CAP)
        return backoff(attempt, rand=rand)
    return None
