"""Datasets, run files and assets, run by ``airflow dags test`` (tests/airflow/test_data_dags.py).

Every step that talks to Tower crashes once right after its work is done, so the retry shows
what a real worker crash would: no second upload, no second run, the same files.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, chain
from nftower_airflow.data_operators import TowerDatasetUploadOperator, TowerRunLogsOperator
from nftower_airflow.operators import TowerLaunchOperator

RETRY = {"retries": 1, "retry_delay": timedelta(seconds=0)}
FAST = {"poll_interval": 0.2, "trigger_rule": "all_done"}
SAVED = "file://" + os.path.join(os.environ["AIRFLOW_HOME"], "saved", "{{ ds }}")
SHEET = "sample,fastq_1,fastq_2\nWT_REP1,s3://b/wt1_R1.fq.gz,s3://b/wt1_R2.fq.gz\n"
RESULTS = Asset("s3://demo-bucket/results/nightly")


def _crash_once(context: Any) -> None:
    if context["ti"].try_number == 1:
        raise RuntimeError("simulated worker crash after the work was done")


class CrashAfterUpload(TowerDatasetUploadOperator):
    def execute(self, context: Any) -> str:
        url = super().execute(context)
        _crash_once(context)
        return url


class CrashAfterLaunch(TowerLaunchOperator):
    def submit_job(self, context: Any) -> str:
        workflow_id = super().submit_job(context)
        _crash_once(context)
        return workflow_id


class CrashAfterSaving(TowerRunLogsOperator):
    def execute(self, context: Any) -> list[str]:
        written = super().execute(context)
        _crash_once(context)
        return written


with DAG("nftower_data", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    chain(
        CrashAfterUpload(
            task_id="samplesheet",
            dataset="airflow-nightly",
            content=lambda context: SHEET,
            **RETRY,
        ),
        CrashAfterLaunch(
            task_id="launch",
            pipeline="hello",
            dataset="{{ ti.xcom_pull(task_ids='samplesheet') }}",
            pipeline_params={"outdir": "s3://demo-bucket/results/{{ ds }}"},
            outlets=[RESULTS],
            tower_outputs_as_assets=True,
            **FAST,
            **RETRY,
        ),
        CrashAfterSaving(
            task_id="save_log",
            workflow_id="{{ ti.xcom_pull(task_ids='launch', key='workflow_id') }}",
            destination=SAVED,
            files=["log", "timeline"],
            **RETRY,
            trigger_rule="all_done",
        ),
        TowerLaunchOperator(
            task_id="fails",
            pipeline="hello",
            pipeline_params={"emulator_outcome": "fail"},
            **FAST,
        ),
        TowerRunLogsOperator(
            task_id="save_failed_log",
            workflow_id="{{ ti.xcom_pull(task_ids='fails', key='workflow_id') }}",
            destination=SAVED + "/failed",
            trigger_rule="all_done",
        ),
    )
