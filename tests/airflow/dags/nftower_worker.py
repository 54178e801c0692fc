"""Scenarios waited for in the worker, run by ``airflow dags test`` (tests/airflow/test_dags.py).

Tasks form one chain (trigger rule all_done) so they run in a known order: the test arms a
dropped-response fault for the first launch before the run starts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, chain
from nftower_airflow.operators import TowerLaunchOperator
from nftower_airflow.sensors import TowerRunSensor

FAST = {"poll_interval": 0.2, "trigger_rule": "all_done"}
RETRY = {"retries": 1, "retry_delay": timedelta(seconds=0)}


def _launch(task_id: str, outcome: str | None = None, **kwargs: Any) -> TowerLaunchOperator:
    """A task launching the emulator's ``hello`` pipeline with ``emulator_outcome``."""
    params = {"emulator_outcome": outcome} if outcome else kwargs.pop("pipeline_params", None)
    return TowerLaunchOperator(task_id=task_id, pipeline="hello", pipeline_params=params, **kwargs)


def _start_and_sense(mode: str, poke_interval: float) -> list[Any]:
    """Launch without waiting, then a sensor in ``mode`` that waits for that run."""
    start = _launch(
        f"start_{mode}",
        pipeline_params={"emulator_duration": 40},
        wait_for_completion=False,
        **FAST,
    )
    workflow_id = "{{ ti.xcom_pull(task_ids='" + start.task_id + "', key='workflow_id') }}"
    sensor = TowerRunSensor(
        task_id=f"sensor_{mode}",
        workflow_id=workflow_id,
        mode=mode,
        poke_interval=poke_interval,
        trigger_rule="all_done",
    )
    return [start, sensor]


class CrashAfterLaunch(TowerLaunchOperator):
    """Simulates a worker that dies right after launching, before it records the run."""

    def submit_job(self, context: Any) -> str:
        workflow_id = super().submit_job(context)
        if context["ti"].try_number == 1:
            raise RuntimeError("simulated worker crash right after the launch")
        return workflow_id


with DAG("nftower_worker", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    chain(
        _launch("dropped_launch", **FAST, **RETRY),
        *_start_and_sense("poke", 0.2),
        *_start_and_sense("reschedule", 1),
        _launch("fails", "fail", **FAST),
        TowerRunSensor(
            task_id="sensor_on_failed",
            workflow_id="{{ ti.xcom_pull(task_ids='fails', key='workflow_id') }}",
            poke_interval=0.2,
            trigger_rule="all_done",
        ),
        _launch("cancelled", "cancel", **FAST),
        _launch("unknown", "unknown", unknown_timeout=1, **FAST),
        _launch("rejected", "explode", **FAST),  # Tower answers 400 to the launch
        _launch("times_out", "hang", timeout=1.5, **FAST),
        _launch("exec_timeout", "hang", execution_timeout=timedelta(seconds=3), **FAST),
        CrashAfterLaunch(task_id="crash_reattach", pipeline="hello", **FAST, **RETRY),
        _launch("resume", "fail_once", **FAST, **RETRY),
    )
