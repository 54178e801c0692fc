"""The token never shows in logs, parameters, artifacts, events or errors of a flow run."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

import prefect.events
from nftower.testing import TowerEmulator
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterParentTaskRunId,
    LogFilter,
    LogFilterFlowRunId,
    TaskRunFilter,
    TaskRunFilterFlowRunId,
)
from prefect.logging.handlers import APILogHandler
from prefect_nftower import TowerCredentials, run_pipeline
from prefect_nftower.tasks import call_tower_endpoint, get_workflow
from tower_helpers import POLL


async def everything_recorded(flow_run_id: UUID) -> str:
    """Logs, flow/task runs (parameters, states) and artifacts of a flow run and its subflows."""
    async with get_client() as client:
        flow_runs = [await client.read_flow_run(flow_run_id)]
        task_runs: list[Any] = []
        while True:  # walk down to the subflow runs through their parent task runs
            ids = [run.id for run in flow_runs]
            task_runs = await client.read_task_runs(
                task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=ids))
            )
            children = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    parent_task_run_id=FlowRunFilterParentTaskRunId(
                        any_=[run.id for run in task_runs]
                    )
                )
            )
            if {run.id for run in children} <= set(ids):
                break
            flow_runs = list({run.id: run for run in [*flow_runs, *children]}.values())
        ids = [run.id for run in flow_runs]
        logs = await client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids))
        )
        artifacts = await client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids))
        )
    records = [*flow_runs, *task_runs, *logs, *artifacts]
    return "\n".join(record.model_dump_json() for record in records)


def test_token_absent_from_a_failing_flow_run(
    credentials: TowerCredentials,
    token: str,
    emulator: TowerEmulator,
    events: list[dict[str, Any]],
) -> None:
    bad = TowerCredentials(
        access_token=token + "-expired", api_url=emulator.url, workspace=str(emulator.workspace_id)
    )

    # Tower's 403 and 404 carry no Error ID: an injected 404 does, to show one in the logs.
    emulator.inject("status", method="GET", path=r"^/workflow/unknown0000000$", status=404)

    @flow
    def leaky_if_anything(credentials: TowerCredentials, bad: TowerCredentials) -> None:
        call_tower_endpoint(credentials, "GET", "/workflow/unknown0000000", return_state=True)
        get_workflow(bad, "unknown0000000", return_state=True)  # 403
        run_pipeline(credentials, "hello", params={"emulator_outcome": "fail"}, poll_interval=POLL)

    state = leaky_if_anything(credentials, bad, return_state=True)
    assert state.is_failed()
    APILogHandler().flush()  # send queued run logs to the server before reading them
    recorded = asyncio.run(everything_recorded(state.state_details.flow_run_id))
    assert "run-tower-pipeline" in recorded  # the subflow's records are in
    assert "nftower-summary-" in recorded  # and its artifacts
    assert "404" in recorded
    assert "403" in recorded
    assert "FAILED" in recorded
    assert "Error ID" in recorded
    assert token not in recorded
    assert events
    assert token not in json.dumps(events, default=str)
    assert token not in str(state.message)


def test_the_search_covers_every_channel(events: list[dict[str, Any]]) -> None:
    """A value leaked through any channel would be found: each canary shows up."""

    @task
    def leaky_task(secret: str) -> None:
        get_run_logger().info("log line with canary-task-log")
        create_markdown_artifact("artifact with canary-artifact", key="canary")
        prefect.events.emit_event(
            "canary.event",
            resource={"prefect.resource.id": "canary"},
            payload={"v": "canary-event"},
        )
        raise RuntimeError("error with canary-error")

    @flow
    def leaky_subflow() -> None:
        get_run_logger().info("log line with canary-subflow-log")

    @flow
    def leaky(secret: str) -> None:
        leaky_subflow()
        leaky_task(secret, return_state=True)

    state = leaky("canary-parameter", return_state=True)
    APILogHandler().flush()
    recorded = asyncio.run(everything_recorded(state.state_details.flow_run_id))
    recorded += json.dumps(events, default=str)
    for canary in (
        "canary-parameter",
        "canary-task-log",
        "canary-subflow-log",
        "canary-artifact",
        "canary-event",
        "canary-error",
    ):
        assert canary in recorded, canary
