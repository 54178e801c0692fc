"""DAGs whose processes tests/e2e/test_airflow_process_faults.py kills: a task waiting in the
worker (one retry, no delay) and a deferred task (its triggerer is killed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG
from nftower_airflow.operators import TowerLaunchOperator

HELD = {"emulator_outcome": "hang"}  # RUNNING until the test says otherwise

with DAG(
    "faults_worker_killed",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=0)},
):
    TowerLaunchOperator(task_id="launch", pipeline="hello", pipeline_params=HELD, poll_interval=1)

with DAG(
    "faults_triggerer_killed",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
):
    TowerLaunchOperator(
        task_id="launch", pipeline="hello", pipeline_params=HELD, deferrable=True, poll_interval=1
    )
