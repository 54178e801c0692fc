"""Sliding window log in Redis, shared by every host (``redis://host:port/db``)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .._exceptions import TowerConfigError
from ._protocol import MAX_HOLD, PENDING_POLL

if TYPE_CHECKING:
    from redis import Redis
    from redis.commands.core import Script

__all__ = ["RedisBackend", "redact_url"]

KEY_PREFIX = "nftower:ratelimit:"

# One atomic step on the server. Times come from the Redis server's clock (TIME), so the
# clocks of the participating hosts do not matter. Scores, window and hold are microseconds;
# an in-flight call is scored `hold` ahead until released. Replies: 0 = admitted, -1 = the
# window is full of calls in flight, else microseconds to wait. Numbers go to Redis through
# exact() because Lua would print a 16-digit microsecond time with only 14 significant digits.
_ACQUIRE = """
if redis.replicate_commands then redis.replicate_commands() end
local function exact(x) return string.format('%.0f', x) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local hold = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', exact(now - window))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. exact(now + window + tonumber(ARGV[5])), '+inf')
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], exact(now + hold), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], exact(math.ceil((window + hold) / 1000) + 1000))
  return 0
end
local nth = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
local blocking = tonumber(nth[2])
if blocking > now then return -1 end
return math.max(math.ceil(blocking + window - now), 1)
"""

_RELEASE = """
if redis.replicate_commands then redis.replicate_commands() end
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if tonumber(score) > now then
  redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', now), ARGV[1])
end
return 1
"""


def redact_url(url: str) -> str:
    """``url`` without its password, for logs and reprs.

    >>> redact_url("redis://:s3cret@cache:6379/0")
    'redis://***@cache:6379/0'
    """
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


class RedisBackend:
    """Sliding window log in a Redis sorted set per key, evaluated by one Lua script.

    Needs the ``redis`` extra (``pip install 'nftower[redis]'``). Keys are
    ``nftower:ratelimit:<sha256>`` and expire one window after their last admission.
    Connection and socket timeouts are short so an unreachable server is noticed quickly.

    >>> backend = RedisBackend("redis://127.0.0.1:6379/0")   # connects lazily
    >>> backend.url
    'redis://127.0.0.1:6379/0'
    """

    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        if importlib.util.find_spec("redis") is None:
            raise TowerConfigError(
                "The redis rate limit backend needs the redis package: pip install 'nftower[redis]'"
            )
        self.url = redact_url(url)
        self._raw_url = url
        self._timeout = timeout
        self._lock = threading.Lock()
        self._client: Redis | None = None
        self._acquire: Script | None = None
        self._release: Script | None = None
        self._pid = 0

    def _scripts(self) -> tuple[Script, Script]:
        with self._lock:
            if self._acquire is None or self._release is None or self._pid != os.getpid():
                import redis

                self._client = redis.Redis.from_url(
                    self._raw_url,
                    socket_connect_timeout=self._timeout,
                    socket_timeout=self._timeout,
                )
                self._acquire = self._client.register_script(_ACQUIRE)
                self._release = self._client.register_script(_RELEASE)
                self._pid = os.getpid()
            return self._acquire, self._release

    def acquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        script = self._scripts()[0]
        member = ticket or os.urandom(8).hex()
        held = round(min(hold, MAX_HOLD) * 1e6) if ticket else 0
        args: list[int | str] = [limit, round(window * 1e6), member, held, round(MAX_HOLD * 1e6)]
        reply: Any = script(keys=[KEY_PREFIX + key], args=args)
        wait = int(reply)
        return PENDING_POLL if wait < 0 else wait / 1e6

    async def aacquire(
        self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0.0
    ) -> float:
        return await asyncio.to_thread(self.acquire, key, limit, window, ticket, hold)

    def release(self, key: str, ticket: str) -> None:
        self._scripts()[1](keys=[KEY_PREFIX + key], args=[ticket])

    async def arelease(self, key: str, ticket: str) -> None:
        await asyncio.to_thread(self.release, key, ticket)

    def close(self) -> None:
        with self._lock:
            if self._client is not None and self._pid == os.getpid():
                self._client.close()
            self._client = self._acquire = self._release = None

    def __repr__(self) -> str:
        return f"RedisBackend({self.url!r})"
