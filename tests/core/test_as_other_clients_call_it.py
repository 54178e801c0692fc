"""The emulator driven the way scripts written for real Tower call it: plain httpx, URL strings
joined by hand (a trailing slash on the endpoint gives ``//``), keys indexed directly, and
timestamps parsed strictly with ``%Y-%m-%dT%H:%M:%SZ``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from nftower.testing import TowerEmulator

STRICT = "%Y-%m-%dT%H:%M:%SZ"
SHORT_FORM = "nextflow-io/hello"


@pytest.fixture(scope="module")
def tower() -> Iterator[dict[str, Any]]:
    with TowerEmulator(speed=50.0, rate_limit=None) as emu:
        # as in a script: endpoint from the environment, often with a trailing slash
        yield {"endpoint": emu.url + "/", "token": emu.token, "ws": str(emu.workspace_id)}


def call(tower: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    url = tower["endpoint"] + path  # "http://host:port/" + "/user-info" -> "//user-info"
    headers = {"Authorization": "Bearer " + tower["token"], "Accept": "application/json"}
    answer = httpx.request(method, url, headers=headers, json=body, timeout=10)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def stamp(value: str) -> datetime:
    return datetime.strptime(value, STRICT)


def test_user_and_workspaces(tower: dict[str, Any]) -> None:
    user = call(tower, "GET", "/user-info")["user"]
    stamp(user["dateCreated"])
    rows = call(tower, "GET", "/user/" + str(user["id"]) + "/workspaces")["orgsAndWorkspaces"]
    orgs = [row["orgName"] for row in rows if row["workspaceId"] is None]
    spaces = {row["workspaceName"]: row["workspaceId"] for row in rows if row["workspaceId"]}
    assert orgs
    assert str(spaces["demo-workspace"]) == tower["ws"]


def test_compute_envs_with_labels(tower: dict[str, Any]) -> None:
    path = "/compute-envs?workspaceId=" + tower["ws"] + "&status=AVAILABLE&attributes=labels"
    envs = call(tower, "GET", path)["computeEnvs"]
    primary = [env for env in envs if env["primary"]]
    assert len(primary) == 1
    assert primary[0]["labels"] == [] or isinstance(primary[0]["labels"][0]["name"], str)
    assert primary[0]["workDir"].startswith("s3://")
    stamp(primary[0]["lastUsed"])


def test_labels_get_or_create(tower: dict[str, Any]) -> None:
    def get_or_create(name: str) -> int:
        found = call(tower, "GET", "/labels?workspaceId=" + tower["ws"] + "&search=" + name)
        for item in found["labels"]:
            if item["name"] == name and item["value"] is None:
                return int(item["id"])
        body = {"name": name, "resource": False}
        return int(call(tower, "POST", "/labels?workspaceId=" + tower["ws"], body)["id"])

    first = get_or_create("scripted")
    assert get_or_create("scripted") == first


def _launch(tower: dict[str, Any], pipeline: str) -> str:
    envs = call(tower, "GET", "/compute-envs?workspaceId=" + tower["ws"] + "&status=AVAILABLE")
    primary = next(env for env in envs["computeEnvs"] if env["primary"])
    body = {
        "launch": {
            "computeEnvId": primary["id"],
            "pipeline": pipeline,
            "workDir": primary["workDir"],
            "runName": "scripted-run",
        }
    }
    return str(
        call(tower, "POST", "/workflow/launch?workspaceId=" + tower["ws"], body)["workflowId"]
    )


def _wait(tower: dict[str, Any], workflow_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        described = call(tower, "GET", "/workflow/" + workflow_id + "?workspaceId=" + tower["ws"])
        workflow: dict[str, Any] = described["workflow"]
        if workflow["status"] in ("SUCCEEDED", "FAILED", "CANCELLED", "UNKNOWN"):
            return workflow
        assert workflow["complete"] is None
        assert time.monotonic() < deadline, workflow["status"]
        time.sleep(0.1)


def _describe_wait_tasks_log(tower: dict[str, Any], workflow_id: str) -> None:
    workflow = _wait(tower, workflow_id)
    assert workflow["status"] == "SUCCEEDED"
    assert workflow["errorMessage"] is None
    assert stamp(workflow["complete"]) >= stamp(workflow["start"]) >= stamp(workflow["submit"])
    assert workflow["projectName"] == SHORT_FORM
    tasks = call(tower, "GET", "/workflow/" + workflow_id + "/tasks?workspaceId=" + tower["ws"])
    assert tasks["total"] == len(tasks["tasks"]) > 0
    for row in tasks["tasks"]:
        task = row["task"]
        assert task["status"] == "COMPLETED"
        assert task["exitStatus"] == 0
        stamp(task["submit"])
        stamp(task["complete"])
        assert task["module"] == []
    log = call(tower, "GET", "/workflow/" + workflow_id + "/log?workspaceId=" + tower["ws"])["log"]
    assert log["pending"] is False
    assert any("Launching" in line or "process" in line.lower() for line in log["entries"])


def test_launch_by_url_describe_wait_tasks_and_log(tower: dict[str, Any]) -> None:
    workflow_id = _launch(tower, "https://github.com/" + SHORT_FORM)
    _describe_wait_tasks_log(tower, workflow_id)


def test_launch_by_short_form(tower: dict[str, Any]) -> None:
    workflow_id = _launch(tower, SHORT_FORM)
    _describe_wait_tasks_log(tower, workflow_id)
