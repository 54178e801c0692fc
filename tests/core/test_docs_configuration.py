"""docs/configuration.md lists the client's options and the environment variables exactly as the
code has them: names, defaults, and which variable sets which option. Its example runs."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import pytest
from nftower import AsyncTowerClient, TowerClient, TowerConfig
from nftower.testing import TowerEmulator

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
SOURCES = [
    ROOT / "core" / "src",
    ROOT / "airflow_provider" / "src",
    ROOT / "prefect_collection" / "src",
]


def section(title: str) -> str:
    return PAGE.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def table(text: str) -> list[list[str]]:
    """The rows of the first table in ``text`` (header and rule left out), cells stripped."""
    parts = (part.strip() for part in text.split("\n\n"))
    lines = next(part for part in parts if part.startswith("|")).splitlines()[2:]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]


def test_the_options_table_is_tower_config() -> None:
    written = table(section("Client options"))
    rows = {row[0].strip("`"): row for row in written}
    fields = {f.name: f for f in dataclasses.fields(TowerConfig)}
    assert len(rows) == len(written)
    assert set(rows) == set(fields)
    for name, field in fields.items():
        written = rows[name][1]
        if field.default is dataclasses.MISSING:
            assert written == "(required)", name
        else:
            assert written == f"`{field.default!r}`".replace("'", '"'), name


def test_the_clients_take_the_same_options() -> None:
    text = section("Client options").split("Client-only", 1)[1]
    client_only = set(re.findall(r"`([a-z_]+)`", text.split(".", 1)[0]))
    assert client_only == {"config", "transport"}
    config_only = set(re.findall(r"`([a-z_]+)`", text.split("Configuration-only field", 1)[1]))
    config_only -= {"config"}
    fields = {f.name for f in dataclasses.fields(TowerConfig)}
    for client in (TowerClient, AsyncTowerClient):
        parameters = set(inspect.signature(client.__init__).parameters) - {"self"}
        assert parameters == (fields - config_only) | client_only, client


def test_each_option_names_the_variable_that_sets_it() -> None:
    rows = {
        row[0].strip("`"): set(re.findall(r"`(\w+)`", row[2]))
        for row in table(section("Client options"))
    }
    environment = {
        "TOWER_API_ENDPOINT": "http://127.0.0.1:1",
        "TOWER_ACCESS_TOKEN": "token-from-the-environment",
        "TOWER_WORKSPACE_ID": "7",
        "NFTOWER_RATE_LIMIT_BACKEND": "memory://",
    }
    config = TowerConfig.from_env(environment)
    for option, variables in rows.items():
        for variable in variables & set(environment):
            assert str(getattr(config, option)).startswith(environment[variable].rstrip("/")), (
                option
            )
    assert {v for vs in rows.values() for v in vs} >= set(environment)


def environment_variables() -> set[str]:
    """The environment variables the packages read: names given to ``environ.get`` or
    ``getenv``, and module constants named ``*ENV*`` that hold a name (or names)."""
    found: set[str] = set()
    for source in SOURCES:
        for path in source.rglob("*.py"):
            if "testing" in path.relative_to(source).parts:
                continue  # the emulator reads none
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and "ENV" in t.id for t in node.targets
                ):
                    values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                    found |= {v.value for v in values if isinstance(v, ast.Constant)}
                elif isinstance(node, ast.Call) and node.args:
                    name = ast.unparse(node.func)
                    first = node.args[0]
                    if re.search(r"(environ|getenv)", name) and isinstance(first, ast.Constant):
                        found.add(first.value)
    return {
        name for name in found if isinstance(name, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", name)
    }


def test_the_environment_variables_table_is_what_the_code_reads() -> None:
    written = {
        name
        for row in table(section("Environment variables"))
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row[0])
    }
    assert written == environment_variables()


@pytest.mark.tower_emulator(speed=200, rate_limit=None)
def test_the_example_runs(tower_emulator: TowerEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWER_API_ENDPOINT", tower_emulator.url)
    monkeypatch.setenv("TOWER_ACCESS_TOKEN", tower_emulator.token)
    (code,) = re.findall(r"```python\n(.*?)```", PAGE, re.DOTALL)
    namespace: dict[str, object] = {}
    exec(code, namespace)
    client = namespace["client"]
    assert isinstance(client, TowerClient)
    with client:
        assert client.config.timeout == 60.0
        assert client.config.max_retries == 2
        assert client.user_info().user_name == "demo-user"
