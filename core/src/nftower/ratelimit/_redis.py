"""Sliding window log in Redis, shared by every host (``redis://host:port/db``)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .._exceptions import TowerConfigError

if TYPE_CHECKING:
    from redis import Redis
    from redis.commands.core import Script

__all__ = ["RedisBackend", "redact_url"]

KEY_PREFIX = "nftower:ratelimit:"

# One atomic step on the server. Times come from the Redis server's clock (TIME), so the
# clocks of the participating hosts do not matter. Scores and the window are microseconds.
_ACQUIRE = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. (now + window), '+inf')
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return math.max(math.ceil(tonumber(oldest[2]) + window - now), 1)
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
        self._script: Script | None = None
        self._pid = 0

    def _acquire_script(self) -> Script:
        with self._lock:
            if self._script is None or self._pid != os.getpid():
                import redis

                self._client = redis.Redis.from_url(
                    self._raw_url,
                    socket_connect_timeout=self._timeout,
                    socket_timeout=self._timeout,
                )
                self._script = self._client.register_script(_ACQUIRE)
                self._pid = os.getpid()
            return self._script

    def acquire(self, key: str, limit: int, window: float) -> float:
        script = self._acquire_script()
        nonce = os.urandom(8).hex()
        reply: Any = script(keys=[KEY_PREFIX + key], args=[limit, round(window * 1e6), nonce])
        return int(reply) / 1e6

    async def aacquire(self, key: str, limit: int, window: float) -> float:
        return await asyncio.to_thread(self.acquire, key, limit, window)

    def close(self) -> None:
        with self._lock:
            if self._client is not None and self._pid == os.getpid():
                self._client.close()
            self._client = self._script = None

    def __repr__(self) -> str:
        return f"RedisBackend({self.url!r})"
