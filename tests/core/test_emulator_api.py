"""Emulator routes over real HTTP: identity, workspaces, pipelines, compute envs, labels,
launch validation, auth and error bodies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from nftower.testing import TowerEmulator

ERROR_ID = re.compile(r" - Error ID: [A-Za-z0-9]{22}$")
HELLO = "https://github.com/nextflow-io/hello"
OTHER_WORKSPACE = 227463125598201  # the seeded "sandbox" workspace


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
def ws(emu: TowerEmulator) -> dict[str, Any]:
    return {"workspaceId": emu.workspace_id}


def assert_error(response: httpx.Response, status: int, text: str = "") -> str:
    """A refused request: Tower's body is the message alone (no Error ID)."""
    assert response.status_code == status, response.text
    message = response.json()["message"]
    assert "Error ID" not in message, message
    assert text.lower() in message.lower()
    return str(message)


def launch(api: httpx.Client, params: dict[str, Any], **fields: Any) -> httpx.Response:
    return api.post(
        "/workflow/launch", params=params, json={"launch": {"pipeline": HELLO, **fields}}
    )


def test_service_info_needs_no_token(emu: TowerEmulator) -> None:
    info = httpx.get(f"{emu.url}/service-info").json()["serviceInfo"]
    assert info["apiVersion"] == "1.187.0"


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer"])
def test_bad_or_missing_token_is_forbidden(emu: TowerEmulator, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    assert_error(httpx.get(f"{emu.url}/user-info", headers=headers), 403, "Operation not allowed")


def test_added_token_is_accepted(emu: TowerEmulator) -> None:
    emu.add_token("second-token")
    response = httpx.get(f"{emu.url}/user-info", headers={"Authorization": "Bearer second-token"})
    assert response.status_code == 200


def test_user_and_workspaces(emu: TowerEmulator, api: httpx.Client) -> None:
    user = api.get("/user-info").json()["user"]
    assert user["userName"] == emu.user_name
    rows = api.get(f"/user/{user['id']}/workspaces").json()["orgsAndWorkspaces"]
    names = {(r["orgName"], r.get("workspaceName")) for r in rows}
    assert (emu.org_name, emu.workspace_name) in names
    assert (emu.org_name, None) in names  # the organisation row has no workspace
    mine = next(r for r in rows if r.get("workspaceName") == emu.workspace_name)
    assert mine["workspaceId"] == emu.workspace_id
    assert_error(api.get(f"/user/{user['id'] + 1}/workspaces"), 403)


def test_orgs_and_their_workspaces(emu: TowerEmulator, api: httpx.Client) -> None:
    body = api.get("/orgs").json()
    assert body["totalSize"] == 1
    org = body["organizations"][0]
    assert org["name"] == emu.org_name
    spaces = api.get(f"/orgs/{org['orgId']}/workspaces").json()["workspaces"]
    assert {w["name"] for w in spaces} == {emu.workspace_name, "sandbox"}
    assert_error(api.get("/orgs/1/workspaces"), 403)


def test_unknown_workspace_is_forbidden(api: httpx.Client) -> None:
    assert_error(api.get("/pipelines", params={"workspaceId": 42}), 403)


def test_pipelines_search_pagination_and_attributes(api: httpx.Client, ws: dict[str, Any]) -> None:
    body = api.get("/pipelines", params=ws).json()
    assert [p["name"] for p in body["pipelines"]] == ["hello", "rnaseq"]
    assert body["totalSize"] == 2
    assert body["pipelines"][0]["labels"] is None  # not asked for: null
    page = api.get("/pipelines", params={**ws, "max": 1, "offset": 1}).json()
    assert [p["name"] for p in page["pipelines"]] == ["rnaseq"]
    assert page["totalSize"] == 2
    found = api.get("/pipelines", params={**ws, "search": "RNA"}).json()
    assert [p["name"] for p in found["pipelines"]] == ["rnaseq"]
    rich = api.get("/pipelines", params={**ws, "attributes": "labels,computeEnv"}).json()
    hello = rich["pipelines"][0]
    assert [label["name"] for label in hello["labels"]] == ["nightly"]
    assert hello["computeEnv"]["name"] == "demo-ce"


def test_personal_context_has_its_own_launchpad(api: httpx.Client) -> None:
    body = api.get("/pipelines").json()
    assert [p["name"] for p in body["pipelines"]] == ["hello"]
    assert body["pipelines"][0]["workspaceId"] is None


def test_describe_pipeline_and_saved_launch(api: httpx.Client, ws: dict[str, Any]) -> None:
    listed = api.get("/pipelines", params={**ws, "search": "rnaseq"}).json()["pipelines"][0]
    pipeline_id = listed["pipelineId"]
    described = api.get(f"/pipelines/{pipeline_id}", params=ws).json()["pipeline"]
    assert described["repository"] == "https://github.com/nf-core/rnaseq"
    saved = api.get(f"/pipelines/{pipeline_id}/launch", params=ws).json()["launch"]
    assert saved["computeEnv"]["id"]
    assert saved["workDir"] == "s3://demo-bucket/work"
    assert "outdir:" in saved["paramsText"]
    assert_error(api.get(f"/pipelines/{pipeline_id}", params={"workspaceId": OTHER_WORKSPACE}), 403)
    assert_error(api.get("/pipelines/1", params=ws), 404)


def test_compute_envs(api: httpx.Client, ws: dict[str, Any]) -> None:
    envs = api.get("/compute-envs", params=ws).json()["computeEnvs"]
    assert [e["name"] for e in envs if e["primary"]] == ["demo-ce"]
    assert len(envs) == 2
    assert api.get("/compute-envs", params={**ws, "status": "DISABLED"}).json() == {
        "computeEnvs": []
    }
    primary = next(e for e in envs if e["primary"])
    described = api.get(f"/compute-envs/{primary['id']}", params=ws).json()["computeEnv"]
    assert described["config"]["workDir"] == "s3://demo-bucket/work"
    assert_error(api.get(f"/compute-envs/{primary['id']}"), 403)
    assert_error(api.get("/compute-envs/nope", params=ws), 404)


def test_labels_list_search_and_create(api: httpx.Client, ws: dict[str, Any]) -> None:
    body = api.get("/labels", params=ws).json()
    assert body["totalSize"] == 3
    page = api.get("/labels", params={**ws, "max": 1, "offset": 2}).json()
    assert len(page["labels"]) == 1
    assert page["totalSize"] == 3
    assert [
        x["name"] for x in api.get("/labels", params={**ws, "search": "nig"}).json()["labels"]
    ] == ["nightly"]
    resource = api.get("/labels", params={**ws, "type": "resource"}).json()["labels"]
    assert [(x["name"], x["value"]) for x in resource] == [("team", "genomics")]
    created = api.post("/labels", params=ws, json={"name": "weekly"}).json()
    assert created["name"] == "weekly"
    assert isinstance(created["id"], int)
    again = api.post("/labels", params=ws, json={"name": "weekly"})
    assert again.status_code == 200
    assert again.json() == created  # get-or-create: an existing name answers with that label
    assert_error(api.post("/labels", params=ws, json={"name": "-bad"}), 400, "invalid label")
    assert_error(api.post("/labels", params=ws, json={"name": "x"}), 400, "2 to 39")
    assert_error(api.post("/labels", params=ws, json={"name": "y" * 40}), 400, "2 to 39")
    assert api.post("/labels", params=ws, json={"name": "y" * 39}).status_code == 200
    assert_error(api.post("/labels", params=ws, json={"name": "env", "resource": True}), 400)


def test_launch_defaults_to_the_primary_compute_env(api: httpx.Client, ws: dict[str, Any]) -> None:
    workflow_id = launch(api, ws).json()["workflowId"]
    described = api.get(f"/workflow/{workflow_id}/launch", params=ws).json()["launch"]
    assert described["computeEnv"]["name"] == "demo-ce"
    assert described["workDir"] == "s3://demo-bucket/work"
    run = api.get(f"/workflow/{workflow_id}", params=ws).json()["workflow"]
    assert re.fullmatch(r"[a-z]+_[a-z]+", run["runName"])  # a random name was chosen


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"computeEnvId": "nope"}, "compute environment"),
        ({"pipeline": None}, "missing pipeline"),
        ({"pipeline": "hello"}, "invalid pipeline repository"),
        ({"paramsText": "a: [unclosed"}, "not valid json or yaml"),
        ({"paramsText": "[1, 2]"}, "expected a json/yaml object"),
        ({"runName": "Nightly Run"}, "invalid run name"),
        ({"runName": "a" * 81}, "invalid run name"),
        ({"runName": "run--1"}, "invalid run name"),
        ({"labelIds": [999]}, "label 999"),
        ({"resume": True}, "session"),
        ({"resume": True, "sessionId": "no-such-session"}, "unknown session"),
        ({"id": "unknownLaunchId"}, "launch"),
        ({"configProfiles": "docker"}, "configProfiles"),
        ({"paramsText": '{"emulator_outcome": "explode"}'}, "emulator_outcome"),
    ],
)
def test_invalid_launches_are_rejected(
    api: httpx.Client, ws: dict[str, Any], fields: dict[str, Any], text: str
) -> None:
    assert_error(launch(api, ws, **fields), 400, text)


