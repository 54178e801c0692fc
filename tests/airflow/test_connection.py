"""The ``tower`` connection: every field and layout maps onto the right TowerConfig."""

from __future__ import annotations

import json

import pytest
from airflow.sdk import Connection
from nftower_airflow._connection import api_url_from_connection, settings_from_connection
from nftower_airflow.hooks import TowerHook


def _use(monkeypatch: pytest.MonkeyPatch, conn_id: str = "tower_default", **fields: object) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "tower", **fields})
    )


@pytest.mark.parametrize(
    ("host", "schema", "port", "expected"),
    [
        ("", None, None, None),
        ("https://api.cloud.seqera.io", None, None, "https://api.cloud.seqera.io"),
        ("https://tower.example.org/api/", None, None, "https://tower.example.org/api"),
        ("tower.example.org", "api", None, "https://tower.example.org/api"),  # py-orca layout
        ("http://127.0.0.1:8800", "", None, "http://127.0.0.1:8800"),
        ("https://tower.example.org", "api", None, "https://tower.example.org/api"),
        ("tower.example.org", None, 8443, "https://tower.example.org:8443"),
        # a port saved so that Airflow's Test button works changes nothing
        ("https://api.cloud.seqera.io", None, 443, "https://api.cloud.seqera.io"),
        ("http://127.0.0.1:8800", None, 443, "http://127.0.0.1:8800"),
        ("https://tower.example.org/api", None, 8443, "https://tower.example.org:8443/api"),
        ("http://tower.internal/api", None, 80, "http://tower.internal/api"),
    ],
)
def test_api_url_layouts(
    host: str, schema: str | None, port: int | None, expected: str | None
) -> None:
    assert api_url_from_connection(host, schema, port) == expected


def test_full_connection_maps_every_field(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(
        monkeypatch,
        host="https://tower.example.org/api",
        password="secret-token-1-abcdef",
        extra={
            "workspace": "acme/prod",
            "rate_limit_backend": "memory://",
            "timeout": "12",
            "max_retries": 2,
            "ui_url": "https://tower.example.org",
        },
    )
    config = TowerHook().config
    assert config.api_url == "https://tower.example.org/api"
    assert config.token == "secret-token-1-abcdef"
    assert config.workspace == "acme/prod"
    assert config.rate_limit_backend == "memory://"
    assert config.timeout == 12.0
    assert config.max_retries == 2
    assert config.web_url == "https://tower.example.org"


def test_py_orca_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sage's py-orca secrets: tower://:TOKEN@tower.sagebionetworks.org/api?workspace=org/ws."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_ORCA",
        "tower://:orca-token-1234567@tower.sagebionetworks.org/api?workspace=sage%2Fdemo",
    )
    config = TowerHook("orca").config
    assert config.api_url == "https://tower.sagebionetworks.org/api"
    assert config.token == "orca-token-1234567"
    assert config.workspace == "sage/demo"


def test_defaults_to_seqera_cloud_and_prefixed_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, password="secret-token-2-abcdef", extra={"extra__tower__workspace": "42"})
    config = TowerHook().config
    assert config.api_url == "https://api.cloud.seqera.io"
    assert config.workspace == 42


def test_operator_workspace_overrides_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, password="secret-token-3-abcdef", extra={"workspace": "42"})
    assert TowerHook(workspace="acme/other").config.workspace == "acme/other"


def test_token_from_extra_or_env_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.log import redact

    _use(monkeypatch, host="https://tower.example.org/api", extra={"token": "extra-token-abcdef"})
    assert TowerHook().config.token == "extra-token-abcdef"
    assert redact("Bearer extra-token-abcdef") == "Bearer ***"

    _use(monkeypatch, conn_id="env_only", host="https://tower.example.org/api")
    monkeypatch.setenv("TOWER_ACCESS_TOKEN", "env-token-ghijkl")
    assert TowerHook("env_only").config.token == "env-token-ghijkl"
    assert redact("env-token-ghijkl") == "***"


def test_missing_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from nftower import TowerConfigError

    _use(monkeypatch, host="https://tower.example.org/api")
    with pytest.raises(TowerConfigError, match="TOWER_ACCESS_TOKEN"):
        _ = TowerHook().config


async def test_async_config_matches_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(
        monkeypatch,
        host="tower.example.org",
        schema="api",
        password="secret-token-4-abcdef",
        extra={"workspace": "7"},
    )
    assert await TowerHook().aget_config() == TowerHook().config


def test_settings_repr_hides_the_token() -> None:
    conn = Connection(conn_id="x", conn_type="tower", host="h", password="hidden-token-xyz")
    settings = settings_from_connection(conn, {})
    assert "hidden-token-xyz" not in repr(settings)
