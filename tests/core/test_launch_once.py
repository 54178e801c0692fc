"""One run per run name: a slow launch answer, a caller killed mid-launch and callers racing
each produce exactly one run (the emulator's launch count is the judge)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nftower import TowerClient
from nftower.ratelimit import reset_limiters
from nftower.testing import TowerEmulator

pytest_plugins = ["conftest_redis"]

LAUNCH = r"^/workflow/launch$"

# One caller in its own process: ensure_run at a given instant, its handle printed as JSON.
CALLER = """
import json, sys, time
from nftower import TowerClient
url, token, ws, backend, name, start_at, timeout = sys.argv[1:8]
with TowerClient(url, token, int(ws), rate_limit_backend=backend, timeout=float(timeout)) as c:
    time.sleep(max(0.0, float(start_at) - time.time()))
    print(json.dumps(c.ensure_run("hello", run_name=name).model_dump()), flush=True)
"""


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    reset_limiters()
    yield
    reset_limiters()


def caller(
    emu: TowerEmulator, backend: str, name: str, start_at: float, timeout: float = 30.0
) -> subprocess.Popen[str]:
    args = [emu.url, emu.token, str(emu.workspace_id), backend, name, str(start_at), str(timeout)]
    return subprocess.Popen(
        [sys.executable, "-c", CALLER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NFTOWER_RATE_LIMIT_BACKEND": backend},
    )


def handle_of(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def launched_names(emu: TowerEmulator) -> list[str]:
    return [r.json["launch"]["runName"] for r in emu.launches]


@pytest.fixture(params=["file", "sqlite", "redis"])
def shared_backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A host-wide (or cluster-wide) store URL for the limiter, the leases and the records."""
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return f"{request.param}://{tmp_path}/shared.{request.param}"


def test_a_slow_launch_answer_is_waited_for_not_launched_again(
    tower_emulator: TowerEmulator, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Tower takes 3 s to accept the launch; the client gives up after 1 s.
    tower_emulator.inject("delay", method="POST", path=LAUNCH, delay=3.0)
    tower = make_client(
        tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id, timeout=1.0
    )
    handle = tower.ensure_run("hello", run_name="slow-answer")
    assert (handle.action, handle.run_name) == ("launched", "slow-answer")
    again = tower.ensure_run("hello", run_name="slow-answer")  # an immediate retry
    assert (again.action, again.workflow_id) == ("reattached", handle.workflow_id)
    assert launched_names(tower_emulator) == ["slow-answer"]
    assert "outcome of the launch of run slow-answer is unknown" in caplog.text
    assert "looking for the run for up to 60 s" in caplog.text


def test_a_caller_killed_mid_launch_leaves_a_launch_in_flight_that_others_wait_for(
    tower_emulator: TowerEmulator, shared_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    tower_emulator.inject("delay", method="POST", path=LAUNCH, delay=3.0)
    first = caller(tower_emulator, shared_backend, "killed-mid-launch", time.time())
    deadline = time.monotonic() + 30
    while not any(r.path.endswith("/launch") for r in tower_emulator.requests):
        assert time.monotonic() < deadline, first.stderr.read() if first.stderr else ""
        time.sleep(0.05)
    time.sleep(0.7)  # the saved launch was read: the launch request is with Tower now
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    with TowerClient(
        tower_emulator.url,
        tower_emulator.token,
        tower_emulator.workspace_id,
        rate_limit_backend=shared_backend,
    ) as tower:
        handle = tower.ensure_run("hello", run_name="killed-mid-launch")
    assert (handle.action, handle.run_name) == ("reattached", "killed-mid-launch")
    assert launched_names(tower_emulator) == ["killed-mid-launch"]
    assert "has been in flight since" in caplog.text


@pytest.mark.parametrize("trial", range(5))
def test_two_processes_racing_for_one_run_name_make_one_run(
    tower_emulator: TowerEmulator, tmp_path: Path, trial: int
) -> None:
    backend = f"file://{tmp_path}/shared.file"
    name = f"race-{trial}"
    start_at = time.time() + 2.0  # both processes call ensure_run at this instant
    racers = [caller(tower_emulator, backend, name, start_at) for _ in range(2)]
    handles = [handle_of(racer) for racer in racers]
    assert sorted(h["action"] for h in handles) == ["launched", "reattached"]
    assert len({h["workflow_id"] for h in handles}) == 1
    assert launched_names(tower_emulator) == [name]


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_racing_through_the_other_shared_stores_makes_one_run(
    tower_emulator: TowerEmulator, tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    backend = (
        str(request.getfixturevalue("redis_url"))
        if kind == "redis"
        else f"sqlite://{tmp_path}/shared.sqlite"
    )
    start_at = time.time() + 2.0
    racers = [caller(tower_emulator, backend, "race-store", start_at) for _ in range(2)]
    handles = [handle_of(racer) for racer in racers]
    assert len({h["workflow_id"] for h in handles}) == 1
    assert launched_names(tower_emulator) == ["race-store"]


def test_a_launch_in_flight_whose_run_never_appears_is_launched_again_after_the_grace(
    tower_emulator: TowerEmulator, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NFTOWER_LAUNCH_GRACE", "1.0")
    tower_emulator.inject("drop_before", method="POST", path=LAUNCH)  # never reached Tower
    tower = make_client(tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id)
    with pytest.raises(Exception, match="may or may not"):
        tower.ensure_run("hello", run_name="never-arrived")
    handle = tower.ensure_run("hello", run_name="never-arrived")
    assert handle.action == "launched"
    assert launched_names(tower_emulator) == ["never-arrived"]


async def test_an_ensure_run_cancelled_mid_launch_gives_its_lease_back_at_once(
    tower_emulator: TowerEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A task timeout cancels ensure_run while Tower is still taking the launch; the caller
    keeps the exception (as Prefect keeps it in the task state). The next ensure_run of the
    process must not wait for a lease nobody holds: it finds the launch in flight and then
    the run."""
    import asyncio
    import logging

    from nftower import AsyncTowerClient

    caplog.set_level(logging.INFO, logger="nftower")
    tower_emulator.inject("delay", method="POST", path=LAUNCH, delay=2.0)
    emu = tower_emulator
    async with AsyncTowerClient(emu.url, emu.token, emu.workspace_id, timeout=10.0) as tower:
        with pytest.raises(TimeoutError) as cancelled:
            await asyncio.wait_for(tower.ensure_run("hello", run_name="cancelled-1"), 0.5)
        kept = cancelled.value  # its traceback still holds the driver's frame
        handle = await tower.ensure_run("hello", run_name="cancelled-1")
    assert kept.__traceback__ is not None
    assert handle.run_name == "cancelled-1"
    assert launched_names(emu) == ["cancelled-1"]
    assert "is deciding whether to launch it" not in caplog.text
