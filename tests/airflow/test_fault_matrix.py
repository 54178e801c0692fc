"""The fault matrix through Airflow: ``TowerLaunchOperator`` waiting in the worker (a second try
where the cell needs Airflow's retry), and ``TowerRunTrigger`` watching a run in the
triggerer's event loop. One launch per cell, the task or event in the right state, and the log
saying what happened (see tests/fault_cells.py and docs/reliability.md)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from airflow_harness import FakeStateStore, FakeTaskInstance, conn_json, launch_run, make_context
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
from nftower import RunNotFoundError, TowerError
from nftower.testing import TowerEmulator
from nftower_airflow.exceptions import TowerRunFailedError
from nftower_airflow.operators import TowerLaunchOperator
from nftower_airflow.triggers import TowerRunTrigger

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_backoff(monkeypatch)


#: cells the trigger meets: it only watches a run launched before (no launch or look-up of
#: its own, so no answer refused before a launch)
WATCHED = [
    cell
    for cell in CELLS
    if (cell.phase != "launch" and cell.ends != "refused") or cell.id == "run-stuck-unknown"
]


def _use(cell: Cell, emu: TowerEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection with the cell's client options, and the cell's environment."""
    extra = {"timeout": cell.timeout, "max_retries": cell.max_retries}
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", conn_json(emu, **extra))
    for name, value in cell.env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.id)
def test_fault_matrix_airflow_operator(
    cell: Cell,
    tower_conn: TowerEmulator,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu = tower_conn
    _use(cell, emu, monkeypatch)
    caplog.set_level(logging.INFO, "nftower")
    store = FakeStateStore()
    arm(emu, cell)
    result: Any = None
    with MidWait(emu, cell) as driver:
        for try_number in range(1, cell.tries + 1):
            operator = TowerLaunchOperator(
                task_id="matrix",
                pipeline="hello",
                pipeline_params=cell.params,
                poll_interval=0.1,
                unknown_timeout=cell.unknown_timeout,
            )
            context = make_context(FakeTaskInstance(try_number=try_number), store=store)
            try:
                result = operator.execute(context)
                break
            except (TowerError, TowerRunFailedError) as error:
                result = error
                if try_number == cell.tries:
                    break
        assert faults_left(emu) == []
    assert driver.error is None
    assert len(launches(emu)) == cell.launches
    if cell.ends == "refused":
        check_refusal(cell, result)
        return
    (launch,) = launches(emu)
    if cell.ends == "succeeded":
        assert result == launch.workflow_id
    elif cell.ends == "unknown":
        assert isinstance(result, TowerRunFailedError)
        assert "reported status UNKNOWN" in str(result)
        assert re.search(r"Reattaching to run \S+ \(\w+\), UNKNOWN", caplog.text)
    else:
        assert isinstance(result, RunNotFoundError), result
        assert vanished_text(launch.workflow_id) in str(result)
    check_log(cell, caplog.text)


@pytest.mark.parametrize("cell", WATCHED, ids=lambda cell: cell.id)
async def test_fault_matrix_airflow_trigger(
    cell: Cell,
    tower_conn: TowerEmulator,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu = tower_conn
    _use(cell, emu, monkeypatch)
    caplog.set_level(logging.INFO, "nftower")
    workflow_id = launch_run(emu, **cell.params)
    arm(emu, cell)
    trigger = TowerRunTrigger(
        workflow_id=workflow_id, poll_interval=0.1, unknown_timeout=cell.unknown_timeout
    )
    with MidWait(emu, cell) as driver:
        events = [event.payload async for event in trigger.run()]
        assert faults_left(emu) == []
    assert driver.error is None
    assert len(launches(emu)) == 1
    (event,) = events
    if cell.ends == "succeeded":
        assert (event["status"], event["workflow_status"]) == ("success", "SUCCEEDED")
    elif cell.ends == "unknown":
        assert (event["status"], event["workflow_status"]) == ("failed", "UNKNOWN")
    else:
        assert event["status"] == "error", event
        assert vanished_text(workflow_id) in event["message"]
    if cell.phase != "launch":
        check_log(cell, caplog.text)
