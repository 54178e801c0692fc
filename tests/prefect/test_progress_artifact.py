"""What one run leaves in Prefect: a progress artifact with task counts, updated only when they
change and never at 100 % for a failed run; the failure report once in the log; a short
exception message; artifact keys of the flow's own."""

from __future__ import annotations

import asyncio
from typing import Any

import prefect.artifacts
import pytest
from nftower import WorkflowFailedError
from nftower.monitor import WorkflowMonitor
from nftower.testing import TowerEmulator
from prefect import flow
from prefect_nftower import TowerCredentials, run_pipeline
from prefect_nftower.tasks import launch_workflow, wait_for_workflow
from test_flows import artifacts_of
from tower_helpers import POLL, run_logs


@pytest.fixture
def progress_updates(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, str | None]]:
    """Every update of a progress artifact during the test (still sent to the server)."""
    seen: list[tuple[float, str | None]] = []
    original = prefect.artifacts.aupdate_progress_artifact

    async def record(artifact_id: Any, progress: float, description: str | None = None) -> Any:
        seen.append((progress, description))
        return await original(artifact_id, progress, description=description)

    monkeypatch.setattr(prefect.artifacts, "aupdate_progress_artifact", record)
    return seen


def test_a_failed_run_shows_its_counts_not_100_percent_and_logs_its_report_once(
    credentials: TowerCredentials,
    emulator: TowerEmulator,
    progress_updates: list[tuple[float, str | None]],
) -> None:
    state = run_pipeline(
        credentials,
        "hello",
        params={"emulator_outcome": "fail", "emulator_duration": 150},  # many polls
        poll_interval=POLL,
        return_state=True,
    )
    assert state.is_failed()
    with pytest.raises(WorkflowFailedError) as caught:
        state.result()
    error = caught.value
    # the message Prefect repeats in its records: one line, then the run page
    headline, page = str(error).splitlines()
    assert error.workflow_id in headline
    assert "FAILED" in headline
    assert page == f"Run page: {error.run_url}"

    flow_run_id = state.state_details.flow_run_id
    by_key = {a.key: a for a in asyncio.run(artifacts_of(flow_run_id))}
    progress = by_key["nftower-progress-run-tower-pipeline-nextflow-io-hello"]
    assert progress.data < 100.0
    assert progress.description.startswith("Tower run ")
    assert "FAILED: " in progress.description
    shown = progress.description.split("FAILED: ", 1)[1]  # as nftower.TaskCounts writes them
    assert " succeeded" in shown
    assert " failed of " in shown
    assert shown.endswith(" tasks")
    assert "nftower-summary-run-tower-pipeline-nextflow-io-hello" in by_key

    messages = run_logs(flow_run_id)
    full = [m for m in messages if "Nextflow log (last" in m]
    assert len(full) == 1, [m[:120] for m in messages]
    # the rest of the report (Tower's error report, the tasks' stderr) is in no other record
    assert len([m for m in messages if "Error report:" in m]) == 1
    assert len([m for m in messages if ".command.err" in m]) == 1

    # the artifact moved with the counts, not with every poll
    cycles = WorkflowMonitor.shared(credentials.get_config()).stats().cycles
    assert len(progress_updates) == len(set(progress_updates))
    assert len(progress_updates) < cycles


def test_two_flows_running_one_pipeline_keep_their_own_artifacts(
    credentials: TowerCredentials,
) -> None:
    @flow(name="morning-hello")
    def morning(credentials: TowerCredentials) -> Any:
        return wait_for_workflow(credentials, launch_workflow(credentials, "hello"), POLL)

    @flow(name="evening-hello")
    def evening(credentials: TowerCredentials) -> Any:
        return wait_for_workflow(credentials, launch_workflow(credentials, "hello"), POLL)

    keys = []
    for one in (morning, evening):
        state = one(credentials, return_state=True)
        assert state.is_completed()
        keys.append({a.key for a in asyncio.run(artifacts_of(state.state_details.flow_run_id))})
    assert "nftower-summary-morning-hello-nextflow-io-hello" in keys[0]
    assert "nftower-summary-evening-hello-nextflow-io-hello" in keys[1]
    assert not keys[0] & keys[1]
