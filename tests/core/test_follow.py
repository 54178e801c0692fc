"""The one rule of following a run (``_follow.Follower``), pinned here once; the client and the
monitor both end by it."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys

import pytest
from nftower import FollowRules, TowerClient, TowerConfig, TowerConfigError, Workflow
from nftower._follow import Follower
from nftower.monitor import WorkflowMonitor
from nftower.status import Ending
from nftower.testing import TowerEmulator


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(status: str | None) -> Workflow:
    return Workflow(id="w", status=status)


def follower(clock: Clock, **rules: object) -> Follower:
    return Follower("w", FollowRules(**rules), clock)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "target", "kind"),
    [
        ("SUCCEEDED", "SUCCEEDED", Ending.SUCCEEDED),
        ("FAILED", "SUCCEEDED", Ending.FAILED),
        ("CANCELLED", "SUCCEEDED", Ending.CANCELLED),
        ("RUNNING", "RUNNING", Ending.SUCCEEDED),
        ("SUCCEEDED", "RUNNING", Ending.SUCCEEDED),  # passed the target between two checks
        ("RUNNING", "SUCCEEDED", None),
        ("SUBMITTED", "RUNNING", None),
    ],
)
def test_a_status_ends_the_follow_or_not(status: str, target: str, kind: Ending | None) -> None:
    outcome = follower(Clock(), target=target).observe(run(status))
    assert (outcome.kind if outcome else None) == kind
    if outcome is not None:
        assert outcome.workflow is not None
        assert outcome.status == status


@pytest.mark.parametrize("status", ["UNKNOWN", None, "SOMETHING_NEW"])
def test_neither_active_nor_finished_for_unknown_timeout_ends_it(status: str | None) -> None:
    clock = Clock()
    follow = follower(clock, unknown_timeout=60.0)
    assert follow.observe(run(status)) is None
    clock.now = 59.0
    assert follow.check() is None
    assert follow.time_left() == pytest.approx(1.0)
    clock.now = 60.0
    outcome = follow.check()
    assert outcome is not None
    assert (outcome.kind, outcome.unknown_for, outcome.waited) == (Ending.UNKNOWN, 60.0, 60.0)


def test_an_active_status_resets_the_unknown_count() -> None:
    clock = Clock()
    follow = follower(clock, unknown_timeout=60.0)
    follow.observe(run("UNKNOWN"))
    clock.now = 50.0
    assert follow.observe(run("RUNNING")) is None
    assert follow.time_left() is None  # no limit left: no deadline, not UNKNOWN
    clock.now = 55.0
    follow.observe(run("UNKNOWN"))
    clock.now = 110.0
    assert follow.check() is None
    clock.now = 115.0
    outcome = follow.check()
    assert outcome is not None
    assert (outcome.kind, outcome.unknown_for) == (Ending.UNKNOWN, 60.0)


def test_the_deadline_ends_it_with_the_last_run_and_cuts_the_last_sleep() -> None:
    clock = Clock()
    follow = follower(clock, poll_interval=30.0, timeout=100.0)
    assert follow.check() is None
    assert follow.next_poll() == 30.0
    follow.observe(run("RUNNING"))
    clock.now = 90.0
    assert follow.next_poll() == 10.0
    clock.now = 100.0
    outcome = follow.check()
    assert outcome is not None
    assert (outcome.kind, outcome.status, outcome.waited) == (Ending.DEADLINE, "RUNNING", 100.0)


def test_a_deadline_before_any_status_has_no_run() -> None:
    clock = Clock()
    follow = follower(clock, timeout=5.0)
    clock.now = 5.0
    outcome = follow.check()
    assert outcome is not None
    assert (outcome.kind, outcome.workflow, outcome.status) == (Ending.DEADLINE, None, None)


def test_unknown_too_long_comes_before_the_deadline_when_both_passed() -> None:
    clock = Clock()
    follow = follower(clock, timeout=30.0, unknown_timeout=10.0)
    follow.observe(run("UNKNOWN"))
    clock.now = 40.0
    outcome = follow.check()
    assert outcome is not None
    assert outcome.kind is Ending.UNKNOWN


def test_is_change_is_true_for_the_first_status_and_each_new_one() -> None:
    follow = follower(Clock())
    assert follow.is_change(run(None))
    follow.observe(run(None))
    assert not follow.is_change(run(None))
    assert follow.is_change(run("RUNNING"))


def counted(status: str, **load: int) -> Workflow:
    return Workflow.model_validate(
        {"workflow": {"id": "w", "status": status}, "progress": {"workflowProgress": load}}
    )


def test_is_change_is_true_for_each_change_of_the_task_counts() -> None:
    follow = follower(Clock())
    follow.observe(counted("RUNNING", running=1, pending=2))
    assert not follow.is_change(counted("RUNNING", running=1, pending=2))
    assert follow.is_change(counted("RUNNING", running=1, succeeded=1, pending=1))
    follow.observe(counted("RUNNING", running=1, succeeded=1, pending=1))
    # a reading without progress (a list answer) is no change of the counts
    assert not follow.is_change(run("RUNNING"))


def test_client_follow_reports_each_change_of_the_counts_once(tower: TowerClient) -> None:
    """One on_change per status or count change, never two for the same reading (the
    emulator's rnaseq run moves its tasks over many polls)."""
    from nftower import TaskCounts

    seen: list[tuple[str, TaskCounts | None]] = []

    def on_change(workflow: Workflow) -> None:
        status = workflow.status.value if workflow.status else "?"
        seen.append((status, TaskCounts.of(workflow)))

    workflow_id = tower.launch("rnaseq")
    outcome = tower.follow(workflow_id, poll_interval=0.05, on_change=on_change)
    assert outcome.kind is Ending.SUCCEEDED
    assert all(a != b for a, b in itertools.pairwise(seen)), seen  # no repeated line
    statuses = {status for status, _ in seen}
    assert len(seen) > len(statuses), seen  # counts changed while the status did not
    last = seen[-1][1]
    assert last is not None
    assert last.succeeded + last.cached == last.total


@pytest.mark.parametrize(
    "rules",
    [{"poll_interval": 0}, {"timeout": -1}, {"unknown_timeout": -1}, {"target": "DONE"}],
)
def test_bad_rules_fail_before_any_call(rules: dict[str, object]) -> None:
    with pytest.raises(TowerConfigError):
        FollowRules(**rules)  # type: ignore[arg-type]


async def test_the_client_and_the_monitor_end_by_the_same_rule(
    tower_emulator: TowerEmulator,
) -> None:
    config = TowerConfig(
        api_url=tower_emulator.url,
        token=tower_emulator.token,
        workspace=tower_emulator.workspace_id,
    )
    with TowerClient(config=config) as client:
        ids = {
            outcome: client.launch("hello", params={"emulator_outcome": outcome})
            for outcome in ("succeed", "fail", "unknown", "hang")
        }
        expected = {
            "succeed": Ending.SUCCEEDED,
            "fail": Ending.FAILED,
            "unknown": Ending.UNKNOWN,
            "hang": Ending.DEADLINE,
        }
        rules = {"timeout": 1.5, "unknown_timeout": 0.5}
        by_client = {
            name: client.follow(wid, poll_interval=0.1, **rules).kind for name, wid in ids.items()
        }
    monitor = WorkflowMonitor(config, poll_interval=0.1)
    try:
        outcomes = await asyncio.gather(*(monitor.follow(wid, **rules) for wid in ids.values()))
        by_monitor = {name: outcome.kind for name, outcome in zip(ids, outcomes, strict=True)}
    finally:
        monitor.close()
    assert by_client == by_monitor == expected


def test_the_status_module_imports_nothing_else() -> None:
    code = (
        "import sys, nftower.status;"
        "print(sorted(m for m in ('pydantic', 'httpx', 'nftower._models') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
