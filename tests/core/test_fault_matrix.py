"""The fault matrix through the core client (sync and async): ``ensure_run`` then ``follow``,
with each cell's faults on the emulator. One launch per cell, the run followed to its end, and
the log saying what happened (see tests/fault_cells.py and docs/reliability.md)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fault_cells import CELLS, Cell, MidWait, arm, check_log, faults_left, launches
from nftower import FollowOutcome, TowerError
from nftower.status import Ending
from nftower.testing import TowerEmulator

pytestmark = pytest.mark.timeout(120)

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
    with MidWait(emu, cell) as driver:
        outcome = ensure_and_follow(tower, cell, f"matrix-{cell.id}")
        assert faults_left(emu) == []  # every fault of the cell hit
    assert driver.error is None
    (launch,) = launches(emu)
    assert outcome.workflow_id == launch.workflow_id
    if cell.succeeds:
        assert outcome.kind is Ending.SUCCEEDED
    else:
        assert outcome.kind is Ending.UNKNOWN
        assert "Tower has lost track of it" in outcome.explain()
    check_log(cell, caplog.text)
