"""A DAG whose Tower run fails after 45 s (the emulator's ``emulator_outcome`` and
``emulator_duration``), for the browser tests of the progress lines and the failure report in
the task log. No retries: one failure, one report."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG
from nftower_airflow.operators import TowerLaunchOperator

with DAG(
    dag_id="tower_failure_demo",
    schedule=None,
    start_date=datetime(2024, 6, 1),
    catchup=False,
    tags=["nextflow", "tower"],
) as dag:
    TowerLaunchOperator(
        task_id="rnaseq",
        pipeline="rnaseq",
        pipeline_params={"emulator_outcome": "fail", "emulator_duration": 45},
        deferrable=True,
        poll_interval=1,
        retries=0,
    )
