"""WorkflowMonitor against the emulator: batching, change detection, sharing, errors."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
from collections.abc import Iterator

import pytest
from nftower import (
    AuthenticationError,
    NotFoundError,
    TowerClient,
    TowerConfig,
    WaitTimeoutError,
    Workflow,
    WorkflowStatus,
)
from nftower.monitor import WorkflowMonitor
from nftower.ratelimit import reset_limiters
from nftower.testing import TowerEmulator

POLL = 0.05


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    reset_limiters()
    yield
    WorkflowMonitor.close_all()
    reset_limiters()


def monitor_config(emu: TowerEmulator, **changes: object) -> TowerConfig:
    """A configuration with a token of its own, so the monitor's calls can be counted."""
    token = secrets.token_hex(12)
    emu.add_token(token)
    settings: dict = {"api_url": emu.url, "token": token, "workspace": emu.workspace_id}
    settings["rate_limit_backend"] = "memory://"
    return TowerConfig(**(settings | changes))


def launch_hanging(emu: TowerEmulator, count: int) -> list[str]:
    with TowerClient(emu.url, emu.token, emu.workspace_id, rate_limit_backend="memory://") as c:
        return [c.launch("hello", params={"emulator_outcome": "hang"}) for _ in range(count)]


def calls_by(emu: TowerEmulator, config: TowerConfig) -> list[str]:
    wanted = hashlib.sha256(config.token.encode()).hexdigest()
    return [r.path for r in emu.requests if r.token_hash == wanted]


async def follow(
    monitor: WorkflowMonitor, run: str, seen: dict[str, list[str]], running: asyncio.Event
) -> None:
    async for workflow in monitor.watch(run):
        assert workflow.status is not None
        seen.setdefault(run, []).append(workflow.status.value)
        if workflow.status is WorkflowStatus.RUNNING:
            running.set()


async def test_many_runs_are_checked_in_batches_and_changes_are_seen(
    tower_emulator: TowerEmulator,
) -> None:
    emu = tower_emulator
    runs = launch_hanging(emu, 12)
    config = monitor_config(emu)
    monitor = WorkflowMonitor.shared(config, poll_interval=POLL)
    seen: dict[str, list[str]] = {}
    running = {run: asyncio.Event() for run in runs}
    watchers = [asyncio.create_task(follow(monitor, run, seen, running[run])) for run in runs]
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in running.values())), 30)
    finals = {runs[0]: "SUCCEEDED", runs[1]: "FAILED", runs[2]: "CANCELLED"}
    for run, status in finals.items():
        emu.set_status(run, status)
    await asyncio.wait_for(asyncio.gather(*watchers[:3]), 30)
    for run, status in finals.items():
        assert seen[run][-1] == status
        assert len(seen[run]) == len(set(seen[run]))  # one event per change
    for task in watchers[3:]:
        task.cancel()
    monitor.close()
    stats = monitor.stats()
    calls = calls_by(emu, config)
    # Per cycle: list pages, not one call per run; describes only for runs that moved on.
    assert stats.cycles >= 2
    assert len(calls) <= 2 * stats.cycles + len(finals) + 2
    assert len(calls) < len(runs) * stats.cycles / 3
    assert calls.count("/workflow") >= stats.cycles
    describes = [path for path in calls if path.startswith("/workflow/")]
    assert len(describes) <= len(finals) + 2


async def test_wait_returns_the_finished_run(tower_emulator: TowerEmulator) -> None:
    emu = tower_emulator
    with TowerClient(emu.url, emu.token, emu.workspace_id, rate_limit_backend="memory://") as c:
        run = c.launch("hello", params={"emulator_duration": 2})
    changes: list[Workflow] = []
    monitor = WorkflowMonitor.shared(monitor_config(emu), poll_interval=POLL)
    final = await monitor.wait(run, timeout=60, on_change=changes.append)
    assert final.status is WorkflowStatus.SUCCEEDED
    assert final.id == run
    assert changes[-1] is final


