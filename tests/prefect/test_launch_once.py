"""One Tower launch per flow run: flow retries, task retries and a crashed process re-running
the flow run all reattach to the run the first attempt started (the emulator counts launches)."""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

from flow_processes import final_state, mark_crashed, retry_flow_run, run_then_kill, write_nightly
from nftower import WorkflowStatus
from nftower.testing import TowerEmulator
from prefect import flow
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_API_URL
from prefect_nftower import TowerCredentials
from prefect_nftower._caching import LAUNCH_CACHE_POLICY
from prefect_nftower.tasks import (
    acall_tower_endpoint,
    acancel_workflow,
    aget_workflow,
    alaunch_workflow,
    await_for_workflow,
    call_tower_endpoint,
    cancel_workflow,
    get_workflow,
    launch_workflow,
    wait_for_workflow,
)
from tower_helpers import POLL, launches_of, requests_of

DESCRIBE = r"^/workflow/\w+$"  # GET: the describe right after a launch


def cache_key(flow_run_id: UUID, inputs: dict[str, Any]) -> str | None:
    task_ctx: Any = SimpleNamespace(task_run=SimpleNamespace(flow_run_id=flow_run_id, id=uuid4()))
    return LAUNCH_CACHE_POLICY.compute_key(task_ctx, inputs, {})


def test_launch_cache_key_holds_the_flow_run_not_the_credentials() -> None:
    flow_run = uuid4()
    inputs = {
        "credentials": TowerCredentials(access_token="token-one"),
        "pipeline": "hello",
        "params": {"day": "2024-06-01"},
    }
    key = cache_key(flow_run, inputs)
    assert key
    rotated = {**inputs, "credentials": TowerCredentials(access_token="token-two", workspace="9")}
    assert cache_key(flow_run, rotated) == key  # a rotated token does not launch again
    assert cache_key(uuid4(), inputs) != key  # the next flow run launches anew
    assert cache_key(flow_run, {**inputs, "params": {"day": "2024-06-02"}}) != key
    for launch in (launch_workflow, alaunch_workflow):
        assert launch.cache_policy is LAUNCH_CACHE_POLICY
        assert launch.persist_result is True
        assert launch.retries == 0  # no blind retries
    for read in (get_workflow, aget_workflow, wait_for_workflow, await_for_workflow):
        assert read.cache_policy is NO_CACHE
    for call in (cancel_workflow, acancel_workflow, call_tower_endpoint, acall_tower_endpoint):
        assert call.cache_policy is NO_CACHE


