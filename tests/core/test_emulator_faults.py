"""The emulator's ways of breaking an answer or a connection, seen by a plain httpx client:
resets before and after handling, a body cut short, a proxy's HTML page, a 429 without
``Retry-After``, and a server gone for a while (stopped, then back on the same port)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from nftower.testing import TowerEmulator

LAUNCH = {"launch": {"pipeline": "https://github.com/nextflow-io/hello", "runName": "cut"}}


@pytest.fixture
def emu() -> Iterator[TowerEmulator]:
    with TowerEmulator(speed=50) as emulator:
        yield emulator


def _launch(emu: TowerEmulator) -> httpx.Response:
    return httpx.post(
        f"{emu.url}/workflow/launch",
        params={"workspaceId": emu.workspace_id},
        json=LAUNCH,
        headers={"Authorization": f"Bearer {emu.token}"},
    )


@pytest.mark.parametrize(("kind", "launched"), [("reset_before", 0), ("reset_after", 1)])
def test_a_reset_is_a_read_error_and_handles_the_request_only_after(
    emu: TowerEmulator, kind: str, launched: int
) -> None:
    emu.inject(kind, method="POST", path=r"^/workflow/launch$")
    with pytest.raises(httpx.ReadError, match="reset"):
        _launch(emu)
    assert len(emu.launches) == launched
    (record,) = emu.requests
    assert (record.fault, record.status) == (kind, None)


def test_a_truncated_body_fails_while_reading_it(emu: TowerEmulator) -> None:
    emu.inject("truncated_body", method="POST", path=r"^/workflow/launch$")
    with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        _launch(emu)
    assert len(emu.launches) == 1  # handled: the run exists, its id never arrived
    assert _launch(emu).status_code == 200  # the next request is answered normally


def test_html_is_a_proxy_page_and_handles_nothing(emu: TowerEmulator) -> None:
    emu.inject("html", status=502, method="POST")
    answer = _launch(emu)
    assert answer.status_code == 502
    assert answer.headers["content-type"] == "text/html"
    assert "<title>502 Bad Gateway</title>" in answer.text
    assert emu.launches == []


def test_a_rate_limit_fault_without_retry_after(emu: TowerEmulator) -> None:
    emu.inject("rate_limit", retry_after=None)
    answer = _launch(emu)
    assert answer.status_code == 429
    assert "retry-after" not in answer.headers
    assert answer.json()["message"].startswith("Maximum request rate exceeded")
    admin = httpx.post(
        f"{emu.url}/_emulator/faults", json={"kind": "rate_limit", "retry_after": None}
    )
    assert admin.json()["fault"]["retry_after"] is None


def test_stopped_then_started_serves_the_same_world_on_the_same_port(emu: TowerEmulator) -> None:
    url = emu.url
    workflow_id = _launch(emu).json()["workflowId"]
    emu.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/service-info")
    emu.start()
    assert emu.url == url
    headers = {"Authorization": f"Bearer {emu.token}"}
    params = {"workspaceId": emu.workspace_id}
    answer = httpx.get(f"{url}/workflow/{workflow_id}", params=params, headers=headers)
    assert answer.json()["workflow"]["id"] == workflow_id


def test_a_redirect_points_elsewhere_and_handles_nothing(emu: TowerEmulator) -> None:
    emu.inject("redirect", location="https://sso.example.org/login?next=/api")
    answer = _launch(emu)
    assert answer.status_code == 302
    assert answer.headers["location"] == "https://sso.example.org/login?next=/api"
    assert answer.content == b""
    emu.inject("redirect", status=301)
    assert (_launch(emu).status_code, _launch(emu).status_code) == (301, 200)
    assert len(emu.launches) == 1


def test_inject_is_documented_as_it_is() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "emulator.md").read_text()
    written = re.search(r"emu\.inject\((.*?)\)\n", text, flags=re.DOTALL)
    assert written is not None
    parameters = list(inspect.signature(TowerEmulator.inject).parameters.values())[1:]
    shown = ", ".join(
        str(p.replace(annotation=inspect.Parameter.empty)).replace("'", '"') for p in parameters
    )
    assert re.sub(r"\s+", " ", written.group(1)) == shown.replace("kind, ", "kind, *, ", 1)


def test_an_empty_body_after_handling_the_request(emu: TowerEmulator) -> None:
    emu.inject("empty_body", method="POST")
    answer = _launch(emu)
    assert (answer.status_code, answer.content) == (200, b"")
    assert len(emu.launches) == 1


def test_faults_lists_those_not_used_up(emu: TowerEmulator) -> None:
    emu.inject("status", path="^/user-info$", times=2)
    emu.inject("delay", path="^/never$", times=None)
    headers = {"Authorization": f"Bearer {emu.token}"}
    assert httpx.get(f"{emu.url}/user-info", headers=headers).status_code == 503
    assert [(f["kind"], f["times"]) for f in emu.faults] == [("status", 1), ("delay", None)]
    assert httpx.get(f"{emu.url}/_emulator/faults").json()["faults"] == emu.faults
