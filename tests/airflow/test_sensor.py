"""TowerRunSensor against the emulator: poke, defer, and never pass on a failed run."""

from __future__ import annotations

import time
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowSensorTimeout, TaskDeferred
from airflow_harness import launch_run, make_context
from nftower_airflow.exceptions import TowerRunFailedError, TowerTriggerEventError
from nftower_airflow.links import TowerRunLink
from nftower_airflow.sensors import TowerRunSensor
from nftower_airflow.triggers import TowerRunTrigger

pytestmark = pytest.mark.timeout(120)


def _wait_status(emulator: Any, workflow_id: str, status: str) -> None:
    deadline = time.monotonic() + 30
    while emulator.workflow(workflow_id)["status"] != status and time.monotonic() < deadline:
        time.sleep(0.05)


def _sensor(workflow_id: str, **kwargs: Any) -> TowerRunSensor:
    kwargs.setdefault("poke_interval", 0.1)
    kwargs.setdefault("timeout", 60)
    return TowerRunSensor(task_id="wait", workflow_id=workflow_id, **kwargs)


def test_poke_false_while_running_then_true(tower_conn: Any) -> None:
    workflow_id = launch_run(tower_conn, emulator_duration=3600)
    _wait_status(tower_conn, workflow_id, "RUNNING")
    sensor, context = _sensor(workflow_id), make_context()
    assert sensor.poke(context) is False
    # the run URL is known from the first poke on: XCom for downstream tasks, and the link
    assert context["ti"].xcoms["run_url"].endswith(workflow_id)
    assert TowerRunLink().get_link(sensor, ti_key=None) == context["ti"].xcoms["run_url"]
    assert _sensor(workflow_id, target_status="RUNNING").poke(make_context()) is True
    tower_conn.set_status(workflow_id, "SUCCEEDED")
    assert sensor.poke(context) is True


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED"])
def test_poke_raises_on_failed_or_cancelled(tower_conn: Any, status: str) -> None:
    workflow_id = launch_run(tower_conn, emulator_outcome="hang")
    tower_conn.set_status(workflow_id, status)
    with pytest.raises(TowerRunFailedError, match=status):
        _sensor(workflow_id).poke(make_context())


def test_poke_mode_execute_raises_on_failure(tower_conn: Any) -> None:
    workflow_id = launch_run(tower_conn, emulator_outcome="fail")
    with pytest.raises(TowerRunFailedError):
        _sensor(workflow_id).execute(make_context())


def test_deferrable_defers_with_the_shared_trigger(tower_conn: Any) -> None:
    workflow_id = launch_run(tower_conn, emulator_outcome="hang")
    sensor = _sensor(workflow_id, deferrable=True, target_status="SUCCEEDED", poke_interval=7)
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(make_context())
    trigger = info.value.trigger
    assert isinstance(trigger, TowerRunTrigger)
    assert (trigger.workflow_id, trigger.poll_interval) == (workflow_id, 7.0)
    assert trigger.cancel_on_kill is False  # the sensor does not own the run
    assert trigger.end_time is not None


def test_deferrable_does_not_defer_a_finished_run(tower_conn: Any) -> None:
    workflow_id = launch_run(tower_conn)
    _wait_status(tower_conn, workflow_id, "SUCCEEDED")
    assert _sensor(workflow_id, deferrable=True).execute(make_context()) is None


def test_execute_complete_events(tower_conn: Any) -> None:
    workflow_id = launch_run(tower_conn, emulator_outcome="fail")
    _wait_status(tower_conn, workflow_id, "FAILED")
    sensor = _sensor(workflow_id, deferrable=True)
    sensor.execute_complete(make_context(), {"status": "success", "workflow_id": workflow_id})
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute_complete(make_context(), {"status": "timeout", "workflow_id": workflow_id})
    with pytest.raises(TowerTriggerEventError):
        sensor.execute_complete(make_context(), None)
    with pytest.raises(TowerRunFailedError):
        sensor.execute_complete(make_context(), {"status": "failed", "workflow_id": workflow_id})


def test_bad_target_status() -> None:
    with pytest.raises(ValueError, match="target_status"):
        TowerRunSensor(task_id="wait", workflow_id="abc", target_status="FINISHED")