async def test_wait_timeout_raises_with_the_last_status(tower_emulator: TowerEmulator) -> None:
    run = launch_hanging(tower_emulator, 1)[0]
    monitor = WorkflowMonitor.shared(monitor_config(tower_emulator), poll_interval=POLL)
    with pytest.raises(WaitTimeoutError) as caught:
        await monitor.wait(run, timeout=0.5)
    assert caught.value.workflow_id == run
    assert caught.value.last_status in ("SUBMITTED", "RUNNING")


async def test_unknown_for_too_long_ends_the_wait(tower_emulator: TowerEmulator) -> None:
    run = launch_hanging(tower_emulator, 1)[0]
    tower_emulator.set_status(run, "UNKNOWN")
    monitor = WorkflowMonitor.shared(monitor_config(tower_emulator), poll_interval=POLL)
    final = await monitor.wait(run, timeout=60, unknown_timeout=0.3)
    assert final.status is WorkflowStatus.UNKNOWN


def test_one_shared_monitor_per_url_token_and_workspace(tower_emulator: TowerEmulator) -> None:
    config = monitor_config(tower_emulator)
    first = WorkflowMonitor.shared(config, poll_interval=10)
    assert WorkflowMonitor.shared(config.replace(timeout=5.0), poll_interval=2) is first
    assert first.poll_interval == 2  # the shortest interval asked for wins
    assert WorkflowMonitor.shared(config.replace(workspace=None)) is not first
    assert WorkflowMonitor.shared(monitor_config(tower_emulator)) is not first
    assert config.token not in repr(first)


def test_watchers_on_several_event_loops_share_one_poller(tower_emulator: TowerEmulator) -> None:
    emu = tower_emulator
    runs = launch_hanging(emu, 4)
    monitor = WorkflowMonitor.shared(monitor_config(emu), poll_interval=POLL)
    results: dict[str, str] = {}

    def thread_main(run: str) -> None:
        async def main() -> None:
            final = await monitor.wait(run, timeout=60)
            assert final.status is not None
            results[run] = final.status.value

        asyncio.run(main())

    threads = [threading.Thread(target=thread_main, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for run in runs:
        emu.set_status(run, "SUCCEEDED")
    for thread in threads:
        thread.join(timeout=60)
    assert results == dict.fromkeys(runs, "SUCCEEDED")


async def test_transient_poll_failures_are_retried(tower_emulator: TowerEmulator) -> None:
    emu = tower_emulator
    run = launch_hanging(emu, 1)[0]
    monitor = WorkflowMonitor.shared(monitor_config(emu, max_retries=0), poll_interval=POLL)
    emu.inject("status", path=r"^/workflow", status=503, times=2)
    emu.set_status(run, "FAILED")
    final = await monitor.wait(run, timeout=60)
    assert final.status is WorkflowStatus.FAILED
    assert monitor.stats().errors >= 1


async def test_persistent_failures_reach_the_watcher(tower_emulator: TowerEmulator) -> None:
    emu = tower_emulator
    run = launch_hanging(emu, 1)[0]
    monitor = WorkflowMonitor(monitor_config(emu, max_retries=0), poll_interval=POLL, max_errors=3)
    emu.inject("status", path=r"^/workflow", status=503, times=None)
    with pytest.raises(Exception, match="503"):
        await monitor.wait(run, timeout=60)
    monitor.close()


async def test_a_bad_token_fails_watchers_at_once(tower_emulator: TowerEmulator) -> None:
    run = launch_hanging(tower_emulator, 1)[0]
    config = TowerConfig(
        api_url=tower_emulator.url, token="not-a-valid-token", workspace=tower_emulator.workspace_id
    )
    monitor = WorkflowMonitor.shared(config, poll_interval=POLL)
    with pytest.raises(AuthenticationError):
        await monitor.wait(run, timeout=60)
    assert monitor.stats().errors == 1


async def test_an_unknown_run_fails_only_its_watcher(tower_emulator: TowerEmulator) -> None:
    run = launch_hanging(tower_emulator, 1)[0]
    monitor = WorkflowMonitor.shared(monitor_config(tower_emulator), poll_interval=POLL)
    good = asyncio.create_task(monitor.wait(run, timeout=60))
    with pytest.raises(NotFoundError):
        await monitor.wait("noSuchRun000000", timeout=60)
    tower_emulator.set_status(run, "SUCCEEDED")
    assert (await good).status is WorkflowStatus.SUCCEEDED
