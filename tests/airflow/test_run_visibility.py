"""A run that is unknown, deleted or hidden (Tower answers 403 for it, as for a bad token) is
named as such by the trigger and the sensor, apart from a bad token, and ends only its own
wait."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from airflow_harness import launch_run, make_context
from emulator_waits import wait_until_running_and_watched
from nftower import RunNotFoundError
from nftower.status import MAX_POLL_ERRORS
from nftower_airflow.sensors import TowerRunSensor
from nftower_airflow.triggers import TowerRunTrigger

pytestmark = pytest.mark.timeout(120)


def delete_run(emulator: Any, workflow_id: str) -> None:
    answer = httpx.delete(
        f"{emulator.url}/workflow/{workflow_id}",
        params={"workspaceId": emulator.workspace_id, "force": "true"},
        headers={"Authorization": f"Bearer {emulator.token}"},
    )
    assert answer.status_code == 204


def running(emulator: Any) -> str:
    workflow_id = launch_run(emulator, emulator_outcome="hang")
    deadline = time.monotonic() + 30
    while emulator.workflow(workflow_id)["status"] != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    return workflow_id


async def _events(trigger: TowerRunTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


async def test_a_run_deleted_while_deferred_is_an_error_event_naming_it(tower_conn: Any) -> None:
    doomed, kept = running(tower_conn), running(tower_conn)
    watch_doomed = asyncio.ensure_future(
        _events(TowerRunTrigger(workflow_id=doomed, poll_interval=0.1))
    )
    watch_kept = asyncio.ensure_future(
        _events(TowerRunTrigger(workflow_id=kept, poll_interval=0.1))
    )
    for workflow_id in (doomed, kept):  # both are watched by the shared poller
        await asyncio.to_thread(wait_until_running_and_watched, tower_conn, workflow_id)
    await asyncio.to_thread(delete_run, tower_conn, doomed)
    (event,) = await asyncio.wait_for(watch_doomed, 60)
    assert (event["status"], event["workflow_id"]) == ("error", doomed)
    assert f"Run '{doomed}' is unknown or not visible in workspace" in event["message"]
    assert event["message"].startswith("403 GET /workflow/{workflowId}")
    assert "Access denied" not in event["message"]
    assert tower_conn.token not in json.dumps(event)
    assert not watch_kept.done()  # the other deferred run is still watched
    tower_conn.set_status(kept, "SUCCEEDED")
    (other,) = await asyncio.wait_for(watch_kept, 60)
    assert (other["status"], other["workflow_status"]) == ("success", "SUCCEEDED")


def test_the_sensor_looks_again_then_names_a_run_that_vanished(tower_conn: Any) -> None:
    workflow_id = running(tower_conn)
    sensor = TowerRunSensor(task_id="wait", workflow_id=workflow_id, poke_interval=0.1)
    context = make_context()
    assert sensor.poke(context) is False
    delete_run(tower_conn, workflow_id)
    for _ in range(MAX_POLL_ERRORS):  # a blip is ridden out
        assert sensor.poke(context) is False
    with pytest.raises(RunNotFoundError) as caught:
        sensor.poke(context)
    assert caught.value.workflow_id == workflow_id
    assert f"Run '{workflow_id}' is unknown or not visible" in str(caught.value)


def test_the_sensor_names_a_wrong_id_at_once(tower_conn: Any) -> None:
    sensor = TowerRunSensor(task_id="wait", workflow_id="noSuchRun1234", poke_interval=0.1)
    with pytest.raises(RunNotFoundError, match="Run 'noSuchRun1234' is unknown or not visible"):
        sensor.poke(make_context())
