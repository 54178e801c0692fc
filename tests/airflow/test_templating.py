"""Templated fields: the operator's render, and the nightly example's dated parameters render for
every kind of DAG run (scheduled, manual without a logical date)."""

from __future__ import annotations

import runpy
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "airflow" / "nightly_launch.py"
SCHEDULED = datetime(2024, 6, 3, 2, 0, tzinfo=timezone.utc)
TRIGGERED = datetime(2024, 6, 5, 9, 30, tzinfo=timezone.utc)


def _rendered_params(context: dict[str, Any]) -> Any:
    task = runpy.run_path(str(EXAMPLE))["dag"].get_task("rnaseq")
    task.render_template_fields(context)
    return task.pipeline_params


@pytest.mark.parametrize(
    ("context", "day"),
    [
        pytest.param(
            {
                "dag_run": SimpleNamespace(logical_date=SCHEDULED, run_after=SCHEDULED),
                "logical_date": SCHEDULED,
                "ds": "2024-06-03",
            },
            "2024-06-03",
            id="scheduled",
        ),
        # Airflow 3: a manual run may have no logical date; ds and logical_date are then missing
        pytest.param(
            {"dag_run": SimpleNamespace(logical_date=None, run_after=TRIGGERED)},
            "2024-06-05",
            id="manual-without-logical-date",
        ),
    ],
)
def test_dated_params_render(context: dict[str, Any], day: str) -> None:
    assert _rendered_params(context) == {
        "input": f"s3://demo-bucket/samplesheets/{day}.csv",
        "outdir": f"s3://demo-bucket/results/{day}",
    }


def test_operator_fields_render_dag_params_inside_pipeline_params() -> None:
    from airflow.sdk import DAG
    from nftower_airflow.operators import TowerLaunchOperator

    with DAG("templating", schedule=None, start_date=SCHEDULED):
        op = TowerLaunchOperator(
            task_id="launch",
            pipeline="{{ params.pipeline }}",
            pipeline_params={"genome": "{{ params.genome }}", "outdir": "s3://out/{{ ds }}"},
            run_name="nightly-{{ ds }}",
            revision="{{ params.revision }}",
            labels=["{{ params.label }}"],
        )
    dag_params = {"pipeline": "rnaseq", "genome": "GRCh38", "revision": "3.14.0", "label": "qc"}
    op.render_template_fields({"params": dag_params, "ds": "2024-06-03"})
    assert (op.pipeline, op.run_name, op.revision, op.labels) == (
        "rnaseq",
        "nightly-2024-06-03",
        "3.14.0",
        ["qc"],
    )
    assert op.pipeline_params == {"genome": "GRCh38", "outdir": "s3://out/2024-06-03"}
