"""docs/airflow.md says what the code does: its examples run and its connections parse."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from nftower_airflow.hooks import TowerHook

DOC = Path(__file__).resolve().parents[2] / "docs" / "airflow.md"
TEXT = DOC.read_text()
PYTHON = re.findall(r"```python\n(.*?)```", TEXT, flags=re.DOTALL)
CONNECTIONS = re.findall(r"export AIRFLOW_CONN_TOWER_DEFAULT='(.*?)'", TEXT, flags=re.DOTALL)
#: blocks that talk to a real Tower are compiled only
NEEDS_TOWER = ("get_conn()", "test_connection()")


@pytest.mark.parametrize("code", PYTHON, ids=[f"block{i}" for i in range(len(PYTHON))])
def test_python_examples_run(code: str) -> None:
    compiled = compile(code, str(DOC), "exec")
    if not any(marker in code for marker in NEEDS_TOWER):
        exec(compiled, {"__name__": "docs_example"})


def test_the_operator_example_renders_dates_for_manual_runs() -> None:
    from datetime import datetime, timezone
    from types import SimpleNamespace

    (code,) = [block for block in PYTHON if "TowerLaunchOperator(" in block]
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(code, str(DOC), "exec"), namespace)
    task = namespace["rnaseq"]
    run_after = datetime(2024, 6, 5, 9, 30, tzinfo=timezone.utc)
    task.render_template_fields(
        {"dag_run": SimpleNamespace(logical_date=None, run_after=run_after)}
    )
    assert task.pipeline_params["input"] == "s3://bucket/2024-06-05/samplesheet.csv"


EXPECTED = [
    ("https://api.cloud.seqera.io", "my-org/my-workspace", "redis://redis.internal:6379/0"),
    ("https://tower.example.org/api", 1234567890, "memory://"),
    ("https://tower.sagebionetworks.org/api", "sage-bionetworks/projects", None),
]


@pytest.mark.parametrize(("value", "expected"), list(zip(CONNECTIONS, EXPECTED, strict=True)))
def test_connection_examples_parse(
    value: str, expected: tuple[str, Any, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    value = re.sub(r"<[^>]+>", "doc-token-1234567890", value)
    if value.lstrip().startswith("{"):
        json.loads(value)  # valid JSON as written
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", value)
    monkeypatch.delenv("NFTOWER_RATE_LIMIT_BACKEND")
    config = TowerHook().config
    assert (config.api_url, config.workspace, config.rate_limit_backend) == expected
    assert config.token == "doc-token-1234567890"


ROOT = DOC.parents[1]
README_EXAMPLES = [
    (path, code)
    for path in (ROOT / "README.md", ROOT / "airflow_provider" / "README.md")
    for code in re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL)
    if "TowerLaunchOperator(" in code
]


@pytest.mark.parametrize(
    ("path", "code"), README_EXAMPLES, ids=[p.parent.name for p, _ in README_EXAMPLES]
)
def test_readme_examples_build_a_dag(
    path: Path, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk import DAG
    from nftower_airflow.operators import TowerLaunchOperator

    dags: list[Any] = []
    exit_dag = DAG.__exit__

    def record(self: Any, *exc: Any) -> Any:
        dags.append(self)
        return exit_dag(self, *exc)

    monkeypatch.setattr(DAG, "__exit__", record)
    exec(compile(code, str(path), "exec"), {"__name__": "readme_example"})
    (dag,) = dags
    task = dag.get_task("rnaseq")
    assert isinstance(task, TowerLaunchOperator)
    assert task.pipeline == "rnaseq"
    assert task.pipeline_params == {"outdir": "s3://bucket/results"}
    assert task.deferrable is True


def test_package_readme_connection_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "airflow_provider" / "README.md").read_text()
    (value,) = re.findall(r"export AIRFLOW_CONN_TOWER_DEFAULT='(.*?)'", text, flags=re.DOTALL)
    monkeypatch.setenv(
        "AIRFLOW_CONN_TOWER_DEFAULT", re.sub(r"<[^>]+>", "doc-token-1234567890", value)
    )
    config = TowerHook().config
    assert (config.api_url, config.workspace, config.token) == (
        "https://api.cloud.seqera.io",
        "my-org/my-workspace",
        "doc-token-1234567890",
    )


DESIGN = (ROOT / "docs" / "design.md").read_text()


def written_arguments(name: str) -> dict[str, str | None]:
    """Arguments of ``name(...)`` as docs/design.md writes them: name -> default text."""
    start = DESIGN.index(f"\n{name}(") + len(name) + 2
    depth, end = 1, start
    while depth:
        depth += {"(": 1, ")": -1}.get(DESIGN[end], 0)
        end += 1
    text = re.sub(r"#[^\n]*", "", DESIGN[start : end - 1])
    items = [item.strip() for item in re.split(r",(?![^<]*>)", text) if item.strip()]
    arguments: dict[str, str | None] = {}
    for item in items:
        if item == "*" or item.startswith("**"):
            continue
        key, _, default = item.partition("=")
        arguments[key.strip()] = default.strip() or None
    return arguments


@pytest.mark.parametrize(
    ("dotted", "extra"),
    [
        ("nftower_airflow.operators.TowerLaunchOperator", {"task_id"}),
        ("nftower_airflow.sensors.TowerRunSensor", {"task_id"}),
        ("nftower_airflow.triggers.TowerRunTrigger", set()),
    ],
)
def test_design_page_signatures(dotted: str, extra: set[str]) -> None:
    import importlib
    import inspect

    module, _, name = dotted.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    parameters = {
        p.name: p
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    }
    written = written_arguments(name)
    assert set(written) == set(parameters) | extra
    for key, parameter in parameters.items():
        default = written[key]
        if parameter.default is inspect.Parameter.empty:
            assert default is None, key
        elif key == "deferrable":  # written as the Airflow setting it comes from
            assert str(default).startswith("<"), key
        else:
            assert eval(str(default)) == parameter.default, key


def test_the_ui_section_names_the_switches_and_its_screenshots_exist() -> None:
    assert "AIRFLOW__CORE__TEST_CONNECTION=Enabled" in TEXT
    assert "Unpause" in TEXT
    assert "scheduled run" in TEXT
    images = re.findall(r"!\[[^\]]*\]\((assets/screenshots/[^)]+)\)", TEXT)
    assert len(images) >= 5
    for image in images:
        assert (DOC.parent / image).is_file(), image


def test_the_progress_example_lines_are_the_ones_logged() -> None:
    """The task-log lines the page shows are the ones ProgressLog and success_line write."""
    import logging

    from nftower import Workflow
    from nftower_airflow._progress import ProgressLog, success_line

    def run(status: str, **load: int) -> Workflow:
        body = {"workflow": {"id": "4Bi5xBK6E2Nbhj", "status": status, "duration": 8049000}}
        return Workflow.model_validate({**body, "progress": {"workflowProgress": load}})

    log = ProgressLog("4Bi5xBK6E2Nbhj", logging.getLogger("docs"))
    lines = [
        log(run("RUNNING", running=2)),
        log(run("RUNNING", succeeded=3, running=1, pending=2)),
        log(run("SUCCEEDED", succeeded=6)),
        success_line(run("SUCCEEDED", succeeded=6)),
    ]
    for line in lines:
        assert line is not None
        assert f"   {line}\n" in TEXT, line