def test_flow_retry_does_not_launch_twice(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    seen: list[str] = []

    @flow(retries=1, retry_delay_seconds=0)
    def flaky(credentials: TowerCredentials) -> Any:
        workflow_id = launch_workflow(credentials, "hello")
        seen.append(workflow_id)
        if len(seen) == 1:
            raise RuntimeError("lost the connection while waiting")
        return wait_for_workflow(credentials, workflow_id, poll_interval=POLL)

    workflow = flaky(credentials)
    assert workflow.status == WorkflowStatus.SUCCEEDED
    assert seen[0] == seen[1]
    assert len(launches_of(emulator, token)) == 1


def test_retry_without_the_cache_reattaches_by_run_name(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    seen: list[str] = []
    uncached = launch_workflow.with_options(refresh_cache=True)

    @flow(retries=1, retry_delay_seconds=0)
    def flaky(credentials: TowerCredentials) -> str:
        workflow_id = uncached(credentials, "hello", params={"emulator_outcome": "hang"})
        seen.append(workflow_id)
        if len(seen) == 1:
            raise RuntimeError("worker restarted")
        return workflow_id

    workflow_id = flaky(credentials)
    assert seen == [workflow_id, workflow_id]
    assert len(launches_of(emulator, token)) == 1
    cancel_workflow.fn(credentials, workflow_id)


def test_task_retry_reattaches(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    # Tower starts the run, then the read right after it fails (a run not visible yet)
    emulator.inject("status", method="GET", path=DESCRIBE, times=1, status=404)
    retried = launch_workflow.with_options(retries=1, retry_delay_seconds=0)

    @flow
    def nightly(credentials: TowerCredentials) -> str:
        return retried(credentials, "hello")

    try:
        workflow_id = nightly(credentials)
    finally:
        emulator.clear_faults()
    assert [r.status for r in requests_of(emulator, token) if r.status == 404] == [404]
    (launch,) = launches_of(emulator, token)
    assert launch.response_json["workflowId"] == workflow_id


def test_different_launches_in_one_flow_run_are_different_runs(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    @flow
    def several(credentials: TowerCredentials) -> list[str]:
        return [
            launch_workflow(credentials, "hello", params={"sample": "a"}),
            launch_workflow(credentials, "hello", params={"sample": "b"}),
            launch_workflow(credentials, "hello", params={"sample": "a"}, run_name="again"),
            launch_workflow(credentials, "hello", params={"sample": "a"}),  # identical: the same
        ]

    first, other_params, other_name, identical = several(credentials)
    assert len({first, other_params, other_name}) == 3
    assert identical == first
    assert len(launches_of(emulator, token)) == 3


def test_lost_launch_answer_still_launches_once(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    # Tower starts the run but the answer never arrives: the launch outcome is unknown
    emulator.inject("drop_after", method="POST", path=r"^/workflow/launch$", times=1)
    try:

        @flow(retries=1, retry_delay_seconds=0)
        def nightly(credentials: TowerCredentials) -> Any:
            workflow_id = launch_workflow(credentials, "hello")
            return wait_for_workflow(credentials, workflow_id, poll_interval=POLL)

        workflow = nightly(credentials)
    finally:
        emulator.clear_faults()
    assert workflow.status == WorkflowStatus.SUCCEEDED
    assert len(launches_of(emulator, token)) == 1


def test_crashed_process_rerunning_the_flow_run_launches_once(
    emulator: TowerEmulator, token: str, tmp_path: Path
) -> None:
    script = write_nightly(tmp_path)
    env = dict(
        os.environ,
        PREFECT_API_URL=PREFECT_API_URL.value(),
        TOWER_ACCESS_TOKEN=token,
        TOWER_API_ENDPOINT=emulator.url,
        TOWER_WORKSPACE_ID=str(emulator.workspace_id),
    )
    # The process dies (SIGKILL) while the launch task waits for Tower's answer about the
    # run it just started: no task result was stored, only the run name can find it.
    emulator.inject("delay", method="GET", path=DESCRIBE, times=1, delay=60)
    try:
        flow_run_id = run_then_kill(
            script, "nightly()", env, lambda: bool(launches_of(emulator, token))
        )
    finally:
        emulator.clear_faults()
    killed_at = time.time()
    mark_crashed(flow_run_id)
    rerun = retry_flow_run(flow_run_id, script, env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    (launch,) = launches_of(emulator, token)
    workflow_id = launch.response_json["workflowId"]

    assert final_state(flow_run_id).is_completed()
    # the re-run followed the run the crashed process had started, to its end
    assert [r for r in requests_of(emulator, token) if r.time > killed_at and workflow_id in r.path]
    assert emulator.workflow(workflow_id)["status"] == "SUCCEEDED"


def test_run_name_is_short_and_a_run_under_the_former_name_is_reattached(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    """`<flow>-<scheduled day>-<pipeline>-<hash>`; a run named by the former scheme (started
    before the naming change, still in flight) is reattached, not launched again."""
    from nftower import TowerClient, make_run_name
    from prefect_nftower._launching import _fingerprint

    @flow(name="nightly-rnaseq")
    def named(credentials: TowerCredentials) -> tuple[str, str]:
        from prefect.runtime import flow_run

        return launch_workflow(credentials, "hello"), str(flow_run.id)

    named(credentials)
    (launch,) = launches_of(emulator, token)
    name = launch.json["launch"]["runName"]
    assert re.fullmatch(r"nightly-rnaseq-\d{4}-\d{2}-\d{2}-hello-[0-9a-f]{8}", name), name

    # A flow run whose first attempt (an earlier release) launched under the former name and
    # crashed; `prefect flow-run retry` runs it again, and the retry finds that run.
    attempts: list[str] = []

    @flow(name="nightly-rnaseq")
    def in_flight(credentials: TowerCredentials) -> str:
        from prefect.runtime import flow_run

        attempts.append(str(flow_run.id))
        if len(attempts) == 1:
            raise RuntimeError("the earlier release's attempt")
        return launch_workflow(credentials, "hello")

    first = in_flight(credentials, return_state=True)
    flow_run_id = UUID(attempts[0])
    former = make_run_name(flow_run_id, _fingerprint("hello", None, {}), prefix="hello")
    with TowerClient(emulator.url, token, emulator.workspace_id) as client:
        old_id = client.launch("hello", run_name=former)
    assert first.is_failed()
    assert rerun_flow_run(in_flight, flow_run_id, {"credentials": credentials}) == old_id
    assert len(launches_of(emulator, token)) == 2


def rerun_flow_run(flow_fn: Any, flow_run_id: UUID, parameters: dict[str, Any]) -> Any:
    """What `prefect flow-run retry --entrypoint` does, in this process: the flow run set back
    to Scheduled, read again (with its run count) and run."""
    from prefect.client.orchestration import get_client
    from prefect.flow_engine import run_flow
    from prefect.states import Scheduled

    async def schedule() -> Any:
        async with get_client() as client:
            await client.set_flow_run_state(flow_run_id, Scheduled(), force=True)
            return await client.read_flow_run(flow_run_id)

    return run_flow(flow_fn, flow_run=asyncio.run(schedule()), parameters=parameters)


def test_a_first_flow_run_launches_in_three_calls_with_an_org_workspace(
    emulator: TowerEmulator, token: str
) -> None:
    """Once the host knows the workspace and the pipeline: the run-name search, the saved
    launch and the launch. A first flow run has no run under a former name to look for, and
    the link comes from the `org/workspace` name, so no describe."""
    workspace = f"{emulator.org_name}/{emulator.workspace_name}"
    credentials = TowerCredentials(
        access_token=token,
        api_url=emulator.url,
        workspace=workspace,
        rate_limit_backend="memory://",
    )

    @flow
    def nightly(credentials: TowerCredentials, sample: int) -> str:
        return launch_workflow(credentials, "hello", params={"sample": sample})

    nightly(credentials, 0)  # the host learns the workspace and the pipeline
    before = len(requests_of(emulator, token))
    workflow_id = nightly(credentials, 1)
    calls = [re.sub(r"/\d+", "/{id}", r.operation) for r in requests_of(emulator, token)[before:]]
    assert calls == ["GET /workflow", "GET /pipelines/{id}/launch", "POST /workflow/launch"]
    assert emulator.workflow(workflow_id)["runName"].startswith("nightly-")
