"""Provider metadata: every dotted path imports; ProvidersManager and the CLI list the provider."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from nftower_airflow.get_provider_info import get_provider_info


def _import_dotted(path: str) -> object:
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)


def _dotted_paths(info: dict) -> list[str]:
    paths: list[str] = []
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[section]:
            paths.extend(entry["python-modules"])
    paths.extend(info["extra-links"])
    paths.extend(conn["hook-class-name"] for conn in info["connection-types"])
    return paths


def test_entry_point_points_at_get_provider_info() -> None:
    (ep,) = [ep for ep in entry_points(group="apache_airflow_provider") if "nftower" in ep.value]
    assert ep.load() is get_provider_info


@pytest.mark.parametrize("path", _dotted_paths(get_provider_info()))
def test_every_dotted_path_imports(path: str) -> None:
    assert _import_dotted(path) is not None


def test_info_validates_against_airflow_schema() -> None:
    import airflow
    import jsonschema

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_connection_type_metadata() -> None:
    (conn,) = get_provider_info()["connection-types"]
    assert conn["connection-type"] == "tower"
    assert set(conn["conn-fields"]) == {"workspace", "rate_limit_backend"}
    behaviour = conn["ui-field-behaviour"]
    assert "login" in behaviour["hidden-fields"]
    assert behaviour["relabeling"]["password"] == "Access token"
    # Airflow 3.3's Test button needs a saved port (it sends 0 for none): the field is shown
    assert "port" not in behaviour["hidden-fields"]
    assert behaviour["placeholders"]["port"] == "443"
    # optional fields whose empty value is saved as "", not null
    for field in conn["conn-fields"].values():
        assert field["schema"] == {"type": ["string", "null"], "default": ""}


def test_hook_class_attributes_match_connection_type() -> None:
    from nftower_airflow.hooks import TowerHook

    assert TowerHook.conn_type == "tower"
    assert TowerHook.default_conn_name == "tower_default"
    assert TowerHook.conn_name_attr == "tower_conn_id"


def test_providers_manager_registers_everything() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-nftower" in manager.providers
    assert "nftower_airflow.links.TowerRunLink" in manager.extra_links_class_names
    assert manager.field_behaviours["tower"]["hidden_fields"] == ["login"]
    assert "extra__tower__workspace" in manager.connection_form_widgets
    assert manager.field_behaviours["tower"]["relabeling"]["host"] == "API URL"


def test_task_runtime_finds_the_hook() -> None:
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hook = ProvidersManagerTaskRuntime().hooks["tower"]
    assert hook is not None
    assert hook.hook_class_name == "nftower_airflow.hooks.TowerHook"


def test_airflow_providers_list_shows_the_provider() -> None:
    airflow_bin = Path(sys.executable).parent / "airflow"
    result = subprocess.run(
        [str(airflow_bin), "providers", "list", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "airflow-provider-nftower" in result.stdout


def test_provider_modules_import_cheaply() -> None:
    """DAG files import the operator module; it must not import the client at parse time."""
    code = (
        "import sys, nftower_airflow.operators, nftower_airflow.sensors;"
        "print(sorted(m for m in sys.modules if m == 'nftower' or m.startswith('nftower.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_building_tasks_loads_only_the_dependency_free_status_module() -> None:
    """Operators and sensors check their arguments with real status names from
    ``nftower.status``, which imports nothing: no client, model or configuration code."""
    code = (
        "import sys\n"
        "from nftower_airflow.operators import TowerLaunchOperator\n"
        "from nftower_airflow.sensors import TowerRunSensor\n"
        "TowerLaunchOperator(task_id='l', pipeline='hello')\n"
        "TowerRunSensor(task_id='s', workflow_id='w', target_status='running')\n"
        "print(sorted(m for m in sys.modules if m == 'nftower' or m.startswith('nftower.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = result.stdout.strip().splitlines()[-1]
    errors = "'nftower._answer_errors', 'nftower._exceptions', 'nftower._run_errors'"
    assert loaded == f"['nftower', {errors}, 'nftower._version', 'nftower.status']"
