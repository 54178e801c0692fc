"""The guarantee, as the server sees it: several processes (and threads) sharing one token
through a shared backend never exceed 20 calls in any 1-s window and see no 429."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nftower import TowerClient
from nftower.ratelimit import reset_limiters
from nftower.testing import TowerEmulator

pytest_plugins = ["conftest_redis"]

WORKER = """
import json, sys, time
from nftower import TowerClient, RateLimitError
from nftower.ratelimit import get_limiter
url, token, backend, calls = sys.argv[1], sys.argv[2], sys.argv[3] or None, int(sys.argv[4])
client_429 = 0
with TowerClient(url, token, rate_limit_backend=backend) as client:
    time.sleep(max(0.0, float(sys.argv[5]) - time.time()))  # all processes start together
    for _ in range(calls):
        try:
            client.user_info()
        except RateLimitError:
            client_429 += 1
stats = get_limiter(api_url=url, token=token, backend=backend).stats()
print(json.dumps({"client_429": client_429, "admitted": stats.admitted,
                  "fallback": stats.fallback, "backend": stats.backend}))
"""


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    reset_limiters()
    yield
    reset_limiters()


def run_processes(
    emu: TowerEmulator, backend: str, processes: int, calls: int, env: dict[str, str] | None = None
) -> list[dict]:
    start_at = str(time.time() + 1.0 + 0.5 * processes)
    command = [sys.executable, "-c", WORKER, emu.url, emu.token, backend, str(calls), start_at]
    workers = [
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(processes)
    ]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * processes
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs]


def assert_server_saw_the_limit_kept(emu: TowerEmulator, expected_calls: int) -> None:
    answered = [r for r in emu.requests if r.path == "/user-info"]
    assert len(answered) == expected_calls
    assert [r.status for r in answered if r.status != 200] == []  # no 429 at all
    assert emu.max_calls_in_window(1.0, token=emu.token) <= 20


@pytest.mark.parametrize("kind", ["file", "sqlite", "redis"])
def test_processes_sharing_a_backend_stay_within_the_limit(
    kind: str, tower_emulator: TowerEmulator, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "redis":
        backend = request.getfixturevalue("redis_url")
    else:
        backend = f"{kind}://{tmp_path}/shared.{kind}"
    results = run_processes(tower_emulator, backend, processes=3, calls=25)
    assert [r["client_429"] for r in results] == [0, 0, 0]
    assert [r["fallback"] for r in results] == [False, False, False]
    assert sum(r["admitted"] for r in results) == 75
    assert_server_saw_the_limit_kept(tower_emulator, 75)


def test_processes_share_the_limit_with_no_setup(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NFTOWER_RATE_LIMIT_BACKEND"}
    env["XDG_CACHE_HOME"] = str(tmp_path)  # where the user cache directory is
    results = run_processes(tower_emulator, "", processes=3, calls=25, env=env)
    assert {r["backend"] for r in results} == {f"file://{tmp_path}/nftower/ratelimit.bin"}
    assert [r["client_429"] for r in results] == [0, 0, 0]
    assert [r["fallback"] for r in results] == [False, False, False]
    assert_server_saw_the_limit_kept(tower_emulator, 75)


def test_threads_and_event_loops_of_one_process_share_the_limit(
    tower_emulator: TowerEmulator,
) -> None:
    import asyncio

    from nftower import AsyncTowerClient

    emu = tower_emulator

    def sync_worker() -> None:
        with TowerClient(emu.url, emu.token, rate_limit_backend="memory://") as client:
            for _ in range(10):
                client.user_info()

    def async_worker() -> None:
        async def main() -> None:
            async with AsyncTowerClient(
                emu.url, emu.token, rate_limit_backend="memory://"
            ) as client:
                await asyncio.gather(*(client.user_info() for _ in range(10)))

        asyncio.run(main())

    threads = [threading.Thread(target=t) for t in (sync_worker, sync_worker, async_worker)]
    threads.append(threading.Thread(target=async_worker))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_server_saw_the_limit_kept(emu, 40)


def test_memory_backend_does_not_span_processes(tower_emulator: TowerEmulator) -> None:
    # The counter-example: two processes, each limited alone, together exceed the server's limit.
    results = run_processes(tower_emulator, "memory://", processes=2, calls=20)
    assert sum(r["admitted"] for r in results) >= 40
    assert tower_emulator.max_calls_in_window(1.0, token=tower_emulator.token) > 20
