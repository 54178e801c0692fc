"""`TowerPipeline` / `TowerWorkflowRun`: trigger, wait, fetch, cancel; sync and async."""

from __future__ import annotations

import pytest
from nftower import WaitTimeoutError, WorkflowFailedError, WorkflowStatus
from nftower.testing import TowerEmulator
from prefect import flow
from prefect_nftower import TowerCredentials, TowerPipeline, TowerWorkflowRun
from tower_helpers import POLL, launches_of


def pipeline_block(credentials: TowerCredentials, **options: object) -> TowerPipeline:
    return TowerPipeline(credentials=credentials, pipeline="hello", poll_interval=POLL, **options)


def test_trigger_wait_fetch(credentials: TowerCredentials) -> None:
    run = pipeline_block(credentials).trigger()
    assert isinstance(run, TowerWorkflowRun)
    assert run.run_url
    assert run.workflow_id in run.run_url
    run.wait_for_completion()
    assert run.fetch_result().status == WorkflowStatus.SUCCEEDED


def test_failed_run_raises(credentials: TowerCredentials) -> None:
    run = pipeline_block(credentials, params={"emulator_outcome": "fail"}).trigger()
    with pytest.raises(WorkflowFailedError, match="FAILED"):
        run.wait_for_completion()
    assert run.fetch_result().status == WorkflowStatus.FAILED


def test_cancel(credentials: TowerCredentials) -> None:
    run = pipeline_block(credentials, params={"emulator_outcome": "hang"}).trigger()
    run.cancel()
    assert run.fetch_result().status == WorkflowStatus.CANCELLED


def test_timeout_cancels(credentials: TowerCredentials) -> None:
    run = pipeline_block(credentials, params={"emulator_outcome": "hang"}, timeout=0.5).trigger()
    with pytest.raises(WaitTimeoutError):
        run.wait_for_completion()
    assert run.fetch_result().status == WorkflowStatus.CANCELLED


def test_trigger_in_a_retried_flow_launches_once(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    actions: list[str] = []

    @flow(retries=1, retry_delay_seconds=0)
    def nightly(block: TowerPipeline) -> str:
        run = block.trigger()
        actions.append(run.action)
        if len(actions) == 1:
            raise RuntimeError("first attempt dies")
        run.wait_for_completion()
        return run.workflow_id

    nightly(pipeline_block(credentials))
    assert actions == ["launched", "reattached"]
    assert len(launches_of(emulator, token)) == 1


async def test_async_twins(credentials: TowerCredentials) -> None:
    block = pipeline_block(credentials)
    run = await block.atrigger()
    await run.await_for_completion()
    assert (await run.afetch_result()).status == WorkflowStatus.SUCCEEDED
    hanging = await pipeline_block(credentials, params={"emulator_outcome": "hang"}).trigger()
    await hanging.cancel()
    assert (await hanging.fetch_result()).status == WorkflowStatus.CANCELLED


def test_launch_options_of_the_block_reach_tower(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    block = TowerPipeline(
        credentials=credentials,
        pipeline="rnaseq",
        params={"outdir": "s3://out/2024-06-01"},
        revision="3.14.0",
        config_profiles=["test"],
        work_dir="s3://scratch/work",
        run_name="nightly",
        poll_interval=POLL,
    )
    run = block.trigger()
    (request,) = launches_of(emulator, token)
    launch = request.json["launch"]
    assert launch["revision"] == "3.14.0"
    assert launch["configProfiles"] == ["test"]
    assert launch["workDir"] == "s3://scratch/work"
    assert "s3://out/2024-06-01" in launch["paramsText"]
    assert launch["runName"] == "nightly"  # outside a flow run: the name as given
    run.cancel()
