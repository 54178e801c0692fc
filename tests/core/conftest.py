"""Fixtures for the core client tests.

``tower`` is a client of the ``tower_emulator`` fixture, parametrised over ``TowerClient`` and
``AsyncTowerClient``: the async client is wrapped so that each coroutine runs to completion on
the test's own event loop, so every behaviour test is written once and runs for both clients.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from nftower import AsyncTowerClient, TowerClient
from nftower.ratelimit import reset_limiters
from nftower.testing import TowerEmulator

CLIENT_KINDS = ["sync", "async"]


@pytest.fixture(autouse=True)
def _in_memory_rate_limiter(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets fresh in-process limiters (no host-wide SQLite file)."""
    monkeypatch.setenv("NFTOWER_RATE_LIMIT_BACKEND", "memory://")
    for name in ("TOWER_API_ENDPOINT", "TOWER_ACCESS_TOKEN", "TOWER_WORKSPACE_ID"):
        monkeypatch.delenv(name, raising=False)
    reset_limiters()
    yield
    reset_limiters()


class SyncFacade:
    """Runs an ``AsyncTowerClient`` on a private event loop behind a synchronous interface."""

    def __init__(self, client: AsyncTowerClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if inspect.isasyncgenfunction(attr):

            def listing(*args: Any, **kwargs: Any) -> Iterator[Any]:
                return iter(self.loop.run_until_complete(_collect(attr(*args, **kwargs))))

            return listing
        if inspect.iscoroutinefunction(attr):

            def call(*args: Any, **kwargs: Any) -> Any:
                return self.loop.run_until_complete(attr(*args, **kwargs))

            return call
        return attr

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())


async def _collect(items: Any) -> list[Any]:
    return [item async for item in items]


ClientFactory = Callable[..., Any]


@pytest.fixture(params=CLIENT_KINDS)
def client_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_client(client_kind: str) -> Iterator[ClientFactory]:
    """Build a client of the current kind (``sync`` or ``async`` behind :class:`SyncFacade`)."""
    made: list[Any] = []
    loop = asyncio.new_event_loop() if client_kind == "async" else None

    def factory(*args: Any, **kwargs: Any) -> Any:
        if loop is None:
            client: Any = TowerClient(*args, **kwargs)
        else:
            client = SyncFacade(AsyncTowerClient(*args, **kwargs), loop)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()
    if loop is not None:
        loop.close()


@pytest.fixture
def tower(tower_emulator: TowerEmulator, make_client: ClientFactory) -> Any:
    """A client (sync or async) of the emulator's seeded workspace, with short retry delays."""
    return make_client(tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id)


@pytest.fixture
def fast_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record retry sleeps instead of sleeping (both clients)."""
    delays: list[float] = []
    real_async_sleep = asyncio.sleep

    def fake_sleep(seconds: float) -> None:
        delays.append(seconds)

    async def fake_async_sleep(seconds: float, *args: Any) -> Any:
        delays.append(seconds)
        await real_async_sleep(0)

    monkeypatch.setattr("nftower._client.sleep", fake_sleep)
    monkeypatch.setattr("nftower._async_client.sleep", fake_async_sleep)
    return delays
