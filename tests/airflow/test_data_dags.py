"""Datasets, run files and assets in a real DAG run (``airflow dags test``), each step retried
after a crash: one upload, one run, the same saved files, asset events with the run."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from airflow_harness import AirflowRunner, DagRunResult

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def data_run(airflow_runner: AirflowRunner, dag_emulator: Any) -> DagRunResult:
    dag_emulator.clear_faults()
    return airflow_runner.dags_test("nftower_data.py", "nftower_data")


def _requests(emulator: Any, suffix: str) -> list[Any]:
    return [r for r in emulator.requests if r.path.endswith(suffix)]


def test_states_and_retries(data_run: DagRunResult) -> None:
    assert data_run.states == {
        "samplesheet": "success",
        "launch": "success",
        "save_log": "success",
        "fails": "failed",
        "save_failed_log": "success",
    }, data_run.output[-5000:]
    assert data_run.tries["samplesheet"] == data_run.tries["launch"] == 2


def test_upload_once_and_launch_once_with_its_url(
    data_run: DagRunResult, dag_emulator: Any
) -> None:
    url = data_run.xcoms[("samplesheet", "return_value")]
    assert "/datasets/" in url
    assert url.endswith("/n/samplesheet.csv")
    uploads = [r for r in _requests(dag_emulator, "/upload") if r.status == 200]
    assert len(uploads) == 1
    workflow_id = data_run.xcoms[("launch", "workflow_id")]
    assert dag_emulator.workflow(workflow_id)["params"]["input"] == url
    name_prefix = dag_emulator.workflow(workflow_id)["runName"]
    assert [r for r in dag_emulator.launches if r.json["launch"]["runName"] == name_prefix]


def test_run_log_saved_through_object_storage(
    data_run: DagRunResult, airflow_runner: AirflowRunner
) -> None:
    workflow_id = data_run.xcoms[("launch", "workflow_id")]
    saved = list((airflow_runner.home / "saved").rglob(f"nf-{workflow_id}.log"))
    assert len(saved) == 1
    assert "N E X T F L O W" in saved[0].read_text()
    assert (saved[0].parent / f"timeline-{workflow_id}.html").is_file()
    assert not list((airflow_runner.home / "saved").rglob("*.part"))
    failed_id = data_run.xcoms[("fails", "workflow_id")]
    assert list((airflow_runner.home / "saved").rglob(f"failed/nf-{failed_id}.log"))


def test_failed_tasks_stderr_in_the_task_log(data_run: DagRunResult) -> None:
    log = data_run.task_log("fails")
    assert ".command.err (tail):" in log
    assert "exited with status 1" in log


def test_asset_events_carry_the_run(
    data_run: DagRunResult, airflow_runner: AirflowRunner, dag_emulator: Any
) -> None:
    with sqlite3.connect(airflow_runner.home / "airflow.db") as db:
        rows = db.execute(
            "SELECT asset.uri, asset_event.extra FROM asset_event"
            " JOIN asset ON asset.id = asset_event.asset_id"
            " WHERE asset_event.source_dag_id = 'nftower_data'"
        ).fetchall()
    events = {uri: json.loads(extra) for uri, extra in rows}
    workflow_id = data_run.xcoms[("launch", "workflow_id")]
    outdir = dag_emulator.workflow(workflow_id)["params"]["outdir"]
    assert outdir.startswith("s3://demo-bucket/results/")
    assert set(events) == {"s3://demo-bucket/results/nightly", outdir}
    for extra in events.values():
        assert extra["tower_workflow_id"] == workflow_id
        assert extra["tower_run_url"].endswith(f"/watch/{workflow_id}")
