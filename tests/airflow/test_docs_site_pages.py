"""docs/quickstart-airflow.md and the py-orca part of docs/migration.md: their connections and
DAGs work as written against the emulator (only the token and the emulator's address are
swapped in), and the py-orca calls they name have the nftower equivalents they claim."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from airflow_harness import make_context
from nftower import TowerClient, WorkflowStatus
from nftower_airflow.hooks import TowerHook
from nftower_airflow.operators import TowerLaunchOperator

DOCS = Path(__file__).resolve().parents[2] / "docs"
QUICKSTART = (DOCS / "quickstart-airflow.md").read_text(encoding="utf-8")
MIGRATION = (DOCS / "migration.md").read_text(encoding="utf-8")

pytestmark = pytest.mark.timeout(120)


def one_block(text: str, language: str, containing: str) -> str:
    found = [b for b in re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL) if containing in b]
    assert len(found) == 1, containing
    return found[0]


def build_dag(code: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run a page's DAG file; returns the DAG it defined."""
    from airflow.sdk import DAG

    dags: list[Any] = []
    exit_dag = DAG.__exit__

    def record(self: Any, *exc: Any) -> Any:
        dags.append(self)
        return exit_dag(self, *exc)

    monkeypatch.setattr(DAG, "__exit__", record)
    exec(compile(code, "docs_example", "exec"), {"__name__": "docs_example"})
    (dag,) = dags
    return dag


def page_connection(emulator: Any) -> str:
    (value,) = re.findall(r"export AIRFLOW_CONN_TOWER_DEFAULT='(.*?)'", QUICKSTART, re.DOTALL)
    json.loads(value)  # valid JSON as written
    value = value.replace("<token>", emulator.token)
    assert value.count("http://127.0.0.1:8800") == 1  # the emulator's default address
    return value.replace("http://127.0.0.1:8800", emulator.url)


@pytest.mark.tower_emulator(speed=200, rate_limit=None)
def test_the_quick_start_connection_passes_test(
    tower_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", page_connection(tower_emulator))
    ok, message = TowerHook().test_connection()
    assert ok, message
    assert TowerHook().config.workspace == "demo-org/demo-workspace"
    assert "AIRFLOW__CORE__TEST_CONNECTION=Enabled" in QUICKSTART


@pytest.mark.tower_emulator(speed=200, rate_limit=None)
def test_the_quick_start_dag_runs_its_pipeline(
    tower_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", page_connection(tower_emulator))
    dag = build_dag(one_block(QUICKSTART, "python", "hello_tower"), monkeypatch)
    assert dag.dag_id == "hello_tower"
    task = dag.get_task("hello")
    assert isinstance(task, TowerLaunchOperator)
    assert task.deferrable is True
    task.deferrable, task.poll_interval = False, 0.1  # wait in this process, quickly
    context = make_context()
    workflow_id = task.execute(context)
    assert tower_emulator.workflow(workflow_id)["status"] == "SUCCEEDED"
    assert context["ti"].xcoms["run_url"].endswith(f"/watch/{workflow_id}")
    (launch,) = tower_emulator.launches
    assert json.loads(launch.json["launch"]["paramsText"]) == {"greeting": "Bonjour"}


def test_the_py_orca_connection_of_the_migration_page_parses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (value,) = re.findall(r"export AIRFLOW_CONN_TOWER_DEFAULT='(.*?)'", MIGRATION, re.DOTALL)
    token = "orca-token-0123456789"
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", value.replace("<token>", token))
    monkeypatch.delenv("NFTOWER_RATE_LIMIT_BACKEND")
    config = TowerHook().config
    assert config.api_url == "https://tower.sagebionetworks.org/api"
    assert config.workspace == "sage-bionetworks/projects"
    assert config.token == token
    # the same connection attributes as py-orca's NextflowTowerHook
    assert (TowerHook.conn_name_attr, TowerHook.default_conn_name, TowerHook.conn_type) == (
        "tower_conn_id",
        "tower_default",
        "tower",
    )


def test_the_migration_dag_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    dag = build_dag(one_block(MIGRATION, "python", "TowerLaunchOperator("), monkeypatch)
    task = dag.get_task("launch_agora")
    assert isinstance(task, TowerLaunchOperator)
    assert task.tower_conn_id == "tower_default"
    assert (task.compute_env, task.config_profiles, task.revision) == ("spot", ["docker"], "main")


def equivalents() -> list[tuple[str, str]]:
    table = MIGRATION.split("### Calls side by side", 1)[1].split("\n\n", 2)[1]
    return re.findall(r"^\| `([^`]+)` \| (.*) \|$", table, re.MULTILINE)


def test_each_py_orca_call_has_the_equivalent_the_page_names() -> None:
    import inspect

    from nftower_airflow.sensors import TowerRunSensor

    named = {"client": TowerClient, "hook": TowerHook}
    classes = {"TowerHook": TowerHook, "TowerLaunchOperator": TowerLaunchOperator,
               "TowerRunSensor": TowerRunSensor}  # fmt: skip
    rows = equivalents()
    assert len(rows) >= 10
    for _, ours in rows:
        for owner, method, arguments in re.findall(r"`(client|hook)\.(\w+)\(([^`]*)\)`", ours):
            function = getattr(named[owner], method)
            for keyword in re.findall(r"(\w+)=", arguments):
                assert keyword in inspect.signature(function).parameters, (method, keyword)
        for attribute in re.findall(r"`workflow\.status\.(\w+)`", ours):
            assert isinstance(getattr(WorkflowStatus.FAILED, attribute), bool), attribute
        for name, arguments in re.findall(r"`(Tower\w+)(?:\(([^`]*)\))?`", ours):
            parameters = inspect.signature(classes[name]).parameters
            for keyword in re.findall(r"(\w+)=", arguments or ""):
                assert keyword in parameters or keyword == "task_id", (name, keyword)
