"""The token never leaks (logs at DEBUG, reprs, errors, pickles); the twins stay identical."""

from __future__ import annotations

import inspect
import logging
import pickle
from typing import Any

import pytest
from nftower import AsyncTowerClient, TowerClient, TowerError
from nftower.testing import TowerEmulator

TOKEN = "tok-SECRET-4c1d9a7e5f3b2a10"


def test_token_never_appears_in_logs_errors_or_reprs(
    tower_emulator: TowerEmulator,
    make_client: Any,
    caplog: pytest.LogCaptureFixture,
    fast_sleep: list[float],
) -> None:
    tower_emulator.add_token(TOKEN)
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    tower = make_client(tower_emulator.url, TOKEN, "demo-org/demo-workspace")
    errors: list[TowerError] = []
    workflow_id = tower.launch("hello", run_name="hygiene-1", params={"emulator_outcome": "fail"})
    tower.wait(workflow_id, poll_interval=0.05, timeout=30)
    tower.failure_report(workflow_id)
    tower_emulator.inject("status", method="GET", path=r"^/compute-envs$", status=503)
    tower.list_compute_envs()
    tower_emulator.inject("drop_after", method="POST", path=r"^/workflow/launch$")
    for action in (
        lambda: tower.launch("hello", run_name="hygiene-2"),
        lambda: tower.get_workflow("missing"),
        lambda: tower.launch("hello", params={"emulator_outcome": "bogus"}),
        lambda: make_client(tower_emulator.url, TOKEN + "x", 1).user_info(),
    ):
        with pytest.raises(TowerError) as caught:
            action()
        errors.append(caught.value)

    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("GET /workflow/") for m in messages)  # DEBUG lines were captured
    assert any("Retrying" in m for m in messages)
    for text in messages:
        assert TOKEN not in text
    assert TOKEN not in caplog.text
    for error in errors:
        for text in (str(error), repr(error), repr(error.__dict__), str(error.__cause__)):
            assert TOKEN not in text
        assert TOKEN.encode() not in pickle.dumps(error)
    assert TOKEN not in repr(tower)
    assert TOKEN not in str(getattr(tower, "client", tower))
    assert TOKEN not in repr(tower.config)
    assert TOKEN not in str(tower.config)


def test_server_echo_of_the_token_is_scrubbed(make_client: Any) -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"message": f"Token {TOKEN} rejected - Error ID: T1"})

    tower = make_client(
        "https://tower.example.org", TOKEN, 1, transport=httpx.MockTransport(handler)
    )
    with pytest.raises(TowerError) as caught:
        tower.list_compute_envs()
    assert TOKEN not in str(caught.value)
    assert "***" in str(caught.value)


def _public(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and name not in ("close", "aclose")
    }


def test_sync_and_async_clients_have_the_same_methods_and_signatures() -> None:
    sync, asyn = _public(TowerClient), _public(AsyncTowerClient)
    assert sorted(sync) == sorted(asyn)
    for name, member in sync.items():
        if isinstance(member, property):
            continue
        assert inspect.signature(member).parameters == inspect.signature(asyn[name]).parameters, (
            name
        )
    assert inspect.signature(TowerClient.__init__).parameters.keys() == (
        inspect.signature(AsyncTowerClient.__init__).parameters.keys()
    )


def test_async_methods_are_async() -> None:
    pure = {"run_url", "build_request", "config"}
    for name, member in _public(AsyncTowerClient).items():
        if name in pure:
            assert not inspect.iscoroutinefunction(member)
            continue
        assert inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member), name
    for name in ("list_workflows", "list_pipelines", "list_labels"):
        assert inspect.isasyncgenfunction(getattr(AsyncTowerClient, name))


def test_design_operations_exist() -> None:
    design = {
        "service_info", "user_info", "list_workspaces", "workspace_id", "list_pipelines",
        "get_pipeline", "list_compute_envs", "list_labels", "launch", "ensure_run",
        "get_workflow", "find_workflow", "list_workflows", "get_progress", "list_tasks",
        "get_log", "cancel", "relaunch", "wait", "failure_report", "run_url", "request",
    }  # fmt: skip
    assert design <= set(_public(TowerClient))


def test_clients_are_context_managers(tower_emulator: TowerEmulator) -> None:
    import asyncio

    with TowerClient(tower_emulator.url, tower_emulator.token) as client:
        assert client.user_info().user_name

    async def main() -> str | None:
        async with AsyncTowerClient(tower_emulator.url, tower_emulator.token) as client:
            return (await client.user_info()).user_name

    assert asyncio.run(main()) == tower_emulator.user_name
