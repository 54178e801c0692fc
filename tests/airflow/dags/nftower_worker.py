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


def _wid(task_id: str) -> str:
    return "{{ ti.xcom_pull(task_ids='" + task_id + "', key='workflow_id') }}"


class CrashAfterLaunch(TowerLaunchOperator):
    """Simulates a worker that dies right after launching, before it records the run."""

    def submit_job(self, context: Any) -> str:
        workflow_id = super().submit_job(context)
        if context["ti"].try_number == 1:
            raise RuntimeError("simulated worker crash right after the launch")
        return workflow_id


with DAG("nftower_worker", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    chain(
        TowerLaunchOperator(task_id="dropped_launch", pipeline="hello", **FAST, **RETRY),
        TowerLaunchOperator(
            task_id="start_a",
            pipeline="hello",
            pipeline_params={"emulator_duration": 40},
            wait_for_completion=False,
            **FAST,
        ),
        TowerRunSensor(
            task_id="sensor_poke",
            workflow_id=_wid("start_a"),
            mode="poke",
            poke_interval=0.2,
            trigger_rule="all_done",
        ),
        TowerLaunchOperator(
            task_id="start_b",
            pipeline="hello",
            pipeline_params={"emulator_duration": 40},
            wait_for_completion=False,
            **FAST,
        ),
        TowerRunSensor(
            task_id="sensor_reschedule",
            workflow_id=_wid("start_b"),
            mode="reschedule",
            poke_interval=1,
            trigger_rule="all_done",
        ),
        TowerLaunchOperator(
            task_id="fails", pipeline="hello", pipeline_params={"emulator_outcome": "fail"}, **FAST
        ),
        TowerRunSensor(
            task_id="sensor_on_failed",
            workflow_id=_wid("fails"),
            poke_interval=0.2,
            trigger_rule="all_done",
        ),
        TowerLaunchOperator(
            task_id="times_out",
            pipeline="hello",
            pipeline_params={"emulator_outcome": "hang"},
            timeout=1.5,
            **FAST,
        ),
        TowerLaunchOperator(
            task_id="exec_timeout",
            pipeline="hello",
            pipeline_params={"emulator_outcome": "hang"},
            execution_timeout=timedelta(seconds=3),
            **FAST,
        ),
        CrashAfterLaunch(task_id="crash_reattach", pipeline="hello", **FAST, **RETRY),
        TowerLaunchOperator(
            task_id="resume",
            pipeline="hello",
            pipeline_params={"emulator_outcome": "fail_once"},
            **FAST,
            **RETRY,
        ),
    )
