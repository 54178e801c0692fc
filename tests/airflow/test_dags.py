"""Real DAG runs with ``airflow dags test``: operator in both modes, sensor in all three modes.

Each DAG file holds many scenarios so the suite pays Airflow's start-up only twice. The DAG
subprocesses reach the session emulator through AIRFLOW_CONN_TOWER_DEFAULT.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from airflow_harness import AirflowRunner, DagRunResult

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def worker_run(airflow_runner: AirflowRunner, dag_emulator: Any) -> DagRunResult:
    dag_emulator.clear_faults()
    # the first launch of the chain (task dropped_launch) is recorded, then its response is lost
    dag_emulator.inject("drop_after", method="POST", path=r"^/workflow/launch$", times=1)
    return airflow_runner.dags_test("nftower_worker.py", "nftower_worker")


@pytest.fixture(scope="module")
def deferred_run(airflow_runner: AirflowRunner, dag_emulator: Any) -> DagRunResult:
    dag_emulator.clear_faults()
    return airflow_runner.dags_test("nftower_deferred.py", "nftower_deferred")


def _launches(emulator: Any, result: DagRunResult, task_id: str) -> list[dict[str, Any]]:
    name = result.run_name(task_id)
    bodies = [r.json["launch"] for r in emulator.launches]
    return [b for b in bodies if b["runName"] == name or b["runName"].startswith(f"{name}-r")]


def _run_status(emulator: Any, result: DagRunResult, task_id: str) -> str:
    workflow_id = result.xcoms[(task_id, "workflow_id")]
    return str(emulator.workflow(workflow_id)["status"])


def _secrets_leak(result: DagRunResult, home: Path, token: str) -> list[str]:
    places = []
    if token in result.output:
        places.append("dags test output")
    if token in repr(result.xcoms):
        places.append("xcom")
    for path in (home / "logs").rglob("*"):
        if path.is_file() and token in path.read_text(errors="replace"):
            places.append(str(path))
    return places


class TestWorkerMode:
    def test_task_states(self, worker_run: DagRunResult) -> None:
        assert worker_run.states == {
            "dropped_launch": "success",
            "start_poke": "success",
            "sensor_poke": "success",
            "start_reschedule": "success",
            "sensor_reschedule": "success",
            "fails": "failed",
            "sensor_on_failed": "failed",
            "cancelled": "failed",
            "unknown": "failed",
            "rejected": "failed",
            "times_out": "failed",
            "exec_timeout": "failed",
            "crash_reattach": "success",
            "resume": "success",
        }, worker_run.output[-5000:]

    def test_lost_launch_response_does_not_launch_twice(
        self, worker_run: DagRunResult, dag_emulator: Any
    ) -> None:
        assert len(_launches(dag_emulator, worker_run, "dropped_launch")) == 1
        assert "launch outcome was unknown" in worker_run.output  # the fault did hit

    def test_crashed_first_try_reattaches(
        self, worker_run: DagRunResult, dag_emulator: Any
    ) -> None:
        assert worker_run.tries["crash_reattach"] == 2
        assert len(_launches(dag_emulator, worker_run, "crash_reattach")) == 1
        assert "simulated worker crash" in worker_run.output

    def test_retry_of_failed_run_resumes(self, worker_run: DagRunResult, dag_emulator: Any) -> None:
        first, second = _launches(dag_emulator, worker_run, "resume")
        assert not first.get("resume")
        assert second["resume"] is True
        resumed = dag_emulator.workflow(worker_run.xcoms[("resume", "workflow_id")])
        assert second["sessionId"] == resumed["sessionId"]
        assert worker_run.tries["resume"] == 2

    def test_failure_is_explained_in_the_task_log(self, worker_run: DagRunResult) -> None:
        log = worker_run.task_log("fails")
        assert "Tower run failed" in log
        assert "ended FAILED, exit status 1" in log
        assert "Failed tasks" in log
        assert "Nextflow log" in log
        assert worker_run.xcoms[("fails", "run_url")] in log

    def test_cancelled_and_unknown_runs_fail_the_task(self, worker_run: DagRunResult) -> None:
        assert "ended CANCELLED" in worker_run.task_log("cancelled")
        unknown = worker_run.task_log("unknown")
        assert "reported status UNKNOWN" in unknown
        assert "TowerRunFailedError" in unknown

    def test_no_airflow_errors_for_links_of_tasks_without_a_run(
        self, worker_run: DagRunResult
    ) -> None:
        # the link of a rejected launch or a rescheduled sensor must not log "XCom not found"
        assert "XCom not found" not in worker_run.output

    def test_api_error_in_the_task_log_names_status_operation_and_message(
        self, worker_run: DagRunResult
    ) -> None:
        log = worker_run.task_log("rejected")
        # a validation error: Tower's message, without an Error ID
        assert re.search(r"400 POST /workflow/launch: Invalid emulator_outcome '\w+'", log), log[
            -3000:
        ]

    def test_timeouts_cancel_the_run(self, worker_run: DagRunResult, dag_emulator: Any) -> None:
        assert _run_status(dag_emulator, worker_run, "times_out") == "CANCELLED"
        assert _run_status(dag_emulator, worker_run, "exec_timeout") == "CANCELLED"

    def test_reschedule_mode_rescheduled(
        self, worker_run: DagRunResult, airflow_runner: Any
    ) -> None:
        with sqlite3.connect(airflow_runner.home / "airflow.db") as db:
            (count,) = db.execute(
                "SELECT count(*) FROM task_reschedule r JOIN task_instance t ON r.ti_id = t.id"
                " WHERE t.dag_id = ? AND t.task_id = 'sensor_reschedule'",
                (worker_run.dag_id,),
            ).fetchone()
        assert count >= 1

    def test_xcom_holds_id_and_url(self, worker_run: DagRunResult) -> None:
        workflow_id = worker_run.xcoms[("start_poke", "workflow_id")]
        assert worker_run.xcoms[("start_poke", "return_value")] == workflow_id
        assert worker_run.xcoms[("start_poke", "run_url")].endswith(f"/watch/{workflow_id}")
        assert worker_run.xcoms[("fails", "run_url")]  # pushed before the failure


class TestDeferredMode:
    def test_task_states(self, deferred_run: DagRunResult) -> None:
        assert deferred_run.states == {
            "d_ok": "success",
            "d_start": "success",
            "d_sensor": "success",
            "d_sensor_missing": "failed",
            "d_fail": "failed",
            "d_cancel": "failed",
            "d_unknown": "failed",
            "d_timeout": "failed",
            "d_exec_timeout": "failed",
            "d_mapped": "success",
        }, deferred_run.output[-5000:]

    def test_tasks_deferred(self, deferred_run: DagRunResult) -> None:
        assert deferred_run.output.count("Deferring: the triggerer watches run") >= 5

    def test_mapped_instances_each_own_a_run(
        self, deferred_run: DagRunResult, dag_emulator: Any
    ) -> None:
        assert deferred_run.mapped_states["d_mapped"] == {0: "success", 1: "success"}
        names = {deferred_run.run_name("d_mapped", index) for index in (0, 1)}
        launched = [r.json["launch"]["runName"] for r in dag_emulator.launches]
        assert sorted(n for n in launched if n in names) == sorted(names)

    def test_failures_named_in_the_task_log(self, deferred_run: DagRunResult) -> None:
        assert "ended FAILED" in deferred_run.task_log("d_fail")
        assert "ended CANCELLED" in deferred_run.task_log("d_cancel")
        unknown = deferred_run.task_log("d_unknown")
        assert "has reported status UNKNOWN for" in unknown
        assert "(unknown_timeout=1 s)" in unknown
        assert "TowerRunFailedError" in unknown
        missing = deferred_run.task_log("d_sensor_missing")
        assert re.search(r"403 GET /workflow/\{workflowId\}: Run '\w+' is unknown or not", missing)

    def test_deadlines_cancel_the_run(self, deferred_run: DagRunResult, dag_emulator: Any) -> None:
        assert _run_status(dag_emulator, deferred_run, "d_timeout") == "CANCELLED"
        assert _run_status(dag_emulator, deferred_run, "d_exec_timeout") == "CANCELLED"
        assert "execution_timeout" in deferred_run.output


@pytest.mark.parametrize("run", ["worker_run", "deferred_run"])
def test_token_never_logged(
    run: str, request: pytest.FixtureRequest, dag_emulator: Any, airflow_runner: Any
) -> None:
    """Not in the output (task logs, trigger logs), XCom, or any file under logs/."""
    result = request.getfixturevalue(run)
    assert _secrets_leak(result, airflow_runner.home, dag_emulator.token) == []
