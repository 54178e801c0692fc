"""Scenarios waited for in the trigger, run by ``airflow dags test`` (see test_dags.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, chain
from nftower_airflow.operators import TowerLaunchOperator
from nftower_airflow.sensors import TowerRunSensor

DEFERRED = {"poll_interval": 0.2, "trigger_rule": "all_done", "deferrable": True}
HANG = {"emulator_outcome": "hang"}

with DAG("nftower_deferred", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    chain(
        TowerLaunchOperator(
            task_id="d_ok", pipeline="hello", pipeline_params={"emulator_duration": 40}, **DEFERRED
        ),
        TowerLaunchOperator(
            task_id="d_start",
            pipeline="hello",
            pipeline_params={"emulator_duration": 40},
            wait_for_completion=False,
            trigger_rule="all_done",
        ),
        TowerRunSensor(
            task_id="d_sensor",
            workflow_id="{{ ti.xcom_pull(task_ids='d_start', key='workflow_id') }}",
            deferrable=True,
            poke_interval=0.2,
            trigger_rule="all_done",
        ),
        TowerLaunchOperator(
            task_id="d_fail",
            pipeline="hello",
            pipeline_params={"emulator_outcome": "fail"},
            **DEFERRED,
        ),
        TowerLaunchOperator(
            task_id="d_cancel",
            pipeline="hello",
            pipeline_params={"emulator_outcome": "cancel"},
            **DEFERRED,
        ),
        TowerLaunchOperator(
            task_id="d_timeout", pipeline="hello", pipeline_params=HANG, timeout=1.5, **DEFERRED
        ),
        TowerLaunchOperator(
            task_id="d_exec_timeout",
            pipeline="hello",
            pipeline_params=HANG,
            execution_timeout=timedelta(seconds=3),
            **DEFERRED,
        ),
        TowerLaunchOperator.partial(task_id="d_mapped", pipeline="hello", **DEFERRED).expand(
            pipeline_params=[{"emulator_duration": 20}, {"emulator_duration": 30}]
        ),
    )
