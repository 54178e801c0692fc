"""UNKNOWN is handled one way everywhere: ensure_run reattaches to a run in UNKNOWN (its head
job may still be running) and never relaunches or resumes it; a wait ends it as a failure
naming the status once it has lasted unknown_timeout (the rule of nftower._follow)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from nftower import TowerConfig, WorkflowFailedError, WorkflowStatus, status
from nftower.monitor import WorkflowMonitor
from nftower.status import Ending
from nftower.testing import TowerEmulator

POLL = 0.05
HANG = {"emulator_outcome": "hang"}


@pytest.mark.parametrize("resume_failed", [True, False])
def test_ensure_run_reattaches_to_an_unknown_run(
    tower: Any,
    tower_emulator: TowerEmulator,
    resume_failed: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = tower.ensure_run("hello", run_name="lost-contact", params=HANG)
    tower_emulator.set_status(first.workflow_id, "UNKNOWN")
    with caplog.at_level(logging.INFO, logger="nftower"):
        again = tower.ensure_run("hello", run_name="lost-contact", resume_failed=resume_failed)
    assert (again.action, again.workflow_id, again.run_name) == (
        "reattached",
        first.workflow_id,
        "lost-contact",
    )
    assert len(tower_emulator.launches) == 1  # neither relaunched nor resumed
    assert "Run lost-contact is UNKNOWN: its head job may still be running" in caplog.text
    tower.cancel(first.workflow_id)


def test_a_reattached_unknown_run_fails_the_wait_naming_the_status(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    first = tower.ensure_run("hello", run_name="lost-for-good", params=HANG)
    tower_emulator.set_status(first.workflow_id, "UNKNOWN")
    handle = tower.ensure_run("hello", run_name="lost-for-good")
    with pytest.raises(WorkflowFailedError) as caught:
        tower.wait(handle.workflow_id, poll_interval=POLL, timeout=60, unknown_timeout=0.3)
    assert caught.value.status == "UNKNOWN"
    assert "has reported status UNKNOWN for" in str(caught.value)
    assert "unknown_timeout=0.3 s" in str(caught.value)
    assert len(tower_emulator.launches) == 1


@pytest.mark.parametrize(
    ("value", "relaunch"),
    [
        ("FAILED", True),
        ("CANCELLED", True),
        ("UNKNOWN", False),
        (None, False),
        ("PAUSED", False),  # a status newer than this client
        ("SUCCEEDED", False),
        ("RUNNING", False),
        ("SUBMITTED", False),
    ],
)
def test_only_a_run_that_ended_badly_is_launched_again(value: str | None, relaunch: bool) -> None:
    assert status.needs_relaunch(value) is relaunch
    assert status.needs_relaunch(WorkflowStatus(value) if value else None) is relaunch


def test_the_client_and_the_monitor_end_an_unknown_run_alike(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    emu = tower_emulator
    workflow_id = tower.launch("hello", params={"emulator_outcome": "unknown"})
    by_client = tower.follow(workflow_id, poll_interval=POLL, timeout=60, unknown_timeout=0.3)
    config = TowerConfig(
        api_url=emu.url, token=emu.token, workspace=emu.workspace_id, rate_limit_backend="memory://"
    )
    monitor = WorkflowMonitor(config, poll_interval=POLL)
    try:
        by_monitor = asyncio.run(monitor.follow(workflow_id, timeout=60, unknown_timeout=0.3))
    finally:
        monitor.close()
    for outcome in (by_client, by_monitor):
        assert (outcome.kind, outcome.status) == (Ending.UNKNOWN, "UNKNOWN")
        assert outcome.unknown_for >= 0.3
        assert "has reported status UNKNOWN" in outcome.explain()
