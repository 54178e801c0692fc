"""The emulator's wire format as Tower writes it: every declared property (null where unset),
timestamps in whole seconds, merged slashes, list items without unrequested attributes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import openapi_contract as contract
import pytest
import yaml
from nftower.testing import TowerEmulator
from nftower.testing import _dtos as dtos

HELLO = "https://github.com/nextflow-io/hello"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TIMESTAMP_KEYS = {"submit", "start", "complete", "dateCreated", "lastUpdated", "lastUsed",
                  "lastAccess", "timestamp"}  # fmt: skip


@pytest.fixture(scope="module")
def emu() -> Iterator[TowerEmulator]:
    with TowerEmulator(speed=1.0, rate_limit=None) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def api(emu: TowerEmulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {emu.token}"}
    with httpx.Client(base_url=emu.url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def running(emu: TowerEmulator, api: httpx.Client) -> str:
    """A run advanced into RUNNING, with a task or more done."""
    body = {"launch": {"pipeline": HELLO, "runName": "wire-format"}}
    answer = api.post("/workflow/launch", params={"workspaceId": emu.workspace_id}, json=body)
    workflow_id = str(answer.json()["workflowId"])
    emu.advance(2 + 8)
    return workflow_id


def get(api: httpx.Client, emu: TowerEmulator, path: str, **params: Any) -> Any:
    answer = api.get(path, params={"workspaceId": emu.workspace_id, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_checked_in_property_lists_are_derived_from_the_schema() -> None:
    contract.require_schema()
    source = contract.SCHEMA_PATH.read_text(encoding="utf-8")
    derived = dtos.derive(yaml.safe_load(source), source)
    shipped = Path(dtos.__file__).with_name(dtos.DATA_FILE).read_text(encoding="utf-8")
    assert json.loads(shipped) == derived, "regenerate: python -m nftower.testing._dtos <yaml>"
    assert shipped == dtos.render(derived)


def test_org_rows_carry_null_workspace_fields(emu: TowerEmulator, api: httpx.Client) -> None:
    user_id = api.get("/user-info").json()["user"]["id"]
    rows = api.get(f"/user/{user_id}/workspaces").json()["orgsAndWorkspaces"]
    org_rows = [row for row in rows if row["workspaceId"] is None]
    assert org_rows, rows
    for row in org_rows:
        assert row["workspaceName"] is None
        assert row["workspaceFullName"] is None
        assert row["visibility"] is None
    assert all(set(row) == set(dtos.properties("OrgAndWorkspaceDto")) for row in rows)


def test_a_plain_label_has_a_null_value(emu: TowerEmulator, api: httpx.Client) -> None:
    labels = get(api, emu, "/labels")["labels"]
    plain = [item for item in labels if not item["resource"]]
    assert plain
    assert all("value" in item and item["value"] is None for item in plain)


def test_a_running_workflow_has_null_completion_fields(
    emu: TowerEmulator, api: httpx.Client
) -> None:
    body = {"launch": {"pipeline": HELLO, "runName": "just-submitted"}}
    answer = api.post("/workflow/launch", params={"workspaceId": emu.workspace_id}, json=body)
    workflow = get(api, emu, f"/workflow/{answer.json()['workflowId']}")["workflow"]
    assert workflow["status"] == "SUBMITTED"
    for key in ("complete", "errorMessage", "commitId", "start", "duration", "exitStatus"):
        assert key in workflow
        assert workflow[key] is None
    assert set(workflow) == set(dtos.properties("WorkflowMaxDbDto"))


def _timestamps(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TIMESTAMP_KEYS and isinstance(value, str):
                yield value
            yield from _timestamps(value)
    elif isinstance(node, list):
        for value in node:
            yield from _timestamps(value)


def test_timestamps_are_whole_seconds_with_z(
    emu: TowerEmulator, api: httpx.Client, running: str
) -> None:
    bodies = [
        api.get("/user-info").json(),
        get(api, emu, f"/workflow/{running}"),
        get(api, emu, f"/workflow/{running}/tasks"),
        get(api, emu, "/workflow"),
        get(api, emu, "/compute-envs"),
        get(api, emu, "/labels"),
    ]
    found = [stamp for body in bodies for stamp in _timestamps(body)]
    assert len(found) > 10
    for stamp in found:
        assert TIMESTAMP.match(stamp), stamp
        datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")


def test_duplicate_slashes_are_merged(emu: TowerEmulator, running: str) -> None:
    headers = {"Authorization": f"Bearer {emu.token}"}
    user = httpx.get(emu.url + "//user-info", headers=headers)
    assert user.status_code == 200, user.text
    assert user.json()["user"]["userName"] == emu.user_name
    url = f"{emu.url}//workflow//{running}?workspaceId={emu.workspace_id}"
    described = httpx.get(url, headers=headers)
    assert described.status_code == 200, described.text
    assert described.json()["workflow"]["id"] == running
    recorded = [r.path for r in emu.requests if r.path.endswith("user-info")]
    assert "/user-info" in recorded


def test_list_items_leave_progress_and_labels_null_unless_asked(
    emu: TowerEmulator, api: httpx.Client, running: str
) -> None:
    plain = get(api, emu, "/workflow")["workflows"]
    assert plain
    assert all(item["progress"] is None and item["labels"] is None for item in plain)
    asked = get(api, emu, "/workflow", attributes="labels")["workflows"]
    assert all(isinstance(item["labels"], list) for item in asked)
    assert all(item["progress"] is None for item in asked)
    envs = get(api, emu, "/compute-envs")["computeEnvs"]
    assert all(env["labels"] is None for env in envs)
    labelled = get(api, emu, "/compute-envs", attributes="labels")["computeEnvs"]
    assert all(isinstance(env["labels"], list) for env in labelled)
    pipelines = get(api, emu, "/pipelines")["pipelines"]
    assert all(p["labels"] is None and p["computeEnv"] is None for p in pipelines)


def test_an_undeclared_property_is_an_internal_error_not_a_silent_extra() -> None:
    with pytest.raises(KeyError, match="colour"):
        dtos.complete("LabelDbDto", {"id": 1, "colour": "red"})
    nested = dtos.complete("ListLabelsResponse", {"labels": [{"id": 1}], "totalSize": 1})
    assert nested["labels"][0]["isDefault"] is None
    config = dtos.complete("ComputeConfig", {"discriminator": "aws-batch", "region": "eu"})
    assert set(config) == set(dtos.properties("AwsBatchConfig"))


@pytest.mark.parametrize("stamp", ["2021-09-22T05:45:44Z", "2021-09-22T05:45:44.250Z"])
def test_the_client_reads_both_timestamp_forms(stamp: str) -> None:
    from nftower import Workflow

    workflow = Workflow.model_validate({"workflow": {"id": "w", "submit": stamp}})
    assert workflow.submit is not None
    assert workflow.submit.utcoffset() is not None
    assert workflow.submit.replace(microsecond=0).isoformat() == "2021-09-22T05:45:44+00:00"


# -- error bodies as Tower writes them -----------------------------------------------------------
@pytest.mark.parametrize("status", [403, 401])
def test_a_bad_token_is_an_authentication_error_either_way(status: int) -> None:
    import nftower

    with TowerEmulator(bad_token_status=status, rate_limit=None) as emu:
        answer = httpx.get(emu.url + "/user-info", headers={"Authorization": "Bearer nope"})
        assert answer.status_code == status
        if status == 401:
            assert answer.content == b""
        else:
            assert answer.json() == {"message": "Operation not allowed"}
        bad = "nope-" + emu.token[:16]  # well formed, long enough, unknown to Tower
        with (
            nftower.TowerClient(emu.url, bad, emu.workspace_id) as tower,
            pytest.raises(nftower.AuthenticationError) as caught,
        ):
            tower.user_info()
    text = str(caught.value)
    assert f"{status} GET /user-info" in text
    assert "invalid or expired" in text
    assert emu.token[:8] not in text


@pytest.mark.parametrize("retry_after", [True, False])
def test_the_client_rides_out_429s_with_or_without_retry_after(retry_after: bool) -> None:
    import nftower

    with TowerEmulator(rate_limit=4, retry_after=retry_after) as emu:
        headers = {"Authorization": f"Bearer {emu.token}"}
        # a loaded machine may spread a short burst over more than one window: send more
        burst = [httpx.get(emu.url + "/user-info", headers=headers) for _ in range(40)]
        limited = next(answer for answer in burst if answer.status_code == 429)
        assert ("Retry-After" in limited.headers) is retry_after
        assert limited.json()["message"] == (
            "Maximum request rate exceeded. Wait 0secs before issuing a new request"
        )
        # A client whose own limit is above the server's meets 429s and still succeeds.
        with nftower.TowerClient(emu.url, emu.token, emu.workspace_id, rate_limit=50) as tower:
            names = [tower.user_info().user_name for _ in range(12)]
        assert names == [emu.user_name] * 12
        assert emu.stats()["rate_limited"] > 2


def test_an_internal_error_carries_tower_s_oops_and_an_error_id() -> None:
    import nftower

    with TowerEmulator(rate_limit=None) as emu:
        emu.inject("status", method="GET", path="/user-info", status=500, times=10)
        answer = httpx.get(emu.url + "/user-info", headers={"Authorization": f"Bearer {emu.token}"})
        message = answer.json()["message"]
        assert re.fullmatch(r"Oops\.\.\. Unable to process request - Error ID: \w{22}", message)
        with (
            nftower.TowerClient(emu.url, emu.token, emu.workspace_id, max_retries=0) as tower,
            pytest.raises(nftower.TowerAPIError) as caught,
        ):
            tower.user_info()
        answered = emu.requests[-1].response_json["message"]
    assert caught.value.error_id == answered.rsplit(" ", 1)[-1]
    assert f"(Error ID: {caught.value.error_id})" in str(caught.value)


def test_a_task_that_ran_carries_the_full_task_dto(
    emu: TowerEmulator, api: httpx.Client, running: str
) -> None:
    emu.advance(60)  # the run ends; every task has run
    tasks = [row["task"] for row in get(api, emu, f"/workflow/{running}/tasks")["tasks"]]
    done = [task for task in tasks if task["status"] == "COMPLETED"]
    assert done, tasks
    for task in done:
        assert set(task) == set(dtos.properties("Task"))
        assert task["module"] == []
        assert task["script"].strip()
        assert task["priceModel"] in ("standard", "spot")
        assert task["machineType"]
        assert task["nativeId"]
        assert task["container"]
        assert task["executor"] == "awsbatch"
        assert task["queue"]
        assert task["attempt"] == 1
        assert re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{6}", task["hash"]), task["hash"]
        prefix, rest = task["workdir"].split("/")[-2:]  # .../<2 hex>/<30 hex>, as the hash
        assert (prefix, rest[:6]) == (task["hash"][:2], task["hash"][3:])
        assert task["exitStatus"] == 0
        assert task["exit"] == 0
        assert task["duration"] >= task["realtime"] > 0
        assert isinstance(task["cost"], float)
        assert task["cost"] >= 0
        assert task["peakRss"] > 0
        assert task["readBytes"] > 0


@pytest.mark.parametrize("exit_value", ["0", 0])
def test_the_client_reads_a_task_exit_sent_as_a_string(exit_value: Any) -> None:
    from nftower import Task

    task = Task.model_validate({"task": {"taskId": 1, "status": "COMPLETED", "exit": exit_value}})
    assert task.exit_code == 0
