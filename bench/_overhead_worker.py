"""CPU time per call in a fresh process: ``python -m bench._overhead_worker '<json>'``.

Kinds: ``httpx`` (bare ``httpx.Client`` GET + ``.json()``), ``TowerClient`` and ``async-httpx``
/ ``AsyncTowerClient``; ``backend`` "" = the default, ``reference:<path>`` = one bare SQLite
write per call (``bench._reference``). Prints one JSON line with CPU microseconds per call.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


def _backend(settings: dict[str, Any]) -> str | None:
    """The client's ``rate_limit_backend``: the reference store is set up under its URL."""
    backend: str = settings["backend"]
    if not backend.startswith("reference:"):
        return backend or None
    from nftower.ratelimit import get_limiter

    from ._reference import OneSQLiteUpdate

    store = OneSQLiteUpdate(backend.removeprefix("reference:"))
    get_limiter(
        api_url=settings["url"], token=settings["token"], limit=20, window=0.001, backend=store
    )
    return store.url


def _httpx_options(settings: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {settings['token']}", "Accept": "application/json"}
    return {"base_url": settings["url"], "headers": headers, "timeout": 30.0}


def _client_options(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "api_url": settings["url"],
        "token": settings["token"],
        "rate_limit": 20,
        "rate_limit_window": 0.001,  # the limiter does its full work without pausing the loop
        "rate_limit_backend": _backend(settings),
    }


def _sync(settings: dict[str, Any]) -> float:
    calls = settings["calls"]
    if settings["kind"] == "httpx":
        import httpx

        http = httpx.Client(**_httpx_options(settings))

        def one() -> Any:
            response = http.get("/user-info")
            response.raise_for_status()
            return response.json()
    else:
        from nftower import TowerClient

        client = TowerClient(**_client_options(settings))

        def one() -> Any:
            return client.user_info()

    for _ in range(settings["warmup"]):
        one()
    started = time.process_time()
    for _ in range(calls):
        one()
    return (time.process_time() - started) / int(calls)


async def _async(settings: dict[str, Any]) -> float:
    calls = settings["calls"]
    if settings["kind"] == "async-httpx":
        import httpx

        http = httpx.AsyncClient(**_httpx_options(settings))

        async def one() -> Any:
            response = await http.get("/user-info")
            response.raise_for_status()
            return response.json()
    else:
        from nftower import AsyncTowerClient

        client = AsyncTowerClient(**_client_options(settings))

        async def one() -> Any:
            return await client.user_info()

    for _ in range(settings["warmup"]):
        await one()
    started = time.process_time()
    for _ in range(calls):
        await one()
    return (time.process_time() - started) / int(calls)


if __name__ == "__main__":
    options = json.loads(sys.argv[1])
    if options["kind"].lower().startswith("async"):
        per_call = asyncio.run(_async(options))
    else:
        per_call = _sync(options)
    print(json.dumps({"cpu_us_per_call": round(per_call * 1e6, 1)}))
