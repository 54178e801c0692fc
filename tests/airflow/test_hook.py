"""TowerHook against the emulator: clients from one config, test_connection, masking."""

from __future__ import annotations

import json
from typing import Any

import pytest
from nftower_airflow.hooks import TowerHook


def test_test_connection_ok(tower_conn: Any) -> None:
    ok, message = TowerHook().test_connection()
    assert ok, message
    assert str(tower_conn.workspace_id) in message
    paths = {r.path for r in tower_conn.requests}
    assert {"/service-info", "/user-info"} <= paths


def test_test_connection_resolves_a_workspace_name(tower_conn: Any) -> None:
    name = f"{tower_conn.org_name}/{tower_conn.workspace_name}"
    ok, message = TowerHook(workspace=name).test_connection()
    assert ok, message
    assert str(tower_conn.workspace_id) in message


def test_test_connection_bad_token(tower_conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_TOWER_DEFAULT",
        json.dumps({"conn_type": "tower", "host": tower_conn.url, "password": "bad-token-123456"}),
    )
    ok, message = TowerHook().test_connection()
    assert not ok
    assert "403" in message
    assert "Operation not allowed" in message  # Tower's 403, without an Error ID
    assert "Error ID" not in message
    assert "bad-token-123456" not in message
    # the user set a connection, not tw's variables: the message says where to look
    assert "connection 'tower_default' fields Password and API URL" in message
    assert "TOWER_ACCESS_TOKEN" not in message
    assert "TOWER_API_ENDPOINT" not in message


def test_a_malformed_token_names_the_connection_field(
    tower_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = {"conn_type": "tower", "host": tower_conn.url, "password": "two words-1234567890"}
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", json.dumps(conn))
    ok, message = TowerHook().test_connection()
    assert not ok
    assert message.startswith("Connection 'tower_default' field Password: ")
    assert "two words" not in message


def test_sync_client_uses_the_connection(tower_conn: Any) -> None:
    with TowerHook().get_conn() as client:
        assert client.workspace_id() == tower_conn.workspace_id


async def test_async_client_uses_the_connection(tower_conn: Any) -> None:
    hook = TowerHook()
    async with await hook.get_async_conn() as client:
        assert await client.workspace_id() == tower_conn.workspace_id


def test_user_agent_names_provider_and_airflow(tower_conn: Any) -> None:
    from airflow import __version__ as airflow_version

    with TowerHook().get_conn() as client:
        client.service_info()
    (request,) = [r for r in tower_conn.requests if r.path == "/service-info"]
    agent = {k.lower(): v for k, v in request.headers.items()}["user-agent"]
    assert "airflow-provider-nftower/" in agent
    assert f"apache-airflow/{airflow_version}" in agent


async def test_async_config_never_uses_the_blocking_lookup(
    tower_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the triggerer the connection is read with get_async_connection only (#70398)."""

    def blocking_lookup(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("BaseHook.get_connection called inside the event loop")

    monkeypatch.setattr(TowerHook, "get_connection", blocking_lookup)
    config = await TowerHook().aget_config()
    assert config.api_url == tower_conn.url
    assert config.token == tower_conn.token
