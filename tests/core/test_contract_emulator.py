"""Every emulator operation, driven with plain httpx, checked against the official schema."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openapi_contract as contract
import pytest
from nftower.testing import RecordedRequest, TowerEmulator

pytestmark = pytest.mark.contract

HELLO = "https://github.com/nextflow-io/hello"
EXPECTED_OPERATIONS = {
    "GET /service-info",
    "GET /user-info",
    "GET /user/{userId}/workspaces",
    "GET /orgs",
    "GET /orgs/{orgId}/workspaces",
    "GET /pipelines",
    "GET /pipelines/{pipelineId}",
    "GET /pipelines/{pipelineId}/launch",
    "GET /compute-envs",
    "GET /compute-envs/{computeEnvId}",
    "GET /labels",
    "POST /labels",
    "POST /workflow/launch",
    "GET /workflow",
    "GET /workflow/{workflowId}",
    "GET /workflow/{workflowId}/progress",
    "GET /workflow/{workflowId}/tasks",
    "GET /workflow/{workflowId}/log",
    "GET /workflow/{workflowId}/launch",
    "POST /workflow/{workflowId}/cancel",
    "DELETE /workflow/{workflowId}",
    "POST /workflow/labels/add",
    "GET /workflow/random-name",
}


@pytest.fixture(scope="module")
def session() -> Iterator[list[RecordedRequest]]:
    """One emulator session exercising every operation, successes and errors."""
    contract.require_schema()
    with TowerEmulator(speed=0.01, rate_limit=None) as emu:
        headers = {"Authorization": f"Bearer {emu.token}"}
        with httpx.Client(base_url=emu.url, headers=headers) as api:
            _drive(emu, api)
        yield emu.requests


def _drive(emu: TowerEmulator, api: httpx.Client) -> None:
    ws: dict[str, Any] = {"workspaceId": emu.workspace_id}
    api.get("/service-info")
    user = api.get("/user-info").json()["user"]
    api.get(f"/user/{user['id']}/workspaces")
    org_id = api.get("/orgs").json()["organizations"][0]["orgId"]
    api.get(f"/orgs/{org_id}/workspaces")
    pipelines = api.get(
        "/pipelines",
        params={
            **ws,
            "search": "hello",
            "max": 10,
            "offset": 0,
            "visibility": "all",
            "attributes": "labels,computeEnv,optimized",
        },
    ).json()["pipelines"]
    pipeline_id = pipelines[0]["pipelineId"]
    api.get(f"/pipelines/{pipeline_id}", params={**ws, "attributes": "labels"})
    saved = api.get(f"/pipelines/{pipeline_id}/launch", params=ws).json()["launch"]
    api.get("/pipelines")  # personal context
    envs = api.get("/compute-envs", params={**ws, "status": "AVAILABLE", "attributes": "labels"})
    ce_id = envs.json()["computeEnvs"][0]["id"]
    api.get(f"/compute-envs/{ce_id}", params=ws)
    api.get("/labels", params={**ws, "search": "n", "max": 2, "offset": 1, "type": "all"})
    label_id = api.post("/labels", params=ws, json={"name": "contract", "resource": False}).json()[
        "id"
    ]
    api.post("/labels", params=ws, json={"name": "team", "value": "qa", "resource": True})
    launch = {
        "id": saved["id"],
        "computeEnvId": saved["computeEnv"]["id"],
        "pipeline": saved["pipeline"],
        "workDir": saved["workDir"],
        "revision": saved["revision"],
        "runName": "contract-run",
        "paramsText": '{"emulator_outcome": "fail", "emulator_duration": 5}',
        "configProfiles": ["docker"],
        "labelIds": [label_id],
        "pullLatest": False,
        "stubRun": False,
    }
    workflow_id = api.post("/workflow/launch", params=ws, json={"launch": launch}).json()[
        "workflowId"
    ]
    wf = f"/workflow/{workflow_id}"
    api.get(wf, params=ws)  # SUBMITTED
    emu.advance(4)
    api.get(wf, params={**ws, "attributes": "labels,messages,optimized,pipelineInfo"})  # RUNNING
    api.get(f"{wf}/log", params={**ws, "maxLength": 100})
    emu.advance(100)
    api.get(wf, params={**ws, "attributes": "labels,messages"})  # FAILED
    api.get(f"{wf}/progress", params=ws)
    api.get(
        f"{wf}/tasks",
        params={
            **ws,
            "max": 2,
            "offset": 0,
            "sortBy": "taskId",
            "sortDir": "desc",
            "search": "say",
        },
    )
    cursor = api.get(f"{wf}/log", params=ws).json()["log"]["forwardToken"]
    api.get(f"{wf}/log", params={**ws, "next": cursor})
    relaunch = api.get(f"{wf}/launch", params=ws).json()["launch"]
    resumed = {
        "id": relaunch["id"],
        "computeEnvId": relaunch["computeEnv"]["id"],
        "pipeline": relaunch["pipeline"],
        "workDir": relaunch["resumeDir"],
        "revision": relaunch["resumeCommitId"],
        "sessionId": relaunch["sessionId"],
        "resume": True,
        "runName": "contract-run-r2",
    }
    second = api.post("/workflow/launch", params=ws, json={"launch": resumed}).json()["workflowId"]
    api.post(f"/workflow/{second}/cancel", params={**ws, "force": "false"}, json={})
    api.post(
        "/workflow/labels/add", params=ws, json={"workflowIds": [second], "labelIds": [label_id]}
    )
    api.get(
        "/workflow",
        params={
            **ws,
            "search": "contract status:failed label:contract",
            "max": 10,
            "offset": 0,
            "includeTotalSize": "true",
            "attributes": "labels,optimized",
        },
    )
    api.get("/workflow", params={**ws, "attributes": "minimal"})
    # a pipeline shared by another workspace, and GitHub's short form
    shared = api.get("/pipelines", params={**ws, "visibility": "shared"}).json()["pipelines"][0]
    sourced = {**ws, "sourceWorkspaceId": shared["workspaceId"]}
    shared_launch = api.get(f"/pipelines/{shared['pipelineId']}/launch", params=sourced).json()
    by_source = {"id": shared_launch["launch"]["id"], "pipeline": shared["repository"]}
    api.post("/workflow/launch", params=sourced, json={"launch": by_source})
    api.post("/workflow/launch", params=ws, json={"launch": {"pipeline": "nextflow-io/hello"}})
    api.get("/workflow/random-name")
    api.delete(f"/workflow/{second}", params={**ws, "force": "true"})
    # errors: every error body must be an ErrorResponse
    api.post("/workflow/launch", params=ws, json={"launch": {"pipeline": HELLO, "runName": "1bad"}})
    api.post("/workflow/launch", params=ws, json={"launch": {"runName": "1bad", "labelIds": [1]}})
    api.get(f"/workflow/{second}", params=ws)  # 403 after delete, as Tower answers
    api.get("/pipelines/1", params=ws)  # 404
    api.get(wf)  # 403: another context
    api.get("/user-info", headers={"Authorization": "Bearer wrong"})  # 403
    emu.inject("rate_limit", path="^/workflow$")
    api.get("/workflow", params=ws)  # 429
    emu.inject("status", status=503, path="^/workflow/")
    api.get(wf, params=ws)  # 503


def test_every_operation_is_exercised(session: list[RecordedRequest]) -> None:
    seen = {f"{r.method} {contract.operation_for(r.method, r.path)[0]}" for r in session}
    assert seen == EXPECTED_OPERATIONS


def test_statuses_cover_errors(session: list[RecordedRequest]) -> None:
    assert {r.status for r in session} >= {200, 204, 400, 403, 404, 429, 503}


@pytest.mark.parametrize("operation", sorted(EXPECTED_OPERATIONS))
def test_operation_conforms(session: list[RecordedRequest], operation: str) -> None:
    method, template = operation.split(" ", 1)
    exchanges = [
        r
        for r in session
        if r.method == method and contract.operation_for(r.method, r.path)[0] == template
    ]
    assert exchanges
    for record in exchanges:
        contract.validate_exchange(record)


def test_whole_session_conforms(session: list[RecordedRequest]) -> None:
    assert contract.validate_session(session) == len(session)


def _describe(session: list[RecordedRequest]) -> RecordedRequest:
    return next(
        r
        for r in session
        if r.status == 200
        and r.path.startswith("/workflow/")
        and "workflow" in (r.response_json or {})
    )


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda body: body["workflow"].update(statusX="RUNNING"), "statusX"),
        (lambda body: body["workflow"].update(status="DONE"), "DONE"),
        (lambda body: body["workflow"].update(ownerId="12"), "integer"),
        (lambda body: body["workflow"].update(submit="yesterday"), "date-time"),
        (lambda body: body["progress"]["workflowProgress"].pop("succeeded"), "succeeded"),
    ],
)
def test_validator_catches_wrong_responses(
    session: list[RecordedRequest], mutate: Any, expected: str
) -> None:
    import copy

    record = _describe(session)
    body = copy.deepcopy(record.response_json)
    mutate(body)
    with pytest.raises(contract.ContractError, match=expected):
        contract.validate_exchange(dataclasses.replace(record, response_json=body))


def test_validator_catches_wrong_requests(session: list[RecordedRequest]) -> None:
    launch = next(r for r in session if r.path == "/workflow/launch" and r.status == 200)
    wrong_field = {"launch": {**launch.json["launch"], "computeEnvID": "x"}}
    with pytest.raises(contract.ContractError, match="computeEnvID"):
        contract.validate_exchange(dataclasses.replace(launch, json=wrong_field))
    listing = next(r for r in session if r.path == "/workflow" and r.status == 200)
    with pytest.raises(contract.ContractError, match="status"):
        contract.validate_exchange(
            dataclasses.replace(listing, query={"status": "FAILED"}, query_string="status=FAILED")
        )
    with pytest.raises(contract.ContractError, match="no such operation"):
        contract.validate_exchange(dataclasses.replace(listing, path="/workflows"))
    with pytest.raises(contract.ContractError, match="418"):
        contract.validate_exchange(dataclasses.replace(listing, status=418))


def test_missing_schema_skips_with_its_provenance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contract, "SCHEMA_PATH", Path("/nonexistent/seqera-api.yaml"))
    with pytest.raises(pytest.skip.Exception, match=r"Seqera API 1\.187\.0"):
        contract.require_schema()
