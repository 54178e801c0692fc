"""TowerConfig: validation, environment defaults, UI URL, token kept out of reprs."""

from __future__ import annotations

import pickle

import pytest
from nftower import TowerClient, TowerConfig, TowerConfigError
from nftower._config import DEFAULT_API_URL
from nftower.testing import TowerEmulator


def test_from_env_reads_the_tw_variables() -> None:
    env = {
        "TOWER_API_ENDPOINT": "https://tower.example.org/api/",
        "TOWER_ACCESS_TOKEN": " tower-access-token\n",
        "TOWER_WORKSPACE_ID": "acme/prod",
        "NFTOWER_RATE_LIMIT_BACKEND": "memory://",
    }
    cfg = TowerConfig.from_env(env)
    assert cfg.api_url == "https://tower.example.org/api"
    assert cfg.token == "tower-access-token"
    assert cfg.workspace == "acme/prod"
    assert cfg.workspace_name == ("acme", "prod")
    assert cfg.workspace_id is None
    assert cfg.rate_limit_backend == "memory://"


def test_from_env_defaults_and_overrides() -> None:
    cfg = TowerConfig.from_env(
        {"TOWER_ACCESS_TOKEN": "tower-access-token", "TOWER_WORKSPACE_ID": "12"}
    )
    assert cfg.api_url == DEFAULT_API_URL == "https://api.cloud.seqera.io"
    assert cfg.workspace == 12
    assert (cfg.timeout, cfg.max_retries, cfg.rate_limit, cfg.accept_version) == (30.0, 5, 20, "1")
    overridden = TowerConfig.from_env(
        {"TOWER_ACCESS_TOKEN": "tower-access-token"}, workspace=5, api_url=None
    )
    assert overridden.workspace == 5
    assert overridden.api_url == DEFAULT_API_URL


def test_missing_token_is_a_clear_config_error() -> None:
    with pytest.raises(TowerConfigError, match="TOWER_ACCESS_TOKEN"):
        TowerConfig.from_env({})
    with pytest.raises(TowerConfigError, match="token"):
        TowerConfig(token="  ")


def test_client_without_token_fails_before_any_call(tower_emulator: TowerEmulator) -> None:
    with pytest.raises(TowerConfigError, match="TOWER_ACCESS_TOKEN"):
        TowerClient(tower_emulator.url)
    assert tower_emulator.requests == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"api_url": "ftp://x"}, "http"),
        ({"api_url": "https://x/api?y=1"}, "query"),
        ({"workspace": "not a workspace"}, "org/workspace"),
        ({"workspace": "a/b/c"}, "org/workspace"),
        ({"workspace": 0}, "positive"),
        ({"workspace": True}, "workspace"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"rate_limit_window": -1.0}, "rate_limit_window"),
    ],
)
def test_bad_options_are_rejected(value: dict[str, object], message: str) -> None:
    with pytest.raises(TowerConfigError, match=message):
        TowerConfig(token="tower-access-token", **value)  # type: ignore[arg-type]


def test_unknown_from_env_option() -> None:
    with pytest.raises(TowerConfigError, match="Unknown TowerConfig option"):
        TowerConfig.from_env({"TOWER_ACCESS_TOKEN": "tower-access-token"}, wrkspace=1)


@pytest.mark.parametrize(
    ("api_url", "ui_url", "expected"),
    [
        ("https://api.cloud.seqera.io", None, "https://cloud.seqera.io"),
        ("https://api.tower.nf/", None, "https://tower.nf"),
        ("https://platform.example.com/api", None, "https://platform.example.com"),
        ("http://127.0.0.1:8800", None, "http://127.0.0.1:8800"),
        ("https://api.cloud.seqera.io", "https://ui.example.org/", "https://ui.example.org"),
    ],
)
def test_web_url(api_url: str, ui_url: str | None, expected: str) -> None:
    assert (
        TowerConfig(token="tower-access-token", api_url=api_url, ui_url=ui_url).web_url == expected
    )


def test_token_not_in_repr_or_str_but_survives_pickle() -> None:
    cfg = TowerConfig(token="super-secret-token", workspace=3)
    assert "super-secret-token" not in repr(cfg)
    assert "super-secret-token" not in str(cfg)
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    assert type(cfg).__module__ == "nftower"


def test_config_is_frozen_and_replace_validates() -> None:
    cfg = TowerConfig(token="tower-access-token")
    with pytest.raises(AttributeError):
        cfg.token = "x"  # type: ignore[misc]
    assert cfg.replace(workspace="9").workspace == 9
    with pytest.raises(TowerConfigError):
        cfg.replace(timeout=-1)


def test_client_uses_env_defaults(tower_env: TowerEmulator) -> None:
    with TowerClient() as client:
        assert client.config.api_url == tower_env.url
        assert client.workspace_id() == tower_env.workspace_id
        assert client.user_info().user_name == tower_env.user_name


def test_client_config_and_explicit_options(tower_emulator: TowerEmulator) -> None:
    cfg = TowerConfig(token=tower_emulator.token, api_url=tower_emulator.url, timeout=12.0)
    with TowerClient(config=cfg, workspace=tower_emulator.workspace_id, max_retries=1) as client:
        assert client.config.timeout == 12.0  # kept from the config
        assert client.config.max_retries == 1  # explicit option wins
        assert client.config.workspace == tower_emulator.workspace_id
        assert "secret" not in repr(client)
        assert tower_emulator.token not in repr(client)


@pytest.mark.parametrize(
    ("option", "configured", "explicit"),
    [
        ("timeout", 12.0, 30.0),
        ("max_retries", 1, 5),
        ("rate_limit", 5, 20),
        ("rate_limit_window", 2.0, 1.0),
        ("accept_version", "2", "1"),
        ("ui_url", "https://ui.example.org", None),
        ("user_agent", "dag/1", None),
        ("rate_limit_backend", "memory://", None),
    ],
)
def test_an_explicit_option_wins_over_the_config_even_when_it_is_the_default(
    option: str, configured: object, explicit: object
) -> None:
    cfg = TowerConfig(token="tower-access-token", **{option: configured})
    with TowerClient(config=cfg, **{option: explicit}) as client:
        assert getattr(client.config, option) == explicit
    with TowerClient(config=cfg) as client:  # left out: the config's value
        assert getattr(client.config, option) == configured


def test_not_given_is_one_value_that_pickles_by_name() -> None:
    import pickle

    from nftower._config import NOT_GIVEN, NotGiven

    assert pickle.loads(pickle.dumps(NOT_GIVEN)) is NOT_GIVEN is NotGiven()
    assert repr(NOT_GIVEN) == "NOT_GIVEN"
    assert not NOT_GIVEN


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("", 60.0), ("  ", 60.0), ("2.5", 2.5), ("0", 0.0), ("-1", 60.0), ("nan", 60.0),
     ("inf", 60.0), ("soon", 60.0)],
)  # fmt: skip
def test_seconds_from_the_environment_fall_back_to_the_default(
    text: str, seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nftower._config import env_seconds
    from nftower._lookup_cache import TTL_ENV_VAR, lookup_ttl
    from nftower._run_lease import GRACE_ENV_VAR, launch_grace

    for name in ("NFTOWER_TEST_SECONDS", TTL_ENV_VAR, GRACE_ENV_VAR):
        monkeypatch.setenv(name, text)
    assert env_seconds("NFTOWER_TEST_SECONDS", 60.0) == seconds
    assert lookup_ttl() == launch_grace() == seconds
