"""Many waits in one process share one status poller: far fewer calls, never over the limit."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from contextlib import ExitStack
from typing import Any

from nftower import TowerClient, WorkflowStatus
from nftower.monitor import WorkflowMonitor
from nftower.testing import TowerEmulator
from prefect import flow, unmapped
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_nftower import TowerCredentials
from prefect_nftower._watching import (
    PROGRESS_CALLS_PER_SECOND,
    _counted,
    active_waits,
    progress_interval,
)
from prefect_nftower.tasks import await_for_workflow, wait_for_workflow
from tower_helpers import POLL, requests_of

RUNS = 12
LONG = {"emulator_duration": 200}  # ~4 s real at the emulator's speed: many poll cycles


def launch_runs(credentials: TowerCredentials, count: int) -> list[str]:
    with TowerClient(config=credentials.get_config()) as client:
        return [client.launch("hello", params=LONG, run_name=f"batch-{i}") for i in range(count)]


def status_calls(emulator: TowerEmulator, token: str, since: float) -> list[Any]:
    """Reads of runs made after `since`: describes, list pages and progress."""
    return [
        r
        for r in requests_of(emulator, token)
        if r.time >= since and r.method == "GET" and r.path.startswith("/workflow")
    ]


def test_concurrent_waits_in_one_flow_share_one_poller(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    ids = launch_runs(credentials, RUNS)
    since = time.time()

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=RUNS))
    def watch_all(credentials: TowerCredentials, ids: list[str]) -> list[Any]:
        futures = wait_for_workflow.map(unmapped(credentials), ids, poll_interval=POLL)
        return [future.result() for future in futures]

    workflows = watch_all(credentials, ids)

    assert [w.status for w in workflows] == [WorkflowStatus.SUCCEEDED] * RUNS
    stats = WorkflowMonitor.shared(credentials.get_config()).stats()
    calls = status_calls(emulator, token, since)
    describes = Counter(r.path for r in calls if r.path.removeprefix("/workflow/") in ids)
    print(f"{RUNS} waits: {len(calls)} status calls, {stats}")
    # A loop per run would describe every run once per cycle; the shared poller describes a
    # run when its wait starts and when it leaves the running list, and pages through the
    # list once or twice per cycle for all of them.
    assert stats.cycles > 3
    assert max(describes.values()) <= 3
    assert stats.list_calls <= 2 * stats.cycles
    assert len(calls) * 2 <= RUNS * stats.cycles
    assert emulator.max_calls_in_window(1.0, token=token) <= 20
    assert not [r for r in requests_of(emulator, token) if r.status == 429]


async def test_concurrent_async_waits_share_one_poller(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    ids = launch_runs(credentials, 4)
    since = time.time()

    @flow
    async def watch_all(credentials: TowerCredentials, ids: list[str]) -> list[Any]:
        waits = [await_for_workflow(credentials, i, poll_interval=POLL) for i in ids]
        return list(await asyncio.gather(*waits))

    workflows = await watch_all(credentials, ids)

    assert {w.status for w in workflows} == {WorkflowStatus.SUCCEEDED}
    stats = WorkflowMonitor.shared(credentials.get_config()).stats()
    describes_per_run = {
        i: sum(r.path == f"/workflow/{i}" for r in status_calls(emulator, token, since))
        for i in ids
    }
    # each run is described when its wait starts and when it leaves the running list, not
    # once per cycle as a loop of its own would
    assert stats.cycles > 3
    assert max(describes_per_run.values()) <= 3


def test_progress_is_read_at_a_modest_pace(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    (run,) = launch_runs(credentials, 1)
    since = time.monotonic(), time.time()

    @flow
    def watch(credentials: TowerCredentials, run: str) -> Any:
        return wait_for_workflow(credentials, run, poll_interval=POLL)

    assert watch(credentials, run).status == WorkflowStatus.SUCCEEDED
    seconds = time.monotonic() - since[0]
    progress_reads = [
        r for r in status_calls(emulator, token, since[1]) if r.path == f"/workflow/{run}/progress"
    ]
    # one wait alone: at most one read per second (its poll interval is shorter)
    assert 1 <= len(progress_reads) <= seconds * PROGRESS_CALLS_PER_SECOND + 1


def test_progress_pace_slows_down_as_waits_add_up() -> None:
    assert progress_interval(30.0) == 30.0
    with ExitStack() as waits:
        for _ in range(120):
            waits.enter_context(_counted())
        assert active_waits() == 120
        # 120 waits share the budget: each reads its progress every 120 s
        assert progress_interval(30.0) == 120.0 / PROGRESS_CALLS_PER_SECOND
    assert active_waits() == 0
