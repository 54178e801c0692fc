"""Client-side rate limiting: at most ``limit`` calls in any ``window`` seconds per token.

Tower answers HTTP 429 above 20 calls per second per token. Every HTTP attempt of
``TowerClient`` / ``AsyncTowerClient`` first acquires the process-wide :class:`RateLimiter` of
its token, whose backend decides how far the limit reaches:

===========================  =============================================================
``file://`` (default)        every process of this user on this host (a file in the user's
                             cache directory under POSIX record locks; ``file:///path`` for
                             another file)
``sqlite:///path``           every process on this host that uses that SQLite file (also
                             where there are no POSIX locks; ``sqlite://``: a default file)
``redis://host:port/db``     every process on every host using that Redis server
``memory://``                this process only
===========================  =============================================================

Chosen with the client option ``rate_limit_backend`` or ``$NFTOWER_RATE_LIMIT_BACKEND``.
If the shared store fails, limiting continues in-process after one warning.

Every HTTP attempt runs in a :meth:`RateLimiter.slot`: the call counts as in flight until its
response arrives and is then dated to that moment, so no server-side window can hold more than
``limit`` calls however uneven the latency between processes.

Why the sliding window log is written here rather than taken from a library: pyrate-limiter 4
and limits 5 were evaluated. Both date a call once, at admission, with the caller's clock:
neither can keep an entry "in flight" and re-date it when the response arrives (measured here,
dating at admission let 4 cold processes put 21-24 calls in one server second), and on Redis
the callers' clocks must agree (here the Redis server's ``TIME`` dates every entry). limits
has no file store; pyrate's ``SQLiteBucket`` counts and inserts in separate statements unless
the optional ``filelock`` package serialises them (4 processes sharing it put 23 calls in one
second). Each backend here is one atomic check-and-record (a POSIX record lock, one SQLite
``UPDATE``, one Lua script, one thread lock) over at most ``limit`` entries per key.

Why the default is a plain file rather than SQLite: one SQLite write transaction costs about
35 µs of CPU per call on top of the client (measured with a bare one-row ``UPDATE``), which
alone puts a client call at 1.3x a bare httpx call on loopback; the locked file read and write
cost about a quarter of that (``docs/performance.md``). SQLite stays available as
``sqlite:///path``, and is the default where the platform has no POSIX record locks.

>>> from nftower.ratelimit import get_limiter
>>> limiter = get_limiter(api_url="https://api.cloud.seqera.io", token="tok", backend="memory://")
>>> with limiter.slot():         # entered once the call is admitted
...     pass                     # send the request here
>>> limiter.stats().admitted
1
"""

from ._file import FileBackend, default_file_path
from ._limiter import RateLimiter, RateLimiterStats
from ._memory import MemoryBackend
from ._protocol import RateLimitBackend
from ._redis import RedisBackend
from ._registry import get_limiter, limiter_key, reset_limiters
from ._sqlite import SQLiteBackend, default_sqlite_path
from ._urls import ENV_VAR, backend_from_url, resolve_backend_url

__all__ = [
    "ENV_VAR",
    "FileBackend",
    "MemoryBackend",
    "RateLimitBackend",
    "RateLimiter",
    "RateLimiterStats",
    "RedisBackend",
    "SQLiteBackend",
    "backend_from_url",
    "default_file_path",
    "default_sqlite_path",
    "get_limiter",
    "limiter_key",
    "reset_limiters",
    "resolve_backend_url",
]
