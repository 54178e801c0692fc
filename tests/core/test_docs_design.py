"""docs/design.md states the core's public contract as the code has it: signatures, the
operations table, the error tree, the models and the module layout."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import nftower
import pytest
from nftower.monitor import WorkflowMonitor
from nftower.ratelimit import RateLimiter, get_limiter

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")


def written(signature: inspect.Signature, *, drop_first: bool) -> str:
    """A signature as the page writes it: no annotations, double-quoted strings."""
    parameters = [
        p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()
    ]
    if drop_first:
        parameters = parameters[1:]
    bare = signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty)
    return str(bare).replace("'", '"')


def found(pattern: str, text: str = TEXT) -> str:
    """The first group of ``pattern`` in the page (which must be there)."""
    match = re.search(pattern, text, re.DOTALL)
    assert match is not None, pattern
    return match[1]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def operations_table() -> dict[str, str]:
    rows = re.findall(r"^\| `(\w+)\((.*?)\)` \|", TEXT, flags=re.MULTILINE)
    return {name: f"({args})" for name, args in rows}


def test_the_operations_table_lists_every_operation_with_its_signature() -> None:
    table = operations_table()
    for client in (nftower.TowerClient, nftower.AsyncTowerClient):
        operations = {
            name
            for name, member in vars(client).items()
            if callable(member) and not name.startswith("_") and name not in ("close", "aclose")
        } | {"run_url"}
        assert set(table) == operations, client.__name__
        for name, args in table.items():
            method = getattr(client, name)
            assert args == written(inspect.signature(method), drop_first=True), name


@pytest.mark.parametrize("client", [nftower.TowerClient, nftower.AsyncTowerClient])
def test_the_constructor_is_written_as_it_is(client: type[Any]) -> None:
    block = squeeze(found(r"TowerClient\((api_url=None.*?)\)\n"))
    assert f"({block})" == written(inspect.signature(client.__init__), drop_first=True)


def test_the_config_defaults_are_written_as_they_are() -> None:
    block = squeeze(found(r"\nTowerConfig(\(\*, token.*?\))\n"))
    assert block == written(inspect.signature(nftower.TowerConfig), drop_first=False)


@pytest.mark.parametrize(
    ("written_as", "function"),
    [
        ("TowerConfig.from_env", nftower.TowerConfig.from_env),
        ("get_limiter", get_limiter),
        ("make_run_name", nftower.make_run_name),
        ("short_run_name", nftower.short_run_name),
    ],
)
def test_function_signatures(written_as: str, function: Any) -> None:
    assert f"{written_as}{written(inspect.signature(function), drop_first=False)}" in TEXT


def test_limiter_and_monitor_signatures() -> None:
    for name in ("slot", "aslot"):
        method = getattr(RateLimiter, name)
        assert f"def {name}{written(inspect.signature(method), drop_first=False)}" in TEXT
    shared = written(inspect.signature(WorkflowMonitor.shared), drop_first=False)
    assert shared == "(config, *, poll_interval=30.0)"
    assert "WorkflowMonitor.shared(config: TowerConfig, *, poll_interval=30.0)" in TEXT
    wait = written(inspect.signature(WorkflowMonitor.wait), drop_first=True)
    assert f"monitor.wait{wait}" in TEXT
    follow = written(inspect.signature(WorkflowMonitor.follow), drop_first=True)
    assert f"monitor.follow{follow}" in TEXT


def test_the_follow_rule_table_names_every_ending() -> None:
    from nftower.status import Ending

    table = found(r"### Following a run: one rule\n.*?\| kind \| when \|\n\|---\|---\|\n(.*?)\n\n")
    written_kinds = set(
        re.findall(r"`(\w+)`", " ".join(row.split("|")[1] for row in table.splitlines()))
    )
    assert written_kinds == {kind.value for kind in Ending}


def test_the_error_tree_is_the_class_hierarchy() -> None:
    block = found(r"```\n(TowerError .*?)```")
    parents: list[tuple[int, str]] = []
    seen = set()
    for line in block.splitlines():
        match = re.match(r"^([│ ├└─]*)(\w+)", line)
        if match is None or not match[2][0].isupper():
            continue
        depth, name = len(match[1]), match[2]
        while parents and parents[-1][0] >= depth:
            parents.pop()
        cls = getattr(nftower, name)
        if parents:
            assert cls.__bases__[0] is getattr(nftower, parents[-1][1]), name
        parents.append((depth, name))
        seen.add(name)
    public_errors = {
        name
        for name in nftower.__all__
        if isinstance(getattr(nftower, name), type)
        and issubclass(getattr(nftower, name), nftower.TowerError)
    }
    assert seen == public_errors


def test_models_and_layout_exist() -> None:
    models = found(r"### Models\n\n(.*?)\n\n")
    for name in re.findall(r"`([A-Z]\w+)`", models):
        assert hasattr(nftower, name), name
    layout = found(r"### Core layout.*?```\n(.*?)```")
    package = ROOT / "core" / "src" / "nftower"
    for entry in re.findall(r"^(\S+)", layout, flags=re.MULTILINE):
        assert (package / entry).exists(), entry
    on_disk = {p.name for p in package.glob("_*.py")} - {"_version.py"}
    assert on_disk <= set(re.findall(r"^(\S+\.py)", layout, flags=re.MULTILINE))
    packages = {f"{p.parent.name}/" for p in package.glob("*/__init__.py")}
    assert packages <= set(re.findall(r"^(\S+/)", layout, flags=re.MULTILINE))


@pytest.mark.parametrize(
    ("section", "package"),
    [
        ("## Airflow provider", "airflow_provider/src/nftower_airflow"),
        ("## Prefect collection", "prefect_collection/src/prefect_nftower"),
    ],
)
def test_the_orchestrator_layouts_list_every_module(section: str, package: str) -> None:
    layout = found(rf"{section} .*?```\n(.*?)```")
    listed = set(re.findall(r"^(\S+\.py)", layout, flags=re.MULTILINE))
    on_disk = {p.name for p in (ROOT / package).glob("*.py")} - {"__init__.py", "_version.py"}
    assert listed == on_disk


#: Every place outside rate-limiting.md that tells users which rate-limit store is the default.
DEFAULT_STORE_CLAIMS = [
    "docs/airflow.md",
    "docs/prefect.md",
    "airflow_provider/src/nftower_airflow/get_provider_info.py",
    "airflow_provider/src/nftower_airflow/hooks.py",
    "prefect_collection/src/prefect_nftower/credentials.py",
]


@pytest.mark.parametrize("path", DEFAULT_STORE_CLAIMS)
def test_the_default_rate_limit_store_is_named_as_the_code_has_it(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nftower.ratelimit import backend_from_url

    monkeypatch.delenv("NFTOWER_RATE_LIMIT_BACKEND", raising=False)
    assert type(backend_from_url(None)).__name__ == "FileBackend"
    text = (ROOT / path).read_text(encoding="utf-8")
    assert "file://" in text
    assert not re.search(r"default[^.|]*SQLite|SQLite[^.|]*default", text), path


def test_the_raw_endpoint_task_says_the_workspace_is_not_added() -> None:
    tasks = (ROOT / "prefect_collection/src/prefect_nftower/tasks.py").read_text(encoding="utf-8")
    assert "workspace is added by the client" not in tasks
    assert "configured workspace is not added" in tasks
