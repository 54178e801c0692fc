"""The fault matrix through Prefect: a flow of ``launch_workflow`` and ``wait_for_workflow``
(with a flow retry at no delay where the cell needs one), against the suite's one emulator and
Prefect server. One launch per cell, the flow run in the right state, and the log saying what
happened (see tests/fault_cells.py and docs/reliability.md)."""

from __future__ import annotations

import logging
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
from nftower import RunNotFoundError, TowerConfig, Workflow
from nftower.testing import TowerEmulator
from prefect import flow
from prefect_nftower import TowerCredentials
from prefect_nftower.tasks import launch_workflow, wait_for_workflow

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_backoff(monkeypatch)


def _use(cell: Cell, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients with the cell's timeout and retries (the credentials block has no max_retries
    field), and the cell's environment."""
    original = TowerCredentials.get_config

    def get_config(self: TowerCredentials) -> TowerConfig:
        return original(self).replace(timeout=cell.timeout, max_retries=cell.max_retries)

    monkeypatch.setattr(TowerCredentials, "get_config", get_config)
    for name, value in cell.env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.id)
def test_fault_matrix_prefect_flow(
    cell: Cell,
    credentials: TowerCredentials,
    emulator: TowerEmulator,
    token: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use(cell, monkeypatch)
    caplog.set_level(logging.INFO, "nftower")

    @flow(retries=cell.tries - 1, retry_delay_seconds=0)
    def nightly(credentials: TowerCredentials) -> Workflow:
        workflow_id = launch_workflow(credentials, "hello", params=cell.params)
        return wait_for_workflow(
            credentials, workflow_id, poll_interval=0.1, unknown_timeout=cell.unknown_timeout
        )

    arm(emulator, cell)
    with MidWait(emulator, cell, token) as driver:
        state: Any = nightly(credentials, return_state=True)
        assert faults_left(emulator) == []
    assert driver.error is None
    assert len(launches(emulator, token)) == cell.launches
    if cell.ends == "refused":
        assert state.is_failed()
        check_refusal(cell, state.result(raise_on_failure=False))
        return
    (launch,) = launches(emulator, token)
    if cell.ends == "succeeded":
        assert state.is_completed(), state
        assert state.result().id == launch.workflow_id
    else:
        assert state.is_failed()
        error = state.result(raise_on_failure=False)
        if cell.ends == "unknown":
            assert "ended UNKNOWN" in str(error)
        else:
            assert isinstance(error, RunNotFoundError), error
            assert vanished_text(launch.workflow_id) in str(error)
    check_log(cell, caplog.text)
