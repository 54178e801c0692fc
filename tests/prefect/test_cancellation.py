"""Cancelling the flow run cancels the Tower run: termination signal and on_cancellation hook."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from nftower import WorkflowStatus
from nftower.testing import TowerEmulator
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from prefect_nftower import TowerCredentials, cancel_tower_runs
from prefect_nftower.tasks import (
    alaunch_workflow,
    await_for_workflow,
    get_workflow,
    launch_workflow,
    wait_for_workflow,
)
from tower_helpers import launches_of, requests_of

SCRIPT = """
import sys
from prefect_nftower import TowerCredentials, run_pipeline

credentials = TowerCredentials(
    access_token=sys.argv[1], api_url=sys.argv[2], workspace=sys.argv[3],
    rate_limit_backend="memory://",
)
run_pipeline(credentials, "hello", params={"emulator_outcome": "hang"}, poll_interval=0.2)
"""


def wait_until(condition: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def test_terminated_flow_run_cancels_the_tower_run(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value())
    args = [token, emulator.url, str(emulator.workspace_id)]
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: launches_of(emulator, token) or process.poll() is not None)
        if not launches_of(emulator, token):
            pytest.fail(f"the flow process ended before launching:\n{process.communicate()[0]}")
        (launch,) = launches_of(emulator, token)
        workflow_id = launch.response_json["workflowId"]
        # the wait task is polling the run
        wait_until(
            lambda: (
                sum(r.path == f"/workflow/{workflow_id}" for r in requests_of(emulator, token)) >= 3
            )
        )
        process.send_signal(signal.SIGTERM)  # what a worker or runner does on cancellation
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    cancels = [
        r for r in requests_of(emulator, token) if r.path == f"/workflow/{workflow_id}/cancel"
    ]
    assert len(cancels) == 1, output
    assert get_workflow.fn(credentials, workflow_id).status == WorkflowStatus.CANCELLED


def test_on_cancellation_hook_cancels_the_runs_still_followed(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    @flow
    def launches_and_leaves(credentials: TowerCredentials) -> str:
        return launch_workflow(credentials, "hello", params={"emulator_outcome": "hang"})

    state = launches_and_leaves(credentials, return_state=True)
    workflow_id = state.result()

    async def read_flow_run() -> object:
        async with get_client() as client:
            return await client.read_flow_run(state.state_details.flow_run_id)

    import asyncio

    flow_run = asyncio.run(read_flow_run())
    cancel_tower_runs(launches_and_leaves, flow_run, state)
    assert get_workflow.fn(credentials, workflow_id).status == WorkflowStatus.CANCELLED
    # a second call has nothing left to cancel
    cancel_tower_runs(launches_and_leaves, flow_run, state)
    cancels = [r for r in requests_of(emulator, token) if r.path.endswith("/cancel")]
    assert len(cancels) == 1


HANG = {"emulator_outcome": "hang"}


@pytest.mark.parametrize("submitted", [False, True], ids=["called", "submitted-to-a-thread"])
def test_prefect_task_timeout_cancels_the_tower_run(
    credentials: TowerCredentials, submitted: bool
) -> None:
    limited = wait_for_workflow.with_options(timeout_seconds=1)

    @flow
    def nightly(credentials: TowerCredentials) -> Any:
        workflow_id = launch_workflow(credentials, "hello", params=HANG)
        if not submitted:  # runs in the flow's thread: Prefect times it out with a signal
            return workflow_id, limited(
                credentials, workflow_id, poll_interval=0.2, return_state=True
            )
        future = limited.submit(credentials, workflow_id, poll_interval=0.2)
        future.wait()  # in a worker thread: Prefect raises the timeout inside that thread
        return workflow_id, future.state

    workflow_id, state = nightly(credentials)
    assert state.is_failed()
    assert get_workflow.fn(credentials, workflow_id).status == WorkflowStatus.CANCELLED


async def test_prefect_async_task_timeout_cancels_the_tower_run(
    credentials: TowerCredentials,
) -> None:
    limited = await_for_workflow.with_options(timeout_seconds=1)

    @flow
    async def nightly(credentials: TowerCredentials) -> Any:
        workflow_id = await alaunch_workflow(credentials, "hello", params=HANG)
        return workflow_id, await limited(
            credentials, workflow_id, poll_interval=0.2, return_state=True
        )

    workflow_id, state = await nightly(credentials)
    assert state.is_failed()
    assert get_workflow.fn(credentials, workflow_id).status == WorkflowStatus.CANCELLED
