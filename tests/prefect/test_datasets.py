"""Datasets, run files and output assets in Prefect flows on the test server: one upload and
one run across a flow retry, the dataset URL as the pipeline input, the failure markdown with
stderr and log tail, the table of run files, and the output directory as an asset."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from uuid import UUID

from nftower import WorkflowStatus
from nftower.testing import TowerEmulator
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect_nftower import TowerCredentials, TowerPipeline, run_pipeline
from prefect_nftower.datasets import materialize_outputs, save_run_files, upload_dataset
from prefect_nftower.tasks import launch_workflow, wait_for_workflow
from tower_helpers import POLL, launches_of, requests_of

SHEET = "sample,fastq_1\nWT,s3://b/wt.fq.gz\n"


async def _artifacts(flow_run_id: UUID) -> list[Any]:
    async with get_client() as client:
        return await client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )


def _uploads(emulator: TowerEmulator, token: str) -> list[Any]:
    return [r for r in requests_of(emulator, token) if r.path.endswith("/upload")]


def test_upload_then_run_on_it_once_across_a_flow_retry(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str, tmp_path: Path
) -> None:
    attempts: list[int] = []

    @flow(retries=1, retry_delay_seconds=0)
    def nightly() -> Any:
        url = upload_dataset(credentials, "prefect-nightly", SHEET.encode())
        workflow_id = launch_workflow(
            credentials, "hello", params={"outdir": "s3://demo-bucket/results/p"},
            launch_options={"dataset": url},
        )  # fmt: skip
        workflow = wait_for_workflow(credentials, workflow_id, poll_interval=POLL)
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("simulated crash after the run")
        saved = save_run_files(credentials, workflow.id, tmp_path)
        assets = materialize_outputs(credentials, workflow)
        return url, workflow, saved, assets

    state = nightly(return_state=True)
    assert state.is_completed(), state
    url, workflow, saved, assets = state.result()
    assert workflow.status == WorkflowStatus.SUCCEEDED
    assert len(_uploads(emulator, token)) == 1
    assert len(launches_of(emulator, token)) == 1
    assert emulator.workflow(workflow.id)["params"]["input"] == url
    assert set(saved) == {
        f"nf-{workflow.id}.log",
        f"nf-{workflow.id}.txt",
        f"timeline-{workflow.id}.html",
    }
    assert (tmp_path / f"nf-{workflow.id}.log").stat().st_size == saved[f"nf-{workflow.id}.log"]
    assert assets == ["s3://demo-bucket/results/p"]
    artifacts = asyncio.run(_artifacts(state.state_details.flow_run_id))
    table = next(a for a in artifacts if a.key == f"tower-files-{workflow.id.lower()}")
    assert table.type == "table"
    assert f"nf-{workflow.id}.log" in str(table.data)


def test_failure_markdown_has_stderr_and_log_tail(
    credentials: TowerCredentials, emulator: TowerEmulator
) -> None:
    state = run_pipeline(
        credentials, "hello", params={"emulator_outcome": "fail"}, poll_interval=POLL,
        return_state=True,
    )  # fmt: skip
    assert state.is_failed()
    artifacts = asyncio.run(_artifacts(state.state_details.flow_run_id))
    summary = next(a for a in artifacts if a.key and a.key.startswith("nftower-summary"))
    text = str(summary.data)
    assert "`.command.err`" in text
    assert "exited with status 1" in text
    assert "Nextflow log (last lines)" in text
    assert "N E X T F L O W" in text


def test_pipeline_block_passes_its_dataset(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    url = upload_dataset(credentials, "block-sheet", SHEET.encode(), _sync=True)
    block = TowerPipeline(
        credentials=credentials, pipeline="hello", dataset="block-sheet", dataset_param="samples"
    )
    run = block.trigger(_sync=True)
    assert emulator.workflow(run.workflow_id)["params"]["samples"] == url
    workflow = run_pipeline(credentials, "hello", dataset=url, poll_interval=POLL)
    assert emulator.workflow(workflow.id)["params"]["input"] == url
