"""The token never shows in logs, parameters, artifacts, events or errors of a flow run."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

from nftower.testing import TowerEmulator
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
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
    """Logs, flow/task run parameters and states, and artifacts of a flow run, as text."""
    async with get_client() as client:
        flow_run = await client.read_flow_run(flow_run_id)
        logs = await client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
        )
        task_runs = await client.read_task_runs(
            task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[flow_run_id]))
        )
        artifacts = await client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    parts = [flow_run.model_dump_json(), *(log.model_dump_json() for log in logs)]
    parts += [run.model_dump_json() for run in task_runs]
    parts += [artifact.model_dump_json() for artifact in artifacts]
    assert logs
    assert task_runs
    assert artifacts
    return "\n".join(parts)


def test_token_absent_from_a_failing_flow_run(
    credentials: TowerCredentials,
    token: str,
    emulator: TowerEmulator,
    events: list[dict[str, Any]],
) -> None:
    bad = TowerCredentials(
        access_token=token + "-expired", api_url=emulator.url, workspace=str(emulator.workspace_id)
    )

    @flow
    def leaky_if_anything(credentials: TowerCredentials, bad: TowerCredentials) -> None:
        call_tower_endpoint(credentials, "GET", "/workflow/unknown0000000", return_state=True)
        get_workflow(bad, "unknown0000000", return_state=True)  # 403
        run_pipeline(credentials, "hello", params={"emulator_outcome": "fail"}, poll_interval=POLL)

    state = leaky_if_anything(credentials, bad, return_state=True)
    assert state.is_failed()
    APILogHandler().flush()  # send queued run logs to the server before reading them
    recorded = asyncio.run(everything_recorded(state.state_details.flow_run_id))
    assert "404" in recorded
    assert "403" in recorded
    assert "FAILED" in recorded
    assert token not in recorded
    assert events
    assert token not in json.dumps(events, default=str)
    assert token not in str(state.message)
