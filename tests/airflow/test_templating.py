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


SHEET_URL = "https://tower.example/api/workspaces/1/datasets/7/v/1/n/samplesheet.csv"


class _TaskInstance:
    """Just enough of a task instance for the launch task's XCom reference to resolve."""

    def xcom_pull(self, task_ids: str, key: str = "return_value", **_: Any) -> str | None:
        return SHEET_URL if (task_ids, key) == ("samplesheet", "return_value") else None


def _rendered(task_id: str, context: dict[str, Any], field: str) -> Any:
    task = runpy.run_path(str(EXAMPLE))["dag"].get_task(task_id)
    task.render_template_fields({**context, "ti": _TaskInstance()})
    return getattr(task, field)


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
    assert _rendered("rnaseq", context, "pipeline_params") == {
        "input": SHEET_URL,  # the uploaded samplesheet version
        "outdir": f"s3://demo-bucket/results/{day}",
    }
    assert _rendered("samplesheet", context, "file_name") == f"samplesheet-{day}.csv"
    sheet = runpy.run_path(str(EXAMPLE))["samplesheet"](context)
    assert sheet.splitlines()[0] == "sample,fastq_1,fastq_2,strandedness"
    assert f"s3://demo-bucket/fastq/{day}/liver_1_R1.fastq.gz" in sheet


def test_the_launch_waits_for_the_samplesheet_upload() -> None:
    dag = runpy.run_path(str(EXAMPLE))["dag"]
    assert dag.get_task("rnaseq").upstream_task_ids == {"samplesheet"}


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
