"""A 429 on the launch POST is waited out and retried (Tower refused it before handling it),
and a transient 500 on ensure_run's look-up does not fail the launch: each case against the
emulator over HTTP, with the emulator's launch count as the judge."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from nftower import RateLimitError, ServerError
from nftower._retry import MAX_500_RETRIES, RETRY_AFTER_CAP
from nftower.ratelimit import RateLimiter
from nftower.testing import TowerEmulator

LAUNCH_PATH = r"^/workflow/launch$"
RUNS_PATH = r"^/workflow$"


def launch_answers(emu: TowerEmulator) -> list[int | None]:
    return [r.status for r in emu.requests if (r.method, r.path) == ("POST", "/workflow/launch")]


@pytest.fixture
def no_limiter_pause(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """What the client reports to the limiter after a 429, without the shared pause (which
    would really sleep for the capped Retry-After)."""
    reported: list[float | None] = []
    monkeypatch.setattr(
        RateLimiter,
        "report_rate_limited",
        lambda self, retry_after=None: reported.append(retry_after),
    )
    return reported


def test_a_429_on_the_launch_post_is_retried_after_its_wait(
    tower: Any, tower_emulator: TowerEmulator, fast_sleep: list[float]
) -> None:
    tower_emulator.inject("rate_limit", method="POST", path=LAUNCH_PATH, times=2, retry_after=0.2)
    workflow_id = tower.launch("hello", run_name="limited-1")
    assert tower.get_workflow(workflow_id).run_name == "limited-1"
    assert launch_answers(tower_emulator) == [429, 429, 200]
    assert len(tower_emulator.launches) == 1
    assert fast_sleep == [0.2, 0.2]


def test_ensure_run_rides_out_a_429_storm_on_the_launch_post(
    tower: Any, tower_emulator: TowerEmulator, fast_sleep: list[float]
) -> None:
    tower_emulator.inject("rate_limit", method="POST", path=LAUNCH_PATH, times=4, retry_after=0.1)
    handle = tower.ensure_run("hello", run_name="limited-storm")
    assert handle.action == "launched"
    assert launch_answers(tower_emulator) == [429, 429, 429, 429, 200]
    assert len(tower_emulator.launches) == 1


def test_a_huge_retry_after_on_the_launch_is_capped_and_logged(
    tower: Any,
    tower_emulator: TowerEmulator,
    fast_sleep: list[float],
    no_limiter_pause: list[float | None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    tower_emulator.inject("rate_limit", method="POST", path=LAUNCH_PATH, retry_after=3600)
    with caplog.at_level(logging.WARNING, logger="nftower"):
        tower.ensure_run("hello", run_name="limited-huge")
    assert fast_sleep == [RETRY_AFTER_CAP] == [60.0]
    assert no_limiter_pause == [3600.0]
    assert len(tower_emulator.launches) == 1
    messages = [r.getMessage() for r in caplog.records]
    waits = [m for m in messages if m.startswith("Retrying POST /workflow/launch")]
    assert len(waits) == 1
    assert "in 60.00 s (Tower asked for 3600 s; waits are capped)" in waits[0]
    assert "Maximum request rate exceeded" in waits[0]
    assert tower_emulator.token not in caplog.text


def test_a_launch_429_is_a_rate_limit_error_only_once_retries_are_spent(
    tower_emulator: TowerEmulator, make_client: Any, fast_sleep: list[float]
) -> None:
    emu = tower_emulator
    tower = make_client(emu.url, emu.token, emu.workspace_id, max_retries=2)
    emu.inject("rate_limit", method="POST", path=LAUNCH_PATH, times=None, retry_after=0.1)
    with pytest.raises(RateLimitError) as caught:
        tower.ensure_run("hello", run_name="limited-out")
    assert caught.value.operation == "POST /workflow/launch"
    assert launch_answers(emu) == [429, 429, 429]
    assert emu.launches == []
    emu.clear_faults()
    assert tower.ensure_run("hello", run_name="limited-out").action == "launched"
    assert len(emu.launches) == 1


@pytest.mark.parametrize("blips", range(1, MAX_500_RETRIES + 1))
def test_transient_500s_on_the_ensure_run_lookup_are_ridden_out(
    tower: Any, tower_emulator: TowerEmulator, fast_sleep: list[float], blips: int
) -> None:
    tower_emulator.inject("status", method="GET", path=RUNS_PATH, status=500, times=blips)
    handle = tower.ensure_run("hello", run_name=f"lookup-blip-{blips}")
    assert handle.action == "launched"
    assert len(tower_emulator.launches) == 1
    assert len(fast_sleep) == blips


def test_a_500_that_persists_on_the_lookup_launches_nothing(
    tower: Any, tower_emulator: TowerEmulator, fast_sleep: list[float]
) -> None:
    tower_emulator.inject("status", method="GET", path=RUNS_PATH, status=500, times=None)
    with pytest.raises(ServerError) as caught:
        tower.ensure_run("hello", run_name="lookup-down")
    assert caught.value.error_id  # Tower's "Oops..." carries one
    assert "Oops... Unable to process request" in str(caught.value)
    assert tower_emulator.launches == []


def test_the_retry_warnings_of_a_500_count_its_own_attempts(
    tower: Any,
    tower_emulator: TowerEmulator,
    fast_sleep: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    tower_emulator.inject("status", method="GET", path=RUNS_PATH, status=500, times=None)
    with caplog.at_level(logging.WARNING, logger="nftower"), pytest.raises(ServerError):
        tower.ensure_run("hello", run_name="lookup-down-counted")
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Retrying")]
    total = MAX_500_RETRIES + 1  # not the 6 attempts that a 503 gets
    assert len(retries) == MAX_500_RETRIES, retries
    for number, line in enumerate(retries, 1):
        assert f"(attempt {number} of {total} failed)" in line, line
