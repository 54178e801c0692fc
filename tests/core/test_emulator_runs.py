"""Runs over real HTTP: state machine, outcomes, cancel, resume, listing, tasks and log."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from nftower.testing import TowerEmulator

HELLO = "https://github.com/nextflow-io/hello"


class Api:
    """A tiny test client for one workspace of an emulator."""

    def __init__(self, emu: TowerEmulator) -> None:
        self.emu = emu
        self.ws = {"workspaceId": emu.workspace_id}
        self.http = httpx.Client(
            base_url=emu.url, headers={"Authorization": f"Bearer {emu.token}"}, timeout=10
        )

    def launch(self, params: dict[str, Any] | None = None, **fields: Any) -> str:
        body = {"pipeline": HELLO, **fields}
        if params is not None:
            body["paramsText"] = json.dumps(params)
        response = self.http.post("/workflow/launch", params=self.ws, json={"launch": body})
        assert response.status_code == 200, response.text
        return str(response.json()["workflowId"])

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params={**self.ws, **params})
        assert response.status_code == 200, response.text
        return response.json()

    def describe(self, workflow_id: str, **params: Any) -> dict[str, Any]:
        return dict(self.get(f"/workflow/{workflow_id}", **params))

    def status(self, workflow_id: str) -> str:
        return str(self.describe(workflow_id)["workflow"]["status"])

    def post(self, path: str, body: Any = None, **params: Any) -> httpx.Response:
        return self.http.post(path, params={**self.ws, **params}, json=body)


@pytest.fixture
def slow() -> Iterator[Api]:
    """Speed 0.01: nothing moves unless the test calls ``advance``."""
    with TowerEmulator(speed=0.01, rate_limit=None) as emu:
        yield Api(emu)


def test_lifecycle_step_by_step(slow: Api) -> None:
    workflow_id = slow.launch(runName="step-by-step")
    first = slow.describe(workflow_id)
    assert first["workflow"]["status"] == "SUBMITTED"
    assert first["workflow"]["start"] is None
    assert slow.get(f"/workflow/{workflow_id}/tasks")["total"] == 0
    slow.emu.advance(2 + 10)  # started, a third of the way through 30 s... of 20 s
    running = slow.describe(workflow_id)
    assert running["workflow"]["status"] == "RUNNING"
    assert running["workflow"]["start"].endswith("Z")
    assert running["jobInfo"]["status"] == "RUNNING"
    load = running["progress"]["workflowProgress"]
    assert load["succeeded"] == 1
    assert load["running"] + load["submitted"] == 1
    log = slow.get(f"/workflow/{workflow_id}/log")["log"]
    assert log["pending"] is True
    assert any("Submitted process > sayHello (1)" in line for line in log["entries"])
    slow.emu.advance(20)
    done = slow.describe(workflow_id)
    wf = done["workflow"]
    assert wf["status"] == "SUCCEEDED"
    assert (wf["exitStatus"], wf["success"]) == (0, True)
    assert wf["stats"]["succeedCount"] == 3
    assert wf["complete"] >= wf["start"] >= wf["submit"]
    assert done["progress"]["workflowProgress"]["succeeded"] == 3
    assert slow.get(f"/workflow/{workflow_id}/log")["log"]["pending"] is False


def test_runs_finish_on_the_scaled_clock() -> None:
    with TowerEmulator(speed=2000, rate_limit=None) as emu:
        api = Api(emu)
        workflow_id = api.launch()
        seen = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not seen or seen[-1] != "SUCCEEDED"):
            seen.append(api.status(workflow_id))
            time.sleep(0.002)
        assert seen[-1] == "SUCCEEDED"
        order = ["SUBMITTED", "RUNNING", "SUCCEEDED"]
        assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen)


def test_failed_run_reports_why(slow: Api) -> None:
    workflow_id = slow.launch({"emulator_outcome": "fail", "emulator_duration": 5})
    slow.emu.advance(60)
    described = slow.describe(workflow_id, attributes="messages")
    wf = described["workflow"]
    assert wf["status"] == "FAILED"
    assert wf["exitStatus"] == 1
    assert "terminated with an error exit status (1)" in wf["errorMessage"]
    assert "Work dir:" in wf["errorReport"]
    assert described["messages"] == [wf["errorMessage"]]
    assert described["jobInfo"]["exitCode"] == 1
    tasks = [t["task"] for t in slow.get(f"/workflow/{workflow_id}/tasks")["tasks"]]
    failed = [t for t in tasks if t["status"] == "FAILED"]
    assert len(failed) == 1
    assert failed[0]["exit"] == 1
    assert failed[0]["workdir"].startswith("s3://demo-bucket/work/")
    assert failed[0]["name"] == "sayHello (3)"
    entries = slow.get(f"/workflow/{workflow_id}/log")["log"]["entries"]
    assert "ERROR ~ Error executing process > 'sayHello (3)'" in entries


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("hang", "RUNNING"),
        ("unknown", "UNKNOWN"),
        ("cancel", "CANCELLED"),
        ("succeed", "SUCCEEDED"),
    ],
)
def test_outcome_control(slow: Api, outcome: str, status: str) -> None:
    workflow_id = slow.launch({"emulator_outcome": outcome})
    slow.emu.advance(10_000)
    assert slow.status(workflow_id) == status


def test_duration_control(slow: Api) -> None:
    short = slow.launch({"emulator_duration": 1})
    long = slow.launch({"emulator_duration": 500})
    slow.emu.advance(10)
    assert (slow.status(short), slow.status(long)) == ("SUCCEEDED", "RUNNING")


def test_cancel(slow: Api) -> None:
    workflow_id = slow.launch()
    slow.emu.advance(10)
    response = slow.post(f"/workflow/{workflow_id}/cancel", {})
    assert response.status_code == 204
    assert response.content == b""
    slow.emu.advance(100)
    described = slow.describe(workflow_id)
    assert described["workflow"]["status"] == "CANCELLED"
    statuses = [t["task"]["status"] for t in slow.get(f"/workflow/{workflow_id}/tasks")["tasks"]]
    assert "ABORTED" in statuses
    assert slow.post(f"/workflow/{workflow_id}/cancel", {}, force="true").status_code == 204
    assert slow.status(workflow_id) == "CANCELLED"


def test_cancel_of_a_finished_run_changes_nothing(slow: Api) -> None:
    workflow_id = slow.launch()
    slow.emu.advance(100)
    assert slow.post(f"/workflow/{workflow_id}/cancel").status_code == 204
    assert slow.status(workflow_id) == "SUCCEEDED"


def test_resume_keeps_the_session_and_caches_tasks(slow: Api) -> None:
    first = slow.launch({"emulator_outcome": "fail_once"}, runName="nightly")
    slow.emu.advance(100)
    assert slow.status(first) == "FAILED"
    previous = slow.get(f"/workflow/{first}/launch")["launch"]
    session = slow.describe(first)["workflow"]["sessionId"]
    assert previous["sessionId"] == session
    second = slow.launch(
        {"emulator_outcome": "fail_once"},
        id=slow.describe(first)["workflow"]["launchId"],
        runName="nightly-r2",
        resume=True,
        sessionId=session,
        revision=previous["resumeCommitId"],
        workDir=previous["resumeDir"],
    )
    slow.emu.advance(100)
    resumed = slow.describe(second)["workflow"]
    assert resumed["status"] == "SUCCEEDED"
    assert resumed["sessionId"] == session
    assert resumed["resume"] is True
    assert f"-resume {session}" in resumed["commandLine"]
    assert resumed["commitId"] == previous["resumeCommitId"]
    statuses = [t["task"]["status"] for t in slow.get(f"/workflow/{second}/tasks")["tasks"]]
    assert statuses == ["CACHED", "CACHED", "COMPLETED"]
    fresh = slow.launch()
    assert slow.describe(fresh)["workflow"]["sessionId"] != session


def test_delete(slow: Api) -> None:
    workflow_id = slow.launch()
    response = slow.http.delete(f"/workflow/{workflow_id}", params=slow.ws)
    assert response.status_code == 400
    assert "is active" in response.json()["message"]
    assert "Error ID" not in response.json()["message"]  # a validation error carries none
    forced = slow.http.delete(f"/workflow/{workflow_id}", params={**slow.ws, "force": "true"})
    assert forced.status_code == 204
    assert slow.http.get(f"/workflow/{workflow_id}", params=slow.ws).status_code == 403
    assert slow.get("/workflow")["workflows"] == []


def test_forced_status(slow: Api) -> None:
    workflow_id = slow.launch()
    slow.emu.set_status(workflow_id, "FAILED")
    assert slow.status(workflow_id) == "FAILED"
    slow.emu.advance(1000)
    assert slow.status(workflow_id) == "FAILED"
    assert slow.emu.workflow(workflow_id)["override"][0] == "FAILED"
    slow.emu.set_status(workflow_id, "UNKNOWN")
    assert slow.status(workflow_id) == "UNKNOWN"


def test_list_is_newest_first_and_paginated(slow: Api) -> None:
    ids = [slow.launch(runName=f"run-{n}") for n in range(5)]
    listed = slow.get("/workflow", includeTotalSize="true")
    assert [w["workflow"]["id"] for w in listed["workflows"]] == ids[::-1]
    assert listed["totalSize"] == 5
    assert listed["hasMore"] is False
    page = slow.get("/workflow", max=2, offset=2)
    assert [w["workflow"]["runName"] for w in page["workflows"]] == ["run-2", "run-1"]
    assert page["hasMore"] is True
    assert page["totalSize"] is None
    assert slow.get("/workflow", max=2, offset=4)["hasMore"] is False


def test_search_tokens(slow: Api) -> None:
    nightly = slow.launch(runName="nightly-1", labelIds=[100001])
    failing = slow.launch({"emulator_outcome": "fail"}, runName="nightly-2")
    other = slow.launch(runName="adhoc", pipeline="https://github.com/nf-core/rnaseq")
    slow.emu.advance(100)

    def search(query: str) -> set[str]:
        return {w["workflow"]["id"] for w in slow.get("/workflow", search=query)["workflows"]}

    assert search("status:failed") == {failing}
    assert search("runName:nightly-1") == {nightly}
    assert search("nightly") == {nightly, failing}
    assert search("nightly status:succeeded") == {nightly}
    assert search("rnaseq") == {other}
    assert search("projectName:nf-core/rnaseq") == {other}
    assert search("label:nightly") == {nightly}
    assert search(f"workflowId:{failing}") == {failing}
    session = slow.describe(other)["workflow"]["sessionId"]
    assert search(f"sessionId:{session}") == {other}
    assert search(f"userName:{slow.emu.user_name} status:succeeded") == {nightly, other}
    assert search("after:2000-01-01 before:2999-12-31") == {nightly, failing, other}
    assert search("before:2000-01-01") == set()


def test_labels_on_runs(slow: Api) -> None:
    workflow_id = slow.launch(labelIds=[100001])
    assert slow.describe(workflow_id)["labels"] is None
    response = slow.post(
        "/workflow/labels/add", {"workflowIds": [workflow_id], "labelIds": [100003]}
    )
    assert response.status_code == 204
    labels = slow.describe(workflow_id, attributes="labels")["labels"]
    assert [(x["name"], x.get("value")) for x in labels] == [
        ("nightly", None),
        ("team", "genomics"),
    ]
    listed = slow.get("/workflow", attributes="labels", search="label:team=genomics")
    assert [w["workflow"]["id"] for w in listed["workflows"]] == [workflow_id]
    bad = slow.post("/workflow/labels/add", {"workflowIds": [workflow_id], "labelIds": [5]})
    assert bad.status_code == 400


def test_tasks_paging_sorting_and_search(slow: Api) -> None:
    workflow_id = slow.launch(pipeline="https://github.com/nf-core/rnaseq")
    slow.emu.advance(100)
    everything = slow.get(f"/workflow/{workflow_id}/tasks")
    assert everything["total"] == 6
    page = slow.get(f"/workflow/{workflow_id}/tasks", max=2, offset=1)
    assert [t["task"]["taskId"] for t in page["tasks"]] == [2, 3]
    assert page["total"] == 6
    newest = slow.get(f"/workflow/{workflow_id}/tasks", sortBy="taskId", sortDir="desc", max=1)
    assert newest["tasks"][0]["task"]["taskId"] == 6
    found = slow.get(f"/workflow/{workflow_id}/tasks", search="star_align")
    assert [t["task"]["process"].rsplit(":", 1)[-1] for t in found["tasks"]] == ["STAR_ALIGN"]
    assert found["total"] == 1


def test_log_paging_with_tokens(slow: Api) -> None:
    workflow_id = slow.launch()
    slow.emu.advance(100)
    full = slow.get(f"/workflow/{workflow_id}/log")["log"]["entries"]
    collected: list[str] = []
    cursor: dict[str, Any] = {}
    for _ in range(len(full) + 1):
        page = slow.get(f"/workflow/{workflow_id}/log", maxLength=60, **cursor)["log"]
        collected += page["entries"]
        cursor = {"next": page["forwardToken"]}
        if not page["truncated"]:
            break
    assert collected == full
    tail = slow.get(f"/workflow/{workflow_id}/log", **cursor)["log"]
    assert tail["entries"] == []
    bad = slow.http.get(f"/workflow/{workflow_id}/log", params={**slow.ws, "next": "!!"})
    assert bad.status_code == 400


def test_workflow_launch_record(slow: Api) -> None:
    workflow_id = slow.launch(
        runName="recorded", configProfiles=["test"], paramsText="a: 1", revision="v1"
    )
    record = slow.get(f"/workflow/{workflow_id}/launch")["launch"]
    assert record["pipeline"] == HELLO
    assert record["configProfiles"] == ["test"]
    assert record["paramsText"] == "a: 1"
    assert record["revision"] == "v1"
    assert record["id"] == slow.describe(workflow_id)["workflow"]["launchId"]
    slow.emu.advance(5)
    started = slow.get(f"/workflow/{workflow_id}/launch")["launch"]
    assert len(started["resumeCommitId"]) == 40
    assert started["resumeDir"] == "s3://demo-bucket/work"


def test_launch_from_the_launchpad_links_the_pipeline(slow: Api) -> None:
    pipeline = slow.get("/pipelines", search="hello")["pipelines"][0]
    saved = slow.get(f"/pipelines/{pipeline['pipelineId']}/launch")["launch"]
    workflow_id = slow.launch(
        id=saved["id"], computeEnvId=saved["computeEnv"]["id"], workDir=saved["workDir"]
    )
    described = slow.describe(workflow_id, attributes="pipelineInfo")
    assert described["pipelineInfo"]["id"] == pipeline["pipelineId"]
    assert (
        slow.get(f"/workflow/{workflow_id}/launch")["launch"]["pipelineId"]
        == pipeline["pipelineId"]
    )


def test_many_runs_cost_nothing_while_idle() -> None:
    with TowerEmulator(speed=1000, rate_limit=None) as emu:
        api = Api(emu)
        ids = [api.launch() for _ in range(300)]
        emu.advance(100)
        listed = api.get("/workflow", search="status:succeeded", max=1, includeTotalSize="true")
        assert listed["totalSize"] == len(ids)
        assert emu.stats()["workflows"] == 300
