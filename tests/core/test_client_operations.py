"""Every read / control operation against the emulator, for TowerClient and AsyncTowerClient."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from nftower import (
    NotFoundError,
    Pipeline,
    TaskCounts,
    TaskStatus,
    TowerConfigError,
    Workflow,
    WorkflowStatus,
)
from nftower.testing import TowerEmulator

POLL = 0.05


def finished(tower: Any, workflow_id: str) -> Workflow:
    return tower.wait(workflow_id, poll_interval=POLL, timeout=30)


def test_identity(tower: Any, tower_emulator: TowerEmulator) -> None:
    info = tower.service_info()
    assert info.api_version
    assert tower.user_info().user_name == tower_emulator.user_name
    names = {ws.full_name for ws in tower.list_workspaces()}
    assert "demo-org/demo-workspace" in names
    assert tower.workspace_id() == tower_emulator.workspace_id


def test_default_headers_on_the_wire(tower: Any, tower_emulator: TowerEmulator) -> None:
    from nftower import __version__
    from nftower.testing._records import token_hash

    tower.user_info()
    headers = tower_emulator.requests[-1].headers  # recorded without Authorization
    assert headers["accept-version"] == "1"
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith(f"nftower/{__version__} python/")
    record = tower_emulator.requests[-1]
    assert (record.status, record.token_hash) == (200, token_hash(tower_emulator.token))


def test_workspace_name_resolved_once(tower_emulator: TowerEmulator, make_client: Any) -> None:
    tower = make_client(tower_emulator.url, tower_emulator.token, "demo-org/demo-workspace")
    assert tower.workspace_id() == tower_emulator.workspace_id
    tower.get_pipeline("hello")
    tower.list_compute_envs()
    ops = [r.operation for r in tower_emulator.requests]
    assert ops.count("GET /user-info") == 1
    scoped = [r for r in tower_emulator.requests if r.path.startswith(("/pipelines", "/compute"))]
    assert scoped
    assert all(r.query.get("workspaceId") == str(tower_emulator.workspace_id) for r in scoped)


@pytest.mark.parametrize("name", ["demo-org/nope", "Demo-Org/demo-workspace", "demo-org/demo"])
def test_workspace_name_must_match_exactly(
    tower_emulator: TowerEmulator, make_client: Any, name: str
) -> None:
    tower = make_client(tower_emulator.url, tower_emulator.token, name)
    with pytest.raises(TowerConfigError, match="not found") as caught:
        tower.workspace_id()
    assert "demo-org/demo-workspace" in str(caught.value)


def test_personal_workspace_sends_no_workspace_id(
    tower_emulator: TowerEmulator, make_client: Any
) -> None:
    tower = make_client(tower_emulator.url, tower_emulator.token)
    assert tower.workspace_id() is None
    list(tower.list_pipelines())
    assert all("workspaceId" not in r.query for r in tower_emulator.requests)


def test_pipelines(tower: Any, tower_emulator: TowerEmulator) -> None:
    pipelines = tower.list_pipelines()
    assert {p.name for p in pipelines} >= {"hello", "rnaseq"}
    assert [p.name for p in tower.list_pipelines(search="rnaseq")] == ["rnaseq"]
    hello = tower.get_pipeline("hello")
    assert isinstance(hello, Pipeline)
    assert hello.repository == "https://github.com/nextflow-io/hello"
    assert tower.get_pipeline(hello.pipeline_id).name == "hello"
    assert tower.get_pipeline(str(hello.pipeline_id)).name == "hello"


def test_pipeline_name_must_match_exactly(tower: Any) -> None:
    with pytest.raises(NotFoundError, match="exactly 'hell'") as caught:
        tower.get_pipeline("hell")
    assert "hello" in str(caught.value)  # similar names are suggested


def test_sync_listing_is_lazy(tower_emulator: TowerEmulator, make_client: Any) -> None:
    from nftower import TowerClient

    with TowerClient(tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id) as c:
        pipelines = c.list_pipelines()
        assert tower_emulator.requests == []
        assert next(pipelines).name
        assert len(tower_emulator.requests) == 1


def test_compute_envs_and_labels(tower: Any) -> None:
    envs = tower.list_compute_envs()
    primary = [env for env in envs if env.primary]
    assert len(primary) == 1
    assert primary[0].work_dir == "s3://demo-bucket/work"
    assert all(env.status == "AVAILABLE" for env in tower.list_compute_envs(status="AVAILABLE"))
    labels = {(label.name, label.value) for label in tower.list_labels()}
    assert {("nightly", None), ("team", "genomics")} <= labels


def test_run_lifecycle(tower: Any, tower_emulator: TowerEmulator) -> None:
    changes: list[tuple[str, TaskCounts | None]] = []
    workflow_id = tower.launch("hello", run_name="lifecycle-1")
    wf = tower.wait(
        workflow_id,
        poll_interval=POLL,
        on_change=lambda w: changes.append((w.status.value, TaskCounts.of(w))),
    )
    assert wf.status is WorkflowStatus.SUCCEEDED
    assert changes[-1][0] == "SUCCEEDED"
    # called on changes only: of the status, or of the task counts while it runs
    assert all(before != after for before, after in itertools.pairwise(changes))
    assert [status for status, _ in changes if status != "RUNNING"] == ["SUBMITTED", "SUCCEEDED"]
    described = tower.get_workflow(workflow_id)
    assert (described.id, described.run_name) == (workflow_id, "lifecycle-1")
    assert described.org_name == tower_emulator.org_name
    progress = tower.get_progress(workflow_id)
    assert progress.workflow_progress is not None
    assert progress.workflow_progress.succeeded == len(tower.list_tasks(workflow_id))
    assert tower.list_tasks(workflow_id, status=TaskStatus.FAILED) == []
    assert tower.list_tasks(workflow_id, status="COMPLETED")
    assert tower.get_log(workflow_id, tail=2) == tower.get_log(workflow_id, tail=None)[-2:]
    assert tower.get_log(workflow_id, tail=0) == []
    url = tower.run_url(described)
    assert url == (
        f"{tower_emulator.url}/orgs/demo-org/workspaces/demo-workspace/watch/{workflow_id}"
    )


def test_find_and_list_workflows(tower: Any) -> None:
    first = tower.launch("hello", run_name="findme")
    tower.launch("hello", run_name="findme-too")
    found = tower.find_workflow("findme")
    assert found is not None
    assert found.id == first
    assert tower.find_workflow("findm") is None
    listed = {wf.run_name for wf in tower.list_workflows()}
    assert {"findme", "findme-too"} <= listed
    assert [wf.run_name for wf in tower.list_workflows(search="runName:findme-too")] == [
        "findme-too"
    ]


def test_cancel(tower: Any) -> None:
    workflow_id = tower.launch("hello", params={"emulator_outcome": "hang"})
    tower.cancel(workflow_id)
    assert finished(tower, workflow_id).status is WorkflowStatus.CANCELLED
    tower.cancel(workflow_id, force=True)  # harmless on a finished run


def test_failure_report(tower: Any, tower_emulator: TowerEmulator) -> None:
    workflow_id = tower.launch("hello", run_name="broken-1", params={"emulator_outcome": "fail"})
    wf = finished(tower, workflow_id)
    assert wf.status is WorkflowStatus.FAILED
    for source in (wf, workflow_id):
        report = tower.failure_report(source)
        assert report.error_message
        assert report.exit_status == 1
        assert report.failed_tasks
        assert report.failed_tasks[0].exit_code == 1
        assert report.failed_tasks[0].workdir
        assert report.log_tail
        assert report.run_url == tower.run_url(wf)
    error = report.to_error()
    assert error.workflow_id == workflow_id
    assert error.status == "FAILED"
    assert "broken-1" in str(error)


def test_wait_timeout(tower: Any) -> None:
    from nftower import WaitTimeoutError

    workflow_id = tower.launch("hello", params={"emulator_outcome": "hang"})
    with pytest.raises(WaitTimeoutError) as caught:
        tower.wait(workflow_id, poll_interval=POLL, timeout=0.2)
    assert caught.value.workflow_id == workflow_id
    assert caught.value.last_status in ("SUBMITTED", "RUNNING")
    tower.cancel(workflow_id)


def test_wait_bounds_unknown(tower: Any) -> None:
    from nftower import WorkflowFailedError

    workflow_id = tower.launch("hello", params={"emulator_outcome": "unknown"})
    with pytest.raises(WorkflowFailedError, match="UNKNOWN") as caught:
        tower.wait(workflow_id, poll_interval=POLL, timeout=30, unknown_timeout=0.1)
    assert caught.value.status == "UNKNOWN"
    assert caught.value.run_url


def test_wait_accepts_async_callbacks(tower_emulator: TowerEmulator) -> None:
    import asyncio

    from nftower import AsyncTowerClient

    seen: list[str] = []

    async def on_change(wf: Workflow) -> None:
        await asyncio.sleep(0)
        seen.append(str(wf.status))

    async def main() -> str:
        async with AsyncTowerClient(
            tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id
        ) as tower:
            workflow_id = await tower.launch("hello")
            wf = await tower.wait(workflow_id, poll_interval=POLL, on_change=on_change)
            ids = [w.id async for w in tower.list_workflows()]
            assert workflow_id in ids
            return str(wf.status)

    assert asyncio.run(main()) == "SUCCEEDED"
    assert seen[-1] == "SUCCEEDED"


def test_request_escape_hatch(tower: Any, tower_emulator: TowerEmulator) -> None:
    data = tower.request(
        "GET", "/compute-envs", params={"workspaceId": tower_emulator.workspace_id}
    )
    assert data["computeEnvs"]
    assert tower.request("get", "user-info")["user"]["userName"] == tower_emulator.user_name
    with pytest.raises(NotFoundError) as caught:
        tower.request("GET", "/pipelines/1")
    assert caught.value.operation == "GET /pipelines/1"
    for bad in ("https://evil.example/x", "/x?y=1", ""):
        with pytest.raises(TowerConfigError):
            tower.request("GET", bad)


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
def test_bad_workflow_ids_rejected_before_any_call(
    tower: Any, tower_emulator: TowerEmulator, bad: Any
) -> None:
    with pytest.raises(TowerConfigError, match="workflow_id"):
        tower.get_workflow(bad)
    with pytest.raises(TowerConfigError):
        tower.wait("abc", poll_interval=0)
    assert tower_emulator.requests == []
