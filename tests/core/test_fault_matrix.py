"""The fault matrix through the core client (sync and async): ``ensure_run`` then ``follow``,
with each cell's faults on the emulator. One launch per cell, the run followed to its end, and
the log saying what happened (see tests/fault_cells.py and docs/reliability.md)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from fault_cells import (
    CELLS,
    Cell,
    MidWait,
    arm,
    check_log,
    check_refusal,
    faults_left,
    launches,
    quick_backoff,
    vanished_text,
)
from nftower import FollowOutcome, RunNotFoundError, TowerError
from nftower.status import Ending
from nftower.testing import TowerEmulator

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_backoff(monkeypatch)


#: the async client meets every launch and look-up cell through the Prefect tasks (which use
#: it); here it also meets the cells of a wait that loses its connection
ASYNC_TOO = {"read-timeout-mid-wait", "server-gone-mid-wait"}
RUNS = [pytest.param("sync", cell, id=f"sync-{cell.id}") for cell in CELLS] + [
    pytest.param("async", cell, id=f"async-{cell.id}") for cell in CELLS if cell.id in ASYNC_TOO
]


def ensure_and_follow(tower: Any, cell: Cell, run_name: str) -> FollowOutcome:
    """What a nightly script does, given ``cell.tries`` tries (a scheduler's retries)."""
    for attempt in range(1, cell.tries + 1):
        try:
            handle = tower.ensure_run("hello", run_name=run_name, params=cell.params)
            outcome: FollowOutcome = tower.follow(
                handle.workflow_id, poll_interval=0.1, unknown_timeout=cell.unknown_timeout
            )
            if outcome.kind is Ending.SUCCEEDED or attempt == cell.tries:
                return outcome
        except TowerError:
            if attempt == cell.tries:
                raise
        logging.getLogger("nftower").warning("try %d failed; retrying at once", attempt)
    raise AssertionError("unreachable")


@pytest.mark.parametrize(("client_kind", "cell"), RUNS)
def test_fault_matrix_core(
    client_kind: str,
    cell: Cell,
    tower_emulator: TowerEmulator,
    make_client: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in cell.env.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.INFO, "nftower")
    emu = tower_emulator
    tower = make_client(
        emu.url, emu.token, emu.workspace_id, timeout=cell.timeout, max_retries=cell.max_retries
    )
    arm(emu, cell)
    result: FollowOutcome | TowerError
    with MidWait(emu, cell) as driver:
        try:
            result = ensure_and_follow(tower, cell, f"matrix-{cell.id}")
        except TowerError as error:
            result = error
        assert faults_left(emu) == []  # every fault of the cell hit
    assert driver.error is None
    assert len(launches(emu)) == cell.launches
    if cell.ends == "refused":
        check_refusal(cell, result)
        assert not [r for r in emu.requests if r.path == "/login"]  # never followed
        return
    (launch,) = launches(emu)
    if cell.ends == "vanished":
        assert isinstance(result, RunNotFoundError), result
        assert vanished_text(launch.workflow_id) in str(result)
    else:
        assert isinstance(result, FollowOutcome), result
        assert result.workflow_id == launch.workflow_id
        if cell.ends == "succeeded":
            assert result.kind is Ending.SUCCEEDED
        else:
            assert result.kind is Ending.UNKNOWN
            assert "Tower has lost track of it" in result.explain()
            assert re.search(r"Reattaching to run \S+ \(\w+\), UNKNOWN", caplog.text)
    check_log(cell, caplog.text)
