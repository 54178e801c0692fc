"""The operator on Tower's refusals that it must ride out: a 429 on the launch POST is waited
out and retried (one run), and a run deleted while the worker waits fails the task naming it."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from airflow_harness import make_context
from emulator_waits import wait_until_running_and_watched
from nftower import RunNotFoundError
from nftower_airflow.operators import TowerLaunchOperator

pytestmark = pytest.mark.timeout(120)

LAUNCH = r"^/workflow/launch$"


def launch_answers(emulator: Any) -> list[int | None]:
    return [
        r.status for r in emulator.requests if (r.method, r.path) == ("POST", "/workflow/launch")
    ]


def test_a_429_on_the_launch_post_is_retried_and_launches_once(tower_conn: Any) -> None:
    tower_conn.inject("rate_limit", method="POST", path=LAUNCH, times=2, retry_after=0.1)
    op = TowerLaunchOperator(task_id="limited", pipeline="hello", poll_interval=0.1)
    workflow_id = op.execute(make_context())
    assert launch_answers(tower_conn) == [429, 429, 200]
    (launch,) = tower_conn.launches
    assert launch.response_json["workflowId"] == workflow_id
    assert tower_conn.workflow(workflow_id)["status"] == "SUCCEEDED"


def test_a_run_deleted_while_the_worker_waits_fails_the_task_naming_it(tower_conn: Any) -> None:
    def delete_once_running() -> None:
        deadline = time.monotonic() + 30
        while not tower_conn.launches and time.monotonic() < deadline:
            time.sleep(0.05)
        workflow_id = tower_conn.launches[0].response_json["workflowId"]
        wait_until_running_and_watched(tower_conn, workflow_id)
        httpx.delete(
            f"{tower_conn.url}/workflow/{workflow_id}",
            params={"workspaceId": tower_conn.workspace_id, "force": "true"},
            headers={"Authorization": f"Bearer {tower_conn.token}"},
        ).raise_for_status()

    deleter = threading.Thread(target=delete_once_running, daemon=True)
    deleter.start()
    op = TowerLaunchOperator(
        task_id="vanishing",
        pipeline="hello",
        poll_interval=0.1,
        pipeline_params={"emulator_outcome": "hang"},
    )
    with pytest.raises(RunNotFoundError) as caught:
        op.execute(make_context())
    deleter.join(timeout=30)
    workflow_id = tower_conn.launches[0].response_json["workflowId"]
    assert caught.value.workflow_id == workflow_id
    assert f"Run '{workflow_id}' is unknown or not visible" in str(caught.value)
    assert len(tower_conn.launches) == 1
