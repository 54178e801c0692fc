"""Edges over real HTTP: rate limiting, fault injection, recording and the admin API."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from nftower.testing import TowerEmulator

HELLO = "https://github.com/nextflow-io/hello"
LAUNCH = {"launch": {"pipeline": HELLO, "runName": "fault-run"}}


@pytest.fixture
def emu() -> Iterator[TowerEmulator]:
    with TowerEmulator(speed=1.0, rate_limit=None) as emulator:
        yield emulator


@pytest.fixture
def api(emu: TowerEmulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {emu.token}"}
    with httpx.Client(base_url=emu.url, headers=headers, timeout=10) as client:
        yield client


def launch(api: httpx.Client, emu: TowerEmulator) -> httpx.Response:
    return api.post("/workflow/launch", params={"workspaceId": emu.workspace_id}, json=LAUNCH)


# -- rate limiting ------------------------------------------------------------------------------
def test_rate_limit_answers_429_with_retry_after() -> None:
    with TowerEmulator(rate_limit=5, rate_limit_window=60.0) as emu:
        headers = {"Authorization": f"Bearer {emu.token}"}
        with httpx.Client(base_url=emu.url, headers=headers) as api:
            codes = [api.get("/user-info").status_code for _ in range(8)]
            limited = api.get("/user-info")
        assert codes == [200] * 5 + [429] * 3
        assert limited.headers["Retry-After"].isdigit()
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        message = limited.json()["message"]  # Tower's text, without an Error ID
        assert re.fullmatch(
            r"Maximum request rate exceeded\. Wait \d+secs before issuing a new request", message
        )
        stats = emu.stats()
        assert stats["rate_limited"] == 4
        assert stats["requests"] == 9  # the rejected calls are recorded too
        assert emu.max_calls_in_window(60.0, emu.token) == 9
        other = httpx.get(f"{emu.url}/user-info", headers={"Authorization": "Bearer second"})
        assert other.status_code == 403
        emu.add_token("second")
        other = httpx.get(f"{emu.url}/user-info", headers={"Authorization": "Bearer second"})
        assert other.status_code == 200  # each token has its own bucket


def test_rate_limit_window_slides() -> None:
    with TowerEmulator(rate_limit=2, rate_limit_window=0.5) as emu:
        headers = {"Authorization": f"Bearer {emu.token}"}
        with httpx.Client(base_url=emu.url, headers=headers) as api:
            first = [api.get("/user-info").status_code for _ in range(3)]
            assert first[-1] == 429
            wait = float(api.get("/user-info").headers["Retry-After"])
            assert wait == 1  # whole seconds, rounded up
            time.sleep(0.55)  # everything above has left the window by now
            assert api.get("/user-info").status_code == 200


def test_service_info_is_not_rate_limited_without_token() -> None:
    with TowerEmulator(rate_limit=1, rate_limit_window=60.0) as emu:
        codes = {httpx.get(f"{emu.url}/service-info").status_code for _ in range(5)}
        assert codes == {200}


def test_rate_limit_none_disables_it(emu: TowerEmulator, api: httpx.Client) -> None:
    assert {api.get("/user-info").status_code for _ in range(60)} == {200}


# -- faults -----------------------------------------------------------------------------------
def test_status_fault_hits_matching_requests_only(emu: TowerEmulator, api: httpx.Client) -> None:
    emu.inject("status", method="GET", path=r"^/user-info$", status=502, times=2)
    assert api.get("/service-info").status_code == 200
    assert api.post("/labels", json={"name": "x"}).status_code != 502
    first, second, third = (api.get("/user-info") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (502, 502, 200)
    assert "Error ID: " in first.json()["message"]
    assert [r.fault for r in emu.requests if r.path == "/user-info"] == ["status", "status", None]


def test_rate_limit_fault_sets_retry_after(emu: TowerEmulator, api: httpx.Client) -> None:
    emu.inject("rate_limit", retry_after=0.5)
    response = api.get("/user-info")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "0.5"
    assert api.get("/user-info").status_code == 200


def test_delay_fault_then_normal_answer(emu: TowerEmulator, api: httpx.Client) -> None:
    emu.inject("delay", delay=0.05)
    assert api.get("/user-info").status_code == 200
    assert emu.requests[-1].fault == "delay"


def test_a_delayed_launch_is_processed_after_the_client_gave_up(
    emu: TowerEmulator, api: httpx.Client
) -> None:
    emu.inject("delay", path=r"^/workflow/launch$", delay=0.3)
    with pytest.raises(httpx.ReadTimeout):
        api.post(
            "/workflow/launch",
            params={"workspaceId": emu.workspace_id},
            json=LAUNCH,
            timeout=0.05,
        )
    deadline = time.monotonic() + 10
    while not emu.launches and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(emu.launches) == 1


def test_drop_before_is_a_transport_error_and_creates_nothing(
    emu: TowerEmulator, api: httpx.Client
) -> None:
    emu.inject("drop_before", method="POST", path=r"^/workflow/launch$")
    with pytest.raises(httpx.TransportError):
        launch(api, emu)
    assert emu.launches == []
    record = emu.requests[-1]
    assert (record.status, record.fault, record.workflow_id) == (None, "drop_before", None)
    assert launch(api, emu).status_code == 200


def test_drop_after_creates_the_run_but_loses_the_answer(
    emu: TowerEmulator, api: httpx.Client
) -> None:
    emu.inject("drop_after", path=r"^/workflow/launch$")
    with pytest.raises(httpx.TransportError):
        launch(api, emu)
    (created,) = emu.launches
    assert created.status is None
    assert created.workflow_id
    found = api.get(
        "/workflow", params={"workspaceId": emu.workspace_id, "search": "runName:fault-run"}
    ).json()["workflows"]
    assert [w["workflow"]["id"] for w in found] == [created.workflow_id]


def test_malformed_json_fault(emu: TowerEmulator, api: httpx.Client) -> None:
    emu.inject("malformed_json", path="^/user-info$")
    response = api.get("/user-info")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert api.get("/user-info").json()["user"]["userName"] == emu.user_name


def test_fault_until_cleared(emu: TowerEmulator, api: httpx.Client) -> None:
    emu.inject("status", status=500, times=None)
    assert {api.get("/user-info").status_code for _ in range(3)} == {500}
    emu.clear_faults()
    assert api.get("/user-info").status_code == 200


@pytest.mark.parametrize(
    "kwargs",
    [{"kind": "explode"}, {"kind": "status", "status": 42}, {"kind": "delay", "delay": -1}],
)
def test_invalid_faults_are_refused(emu: TowerEmulator, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        emu.inject(**kwargs)


# -- records --------------------------------------------------------------------------------
def test_records_describe_each_exchange_without_the_token(
    emu: TowerEmulator, api: httpx.Client
) -> None:
    launch(api, emu)
    api.get("/workflow", params={"workspaceId": emu.workspace_id, "attributes": "labels"})
    post, listing = emu.requests
    assert post.operation == "POST /workflow/launch"
    assert post.json == LAUNCH
    assert post.status == 200
    assert post.response_json == {"workflowId": post.workflow_id}
    assert post.workspace_id == emu.workspace_id
    assert post.token_hash is not None
    assert len(post.token_hash) == 64
    assert "authorization" not in post.headers
    assert listing.query == {"workspaceId": str(emu.workspace_id), "attributes": "labels"}
    assert "attributes=labels" in listing.query_string
    assert emu.token not in repr(emu.requests)
    assert emu.token not in json.dumps(emu.stats())
    emu.clear_requests()
    assert emu.requests == []


def test_token_is_not_in_repr(emu: TowerEmulator) -> None:
    assert emu.token not in repr(emu)


# -- admin API --------------------------------------------------------------------------------
def test_admin_api(emu: TowerEmulator, api: httpx.Client) -> None:
    admin = httpx.Client(base_url=f"{emu.url}/_emulator")
    info = admin.get("").json()
    assert info["workspaceId"] == emu.workspace_id
    assert emu.token not in json.dumps(info)
    workflow_id = launch(api, emu).json()["workflowId"]
    assert admin.get("/requests").json()["requests"][0]["path"] == "/workflow/launch"
    assert admin.get("/stats").json()["launches"] == 1
    assert admin.post("/faults", json={"kind": "status", "status": 418}).status_code == 201
    assert admin.get("/faults").json()["faults"][0]["status"] == 418
    assert api.get("/user-info").status_code == 418
    assert admin.post("/faults", json={"kind": "status", "times": None}).status_code == 201
    assert admin.delete("/faults").status_code == 204
    assert api.get("/user-info").status_code == 200
    bad = admin.post("/faults", json={"kind": "boom"})
    assert bad.status_code == 400
    assert "unknown fault kind" in bad.json()["message"]
    forced = admin.post(f"/workflows/{workflow_id}/status", json={"status": "FAILED"})
    assert forced.json()["status"] == "FAILED"
    assert admin.get(f"/workflows/{workflow_id}").json()["status"] == "FAILED"
    assert admin.post("/workflows/nope/status", json={"status": "FAILED"}).status_code == 404
    assert admin.post("/advance", json={"seconds": 5}).status_code == 204
    assert admin.post("/advance", json={"seconds": "x"}).status_code == 400
    assert admin.post("/tokens", json={"token": "extra"}).status_code == 204
    assert api.get("/user-info", headers={"Authorization": "Bearer extra"}).status_code == 200
    assert admin.post("/tokens", json={}).status_code == 400
    before = len(emu.requests)
    assert admin.delete("/requests").status_code == 204
    assert before > 0
    assert emu.requests == []  # and admin calls themselves were never recorded
    admin.close()


def test_admin_api_is_not_rate_limited() -> None:
    with TowerEmulator(rate_limit=1, rate_limit_window=60.0) as emu:
        codes = {httpx.get(f"{emu.url}/_emulator/stats").status_code for _ in range(5)}
        assert codes == {200}
        assert emu.requests == []
