"""A DAG whose launch meets a Tower API error that does not go away (the browser test injects a
500 on the saved launch of the pipeline ``broken-rnaseq``), for the browser test of the Error
ID in the task log. No retries: one failure, one report."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG
from nftower_airflow.operators import TowerLaunchOperator

with DAG(
    dag_id="tower_api_error_demo",
    schedule=None,
    start_date=datetime(2024, 6, 1),
    catchup=False,
    tags=["nextflow", "tower"],
) as dag:
    TowerLaunchOperator(task_id="rnaseq", pipeline="broken-rnaseq", retries=0)
