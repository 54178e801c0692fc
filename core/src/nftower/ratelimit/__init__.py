"""Client-side rate limiting: at most ``limit`` calls in any ``window`` seconds per token.

Tower answers HTTP 429 above 20 calls per second per token. Every HTTP attempt of
``TowerClient`` / ``AsyncTowerClient`` first acquires the process-wide :class:`RateLimiter` of
its token, whose backend decides how far the limit reaches:

===========================  =============================================================
``sqlite://`` (default)      every process of this user on this host (a SQLite file in the
                             user's cache directory, or ``sqlite:///path`` for another file)
``redis://host:port/db``     every process on every host using that Redis server
``memory://``                this process only
===========================  =============================================================

Chosen with the client option ``rate_limit_backend`` or ``$NFTOWER_RATE_LIMIT_BACKEND``.
If the shared store fails, limiting continues in-process after one warning.

Why the sliding window is written here rather than taken from a library: pyrate-limiter 4
and limits 5 were evaluated. Both time Redis entries with the caller's clock (skewed hosts
break the guarantee; here the Redis server's ``TIME`` is used), limits has no file store, and
pyrate's ``SQLiteBucket`` counts and inserts in separate statements unless the optional
``filelock`` package serialises it, and on a blocked retry it advances the entry's timestamp
by the intended sleep instead of reading the clock, so an oversleeping process records a
time in the past. Each backend here is one atomic check-and-record (a ``BEGIN IMMEDIATE``
transaction, one Lua script, one lock) of at most ``limit`` rows per key.

>>> from nftower.ratelimit import get_limiter
>>> limiter = get_limiter(api_url="https://api.cloud.seqera.io", token="tok", backend="memory://")
>>> limiter.acquire()            # returns once the call is admitted
>>> limiter.stats().admitted
1
"""

from ._limiter import RateLimiter, RateLimiterStats
from ._memory import MemoryBackend
from ._protocol import RateLimitBackend
from ._redis import RedisBackend
from ._registry import get_limiter, limiter_key, reset_limiters
from ._sqlite import SQLiteBackend, default_sqlite_path
from ._urls import ENV_VAR, backend_from_url, resolve_backend_url

__all__ = [
    "ENV_VAR",
    "MemoryBackend",
    "RateLimitBackend",
    "RateLimiter",
    "RateLimiterStats",
    "RedisBackend",
    "SQLiteBackend",
    "backend_from_url",
    "default_sqlite_path",
    "get_limiter",
    "limiter_key",
    "reset_limiters",
    "resolve_backend_url",
]
