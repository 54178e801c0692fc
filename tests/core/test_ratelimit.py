"""Rate limiter: sliding window exactness, blocking, sharing, fallback, key hashing."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from nftower.ratelimit import (
    FileBackend,
    MemoryBackend,
    RateLimiter,
    SQLiteBackend,
    backend_from_url,
    get_limiter,
    reset_limiters,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _call(limiter: RateLimiter) -> None:
    """One call through the limiter (admitted, then dated as its answer arrives)."""
    with limiter.slot():
        pass


async def _acall(limiter: RateLimiter) -> None:
    async with limiter.aslot():
        pass


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    reset_limiters()
    yield
    reset_limiters()


def test_memory_window_is_exact() -> None:
    clock = FakeClock()
    backend = MemoryBackend(clock=clock)
    assert [backend.acquire("k", 3, 1.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert backend.acquire("k", 3, 1.0) == pytest.approx(1.0)
    clock.now += 0.4
    assert backend.acquire("k", 3, 1.0) == pytest.approx(0.6)
    clock.now += 0.6  # the first three leave the window exactly now
    assert [backend.acquire("k", 3, 1.0) for _ in range(4)][:3] == [0.0, 0.0, 0.0]
    assert backend.acquire("other", 3, 1.0) == 0.0  # keys are independent


def test_memory_refused_calls_are_not_recorded() -> None:
    clock = FakeClock()
    backend = MemoryBackend(clock=clock)
    backend.acquire("k", 1, 1.0)
    for _ in range(5):
        assert backend.acquire("k", 1, 1.0) > 0
    clock.now += 1.0
    assert backend.acquire("k", 1, 1.0) == 0.0


@pytest.mark.parametrize("kind", ["memory", "file", "sqlite"])
def test_check_and_record_is_atomic_across_threads(kind: str, tmp_path: Path) -> None:
    backend = {"memory": MemoryBackend, "file": FileBackend, "sqlite": SQLiteBackend}[kind]()
    if kind != "memory":
        backend = type(backend)(tmp_path / "rl")
    admitted: list[float] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(10):
            wait = backend.acquire("k", 20, 60.0)
            if wait == 0.0:
                admitted.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    backend.close()
    assert len(admitted) == 20


def test_limiter_blocks_until_admitted_and_counts() -> None:
    limiter = RateLimiter(MemoryBackend(), "k", limit=5, window=0.05, margin=0.0)
    threads = [threading.Thread(target=lambda: [_call(limiter) for _ in range(5)])]
    threads += [threading.Thread(target=lambda: [_call(limiter) for _ in range(5)])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = limiter.stats()
    assert stats.admitted == 10
    assert stats.waits >= 1
    assert stats.waited_seconds > 0


async def test_limiter_async_shares_the_budget_with_threads() -> None:
    limiter = RateLimiter(MemoryBackend(), "k", limit=4, window=0.05, margin=0.0)
    thread = threading.Thread(target=lambda: [_call(limiter) for _ in range(4)])
    thread.start()
    await asyncio.gather(*(_acall(limiter) for _ in range(8)))
    thread.join()
    assert limiter.stats().admitted == 12
    assert limiter.stats().waits >= 4


def test_get_limiter_one_per_token_and_backend() -> None:
    a = get_limiter(api_url="http://h", token="tok-a", backend="memory://")
    assert get_limiter(api_url="http://h/", token="tok-a", backend="memory://") is a
    assert get_limiter(api_url="http://h", token="tok-b", backend="memory://") is not a
    assert get_limiter(api_url="http://other", token="tok-a", backend="memory://") is not a
    stricter = get_limiter(
        api_url="http://h", token="tok-a", limit=5, window=2.0, backend="memory://"
    )
    assert stricter is a
    assert (a.limit, a.window) == (5, 2.0)
    get_limiter(api_url="http://h", token="tok-a", limit=50, backend="memory://")
    assert a.limit == 5


def test_get_limiter_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NFTOWER_RATE_LIMIT_BACKEND", f"sqlite://{tmp_path}/env.sqlite3")
    limiter = get_limiter(api_url="http://h", token="tok")
    assert isinstance(limiter.backend, SQLiteBackend)
    assert limiter.backend.path == tmp_path / "env.sqlite3"


def test_default_backend_is_the_host_wide_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NFTOWER_RATE_LIMIT_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    backend = backend_from_url(None)
    assert isinstance(backend, FileBackend)
    assert backend.path == tmp_path / "nftower" / "ratelimit.bin"
    sqlite = backend_from_url("sqlite://")
    assert isinstance(sqlite, SQLiteBackend)
    assert sqlite.path == tmp_path / "nftower" / "ratelimit.sqlite3"


def test_without_posix_file_locks_the_default_is_sqlite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NFTOWER_RATE_LIMIT_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("nftower.ratelimit._urls.file_locks_available", lambda: False)
    assert isinstance(backend_from_url(None), SQLiteBackend)


@pytest.mark.parametrize(
    "url", ["ftp://host", "sqlite://relative.db", "sqlite:///", "file://relative", "bogus"]
)
def test_bad_backend_url_is_a_clear_error(url: str) -> None:
    with pytest.raises(ValueError, match="backend"):
        backend_from_url(url)


def test_bad_limits_are_rejected() -> None:
    for limit, window in [(0, 1.0), (2.5, 1.0), (20, 0), (20, -1.0)]:
        with pytest.raises(ValueError, match="rate limit"):
            RateLimiter(MemoryBackend(), "k", limit=limit, window=window)  # type: ignore[arg-type]


def test_backend_recovery_leaves_fallback(tmp_path: Path) -> None:
    class Flaky(MemoryBackend):
        fail = True

        def acquire(
            self, key: str, limit: int, window: float, ticket: str | None = None, hold: float = 0
        ) -> float:
            if self.fail:
                raise ConnectionError("down")
            return super().acquire(key, limit, window, ticket, hold)

    backend = Flaky()
    limiter = RateLimiter(backend, "k", retry_backend_after=0.0)
    _call(limiter)
    assert limiter.stats().fallback
    backend.fail = False
    _call(limiter)
    assert not limiter.stats().fallback


def test_report_rate_limited_counts_warns_once_per_burst_and_pauses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RateLimiter(MemoryBackend(), "k")
    with caplog.at_level(logging.WARNING, logger="nftower.ratelimit"):
        limiter.report_rate_limited(0.05)
        limiter.report_rate_limited(0.05)
        limiter.report_rate_limited(None)
    assert limiter.stats().rate_limited == 3
    assert len([r for r in caplog.records if "429" in r.getMessage()]) == 1
    _call(limiter)  # held off until the reported Retry-After passed
    assert limiter.stats().waits == 1


def test_redis_backend_without_the_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "redis" else real_find_spec(name, *a),
    )
    with pytest.raises(ValueError, match=r"nftower\[redis\]"):
        backend_from_url("redis://127.0.0.1:6379/0")


def test_a_call_in_flight_counts_until_its_response_arrives() -> None:
    clock = FakeClock()
    backend = MemoryBackend(clock=clock)
    assert backend.acquire("k", 1, 1.0, ticket="t1", hold=60.0) == 0.0
    clock.now += 5.0  # a slow request: five windows later it still occupies the slot
    assert backend.acquire("k", 1, 1.0) == pytest.approx(0.01)  # look again soon
    backend.release("k", "t1")  # response arrived now: the call is dated now
    assert backend.acquire("k", 1, 1.0) == pytest.approx(1.0)
    clock.now += 1.0
    assert backend.acquire("k", 1, 1.0) == 0.0


def test_an_unreleased_call_expires_after_its_hold() -> None:
    clock = FakeClock()
    backend = MemoryBackend(clock=clock)
    backend.acquire("k", 1, 1.0, ticket="lost", hold=3.0)
    clock.now += 3.9
    assert backend.acquire("k", 1, 1.0) > 0
    clock.now += 0.2
    assert backend.acquire("k", 1, 1.0) == 0.0


async def test_async_slots_share_the_budget_with_threads() -> None:
    limiter = RateLimiter(MemoryBackend(), "k", limit=4, window=0.05, margin=0.0)

    def sync_calls() -> None:
        for _ in range(4):
            with limiter.slot():
                pass

    async def async_call() -> None:
        async with limiter.aslot():
            await asyncio.sleep(0)

    thread = threading.Thread(target=sync_calls)
    thread.start()
    await asyncio.gather(*(async_call() for _ in range(8)))
    thread.join()
    assert limiter.stats().admitted == 12
    assert limiter.stats().waits >= 4


def test_slot_is_released_when_the_request_fails() -> None:
    clock = FakeClock()
    backend = MemoryBackend(clock=clock)
    limiter = RateLimiter(backend, "k", limit=1, window=1.0, margin=0.0)
    with pytest.raises(ConnectionError), limiter.slot():
        raise ConnectionError("boom")
    clock.now += 1.0
    assert backend.acquire("k", 1, 1.0) == 0.0  # dated at the failure, not held for minutes


async def test_a_plain_with_on_the_async_slot_raises_instead_of_blocking_the_loop() -> None:
    limiter = RateLimiter(MemoryBackend(), "aslot-sync-with", limit=1, window=60.0)
    with pytest.raises(TypeError, match="async with"), limiter.aslot():
        pass
    assert limiter.stats().admitted == 0  # nothing was admitted, nothing waits in the loop
    async with limiter.aslot():
        pass
    assert limiter.stats().admitted == 1
