"""Flows on the Prefect test server against the emulator: success, failure, timeout, errors."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import pytest
from nftower import NotFoundError, WaitTimeoutError, WorkflowFailedError, WorkflowStatus
from nftower.monitor import WorkflowMonitor
from nftower.testing import TowerEmulator
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect_nftower import TowerCredentials, arun_pipeline, run_pipeline
from prefect_nftower.tasks import get_workflow, launch_workflow, wait_for_workflow
from tower_helpers import POLL, launches_of, requests_of, run_logs


async def artifacts_of(flow_run_id: UUID) -> list[Any]:
    async with get_client() as client:
        return await client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )


def task_runs_of(flow_run_id: UUID) -> list[Any]:
    async def read() -> list[Any]:
        async with get_client() as client:
            return await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )

    return asyncio.run(read())


def test_run_pipeline_succeeds_with_artifacts_and_events(
    credentials: TowerCredentials,
    emulator: TowerEmulator,
    token: str,
    events: list[dict[str, Any]],
) -> None:
    state = run_pipeline(
        credentials,
        "hello",
        params={"emulator_duration": 150},  # ~3 s real: many polls while RUNNING
        poll_interval=POLL,
        return_state=True,
    )
    assert state.is_completed()
    workflow = state.result()
    assert workflow.status == WorkflowStatus.SUCCEEDED
    assert len(launches_of(emulator, token)) == 1

    flow_run_id = state.state_details.flow_run_id
    artifacts = asyncio.run(artifacts_of(flow_run_id))
    by_key = {a.key: a for a in artifacts}
    assert set(by_key) == {
        "nftower-run-run-tower-pipeline-nextflow-io-hello",
        "nftower-progress-run-tower-pipeline-nextflow-io-hello",
        "nftower-summary-run-tower-pipeline-nextflow-io-hello",
    }
    assert workflow.id in str(by_key["nftower-run-run-tower-pipeline-nextflow-io-hello"].data)
    assert by_key["nftower-progress-run-tower-pipeline-nextflow-io-hello"].type == "progress"
    assert by_key["nftower-progress-run-tower-pipeline-nextflow-io-hello"].data == 100.0
    assert "SUCCEEDED" in str(by_key["nftower-summary-run-tower-pipeline-nextflow-io-hello"].data)
    for artifact in artifacts:
        assert artifact.key
        assert artifact.key == artifact.key.lower()
        assert set(artifact.key) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")

    names = [e["event"] for e in events]
    assert names[0] == "tower.run.launched"
    assert names[-1] == "tower.run.succeeded"
    assert "tower.run.running" in names
    resource = events[-1]["resource"]
    assert resource["prefect.resource.id"] == f"tower.run.{workflow.id}"
    assert resource["nftower.workspace"] == f"{emulator.org_name}/{emulator.workspace_name}"
    assert workflow.id in resource["nftower.run-url"]

    # one task run for the whole wait, and a log line per status change, not per poll
    cycles = WorkflowMonitor.shared(credentials.get_config()).stats().cycles
    assert sorted(run.name.rsplit("-", 1)[0] for run in task_runs_of(flow_run_id)) == [
        "launch_workflow",
        "wait_for_workflow",
    ]
    status_lines = [m for m in run_logs(flow_run_id) if m.startswith(f"Tower run {workflow.id}")]
    assert status_lines
    assert status_lines[-1].endswith("-> SUCCEEDED"), status_lines
    assert len(status_lines) == len(set(status_lines)) <= 3
    assert len(status_lines) < cycles


@pytest.mark.parametrize(("outcome", "status"), [("fail", "FAILED"), ("cancel", "CANCELLED")])
def test_run_that_does_not_succeed_fails_the_flow_with_the_report(
    credentials: TowerCredentials,
    emulator: TowerEmulator,
    token: str,
    events: list[dict[str, Any]],
    outcome: str,
    status: str,
) -> None:
    state = run_pipeline(
        credentials,
        "hello",
        params={"emulator_outcome": outcome},
        poll_interval=POLL,
        return_state=True,
    )
    assert state.is_failed()
    with pytest.raises(WorkflowFailedError) as caught:
        state.result()
    error = caught.value
    assert error.status == status
    assert error.run_url
    assert error.run_url in str(error)
    assert events[-1]["event"] == f"tower.run.{status.lower()}"
    # ended on Tower's side: nothing for the wait to cancel
    assert not [r for r in requests_of(emulator, token) if r.path.endswith("/cancel")]
    if status == "FAILED":
        assert error.failed_tasks
        assert error.error_message
        assert error.error_message in str(error)


def test_timeout_then_cancel(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    state = run_pipeline(
        credentials,
        "hello",
        params={"emulator_outcome": "hang"},
        poll_interval=POLL,
        timeout=1.0,
        return_state=True,
    )
    assert state.is_failed()
    with pytest.raises(WaitTimeoutError):
        state.result()
    (launch,) = launches_of(emulator, token)
    workflow_id = launch.response_json["workflowId"]
    assert [r for r in requests_of(emulator, token) if r.path == f"/workflow/{workflow_id}/cancel"]
    assert get_workflow.fn(credentials, workflow_id).status == WorkflowStatus.CANCELLED


async def test_async_flow(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    workflow = await arun_pipeline(credentials, "hello", poll_interval=POLL)
    assert workflow.status == WorkflowStatus.SUCCEEDED
    # the dispatching name picks the async flow inside a running event loop
    again = await run_pipeline(credentials, "hello", poll_interval=POLL)
    assert again.status == WorkflowStatus.SUCCEEDED

    @flow
    async def nightly(credentials: TowerCredentials) -> Any:
        # so do the task names inside an async flow: both calls return coroutines
        workflow_id = await launch_workflow(credentials, "hello", run_name="dispatched")
        # `_sync=True` forces the sync form
        assert get_workflow(credentials, workflow_id, _sync=True).id == workflow_id
        return await wait_for_workflow(credentials, workflow_id, poll_interval=POLL)

    assert (await nightly(credentials)).status == WorkflowStatus.SUCCEEDED
    assert len(launches_of(emulator, token)) == 3


def test_api_errors_reach_the_run_logs_in_full(
    credentials: TowerCredentials, emulator: TowerEmulator
) -> None:
    # Tower's 404 carries no Error ID; an injected one does.
    emulator.inject("status", method="GET", path=r"^/workflow/0000unknown0000$", status=404)

    @flow
    def reads_an_unknown_run(credentials: TowerCredentials) -> Any:
        read = get_workflow(credentials, "0000unknown0000", return_state=True)
        return read.result(raise_on_failure=False)  # the error, for the assertions

    state = reads_an_unknown_run(credentials, return_state=True)
    error = state.result()
    assert isinstance(error, NotFoundError)
    (line,) = [m for m in run_logs(state.state_details.flow_run_id) if "Tower get_workflow" in m]
    for part in ("404", error.operation, error.message, f"Error ID: {error.error_id}"):
        assert part
        assert part in line


def test_run_pipeline_deploys_like_any_flow() -> None:
    from prefect import Flow, Task
    from prefect.flows import load_flow_from_entrypoint
    from prefect.types.entrypoint import EntrypointType

    deployment = run_pipeline.to_deployment(
        name="nightly", cron="0 2 * * *", entrypoint_type=EntrypointType.MODULE_PATH
    )
    assert deployment.entrypoint == "prefect_nftower.flows.run_pipeline"
    loaded = load_flow_from_entrypoint(deployment.entrypoint)
    assert isinstance(loaded, Flow)
    assert loaded.name == "run-tower-pipeline"
    assert isinstance(launch_workflow, Task)
    assert isinstance(wait_for_workflow, Task)
