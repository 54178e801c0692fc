"""Redis backend against a real redis-server: atomicity, server clock, hashing, fallback."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from nftower.ratelimit import RateLimiter, RedisBackend, get_limiter, limiter_key, reset_limiters

pytest_plugins = ["conftest_redis"]
pytestmark = pytest.mark.redis


def _call(limiter: RateLimiter) -> None:
    """One call through the limiter (admitted, then dated as its answer arrives)."""
    with limiter.slot():
        pass


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    reset_limiters()
    yield
    reset_limiters()


def test_check_and_record_is_atomic_across_threads(redis_url: str) -> None:
    backends = [RedisBackend(redis_url) for _ in range(4)]  # one connection each, like hosts
    admitted: list[int] = []
    barrier = threading.Barrier(8)

    def worker(backend: RedisBackend) -> None:
        barrier.wait()
        for _ in range(10):
            if backend.acquire("k", 20, 60.0) == 0.0:
                admitted.append(1)

    threads = [threading.Thread(target=worker, args=(backends[i % 4],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for backend in backends:
        backend.close()
    assert len(admitted) == 20


def test_wait_is_computed_from_the_oldest_admission(redis_url: str) -> None:
    backend = RedisBackend(redis_url)
    assert backend.acquire("k", 2, 30.0) == 0.0
    assert backend.acquire("k", 2, 30.0) == 0.0
    wait = backend.acquire("k", 2, 30.0)
    assert 0.0 < wait <= 30.0
    backend.close()


def test_entries_are_timed_by_the_server_not_the_host(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, skewed = RedisBackend(redis_url), RedisBackend(redis_url)
    assert [here.acquire("k", 4, 30.0) for _ in range(3)] == [0.0] * 3
    # A host whose clock runs two minutes ahead must not see those calls as expired.
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 120.0)
    results = [skewed.acquire("k", 4, 30.0) for _ in range(3)]
    monkeypatch.undo()
    assert results[0] == 0.0
    assert all(wait > 0 for wait in results[1:])
    here.close()
    skewed.close()


def test_limiter_over_redis_blocks_and_counts(redis_url: str) -> None:
    limiter = get_limiter(api_url="http://h", token="tok", limit=3, window=0.05, backend=redis_url)
    for _ in range(7):
        _call(limiter)
    stats = limiter.stats()
    assert (stats.admitted, stats.fallback) == (7, False)
    assert stats.waits >= 1


def test_token_is_not_in_redis_keys_or_values(redis_url: str) -> None:
    token = "tok-SECRET-abcdef"
    limiter = get_limiter(api_url="http://h", token=token, backend=redis_url)
    _call(limiter)
    client = redis.Redis.from_url(redis_url)
    keys = client.keys("*")
    assert keys == [f"nftower:ratelimit:{limiter_key('http://h', token)}".encode()]
    members = client.zrange(keys[0], 0, -1)
    client.close()
    assert all(token.encode() not in member for member in members)
    assert token not in repr(limiter)


def test_unreachable_redis_falls_back_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    from conftest_redis import free_port

    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"  # nothing listens there
    limiter = RateLimiter(RedisBackend(url, timeout=0.5), "k", limit=3, window=0.05)
    with caplog.at_level(logging.WARNING, logger="nftower.ratelimit"):
        for _ in range(7):
            _call(limiter)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "unavailable" in warnings[0]
    assert "hunter2" not in warnings[0]
    stats = limiter.stats()
    assert (stats.admitted, stats.fallback, stats.outages) == (7, True, 1)
    assert stats.waits >= 1  # still limited in process


def test_in_flight_call_counts_until_released(redis_url: str) -> None:
    backend = RedisBackend(redis_url)
    assert backend.acquire("k", 1, 30.0, ticket="t1", hold=60.0) == 0.0
    assert backend.acquire("k", 1, 30.0) == pytest.approx(0.01)  # full of calls in flight
    backend.release("k", "t1")
    assert 29.0 < backend.acquire("k", 1, 30.0) <= 30.0
    backend.release("k", "unknown-ticket")  # harmless
    backend.close()
