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
    value = re.sub(r"<[^>]+>", "doc-token-123", value)
    if value.lstrip().startswith("{"):
        json.loads(value)  # valid JSON as written
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", value)
    monkeypatch.delenv("NFTOWER_RATE_LIMIT_BACKEND")
    config = TowerHook().config
    assert (config.api_url, config.workspace, config.rate_limit_backend) == expected
    assert config.token == "doc-token-123"