def test_compute_env_of_another_workspace_is_rejected(api: httpx.Client) -> None:
    demo_ce = "4ZnqLo2bX8cGSMTxA7Bi5d"
    response = launch(api, {"workspaceId": OTHER_WORKSPACE}, computeEnvId=demo_ce)
    assert_error(response, 400, "compute environment")


def test_several_problems_are_listed(api: httpx.Client, ws: dict[str, Any]) -> None:
    response = launch(api, ws, runName="1bad", labelIds=[1])
    assert_error(response, 400, "invalid launch request")
    assert {e["code"] for e in response.json()["errors"]} == {"invalid_run_name", "invalid_label"}


def test_launch_body_must_be_json(api: httpx.Client, ws: dict[str, Any]) -> None:
    response = api.post(
        "/workflow/launch",
        params=ws,
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400, "malformed json")
    assert_error(api.post("/workflow/launch", params=ws, json={"pipeline": HELLO}), 400)


def test_resume_of_a_run_that_never_started(api: httpx.Client, ws: dict[str, Any]) -> None:
    first = launch(api, ws).json()["workflowId"]  # speed 1: SUBMITTED for 2 s
    session = api.get(f"/workflow/{first}", params=ws).json()["workflow"]["sessionId"]
    launched = api.get(f"/workflow/{first}/launch", params=ws).json()["launch"]
    assert launched["resumeCommitId"] is None
    assert_error(launch(api, ws, resume=True, sessionId=session), 400, "resumeCommitId")


def test_runs_are_scoped_to_their_context(api: httpx.Client, ws: dict[str, Any]) -> None:
    workflow_id = launch(api, ws, runName="scoped-run").json()["workflowId"]
    assert_error(api.get(f"/workflow/{workflow_id}", params={"workspaceId": OTHER_WORKSPACE}), 403)
    assert_error(api.get(f"/workflow/{workflow_id}"), 403)
    personal = api.get("/workflow", params={"search": "runName:scoped-run"}).json()
    assert personal["workflows"] == []
    personal_id = launch(api, {}, runName="personal-run").json()["workflowId"]
    assert api.get(f"/workflow/{personal_id}").json()["workflow"]["runName"] == "personal-run"
    listed = api.get("/workflow", params={**ws, "search": "runName:personal-run"}).json()
    assert listed["workflows"] == []


def test_unknown_workflow_and_route(api: httpx.Client, ws: dict[str, Any]) -> None:
    # as Tower: an unknown run answers 403, with the very body of a bad token
    assert_error(api.get("/workflow/doesNotExist", params=ws), 403, "Operation not allowed")
    assert_error(api.get("/no/such/route"), 404)
    assert_error(api.put("/workflow/launch"), 405)


def test_bad_query_values(api: httpx.Client, ws: dict[str, Any]) -> None:
    assert_error(api.get("/workflow", params={**ws, "max": "ten"}), 400, "max")
    assert_error(api.get("/workflow", params={**ws, "offset": -1}), 400)
    assert_error(api.get("/workflow", params={**ws, "search": "after:soon"}), 400, "date")


def test_random_name_is_a_valid_run_name(api: httpx.Client) -> None:
    name = api.get("/workflow/random-name").json()["name"]
    assert re.fullmatch(r"^[a-z](?:[a-z\d]|[-_](?=[a-z\d])){0,79}$", name)
