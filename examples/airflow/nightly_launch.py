"""Nightly nf-core/rnaseq on Tower, launched from Airflow.

Every night at 02:00 UTC this DAG writes the day's samplesheet, uploads it as a version of the
``rnaseq-samplesheet`` Tower dataset (a retry finds the same content and uploads nothing), and
launches the "rnaseq" launchpad pipeline with that version's URL as ``input`` (a manual run
without a logical date takes the day it was triggered). It waits for the run in the triggerer
(deferrable: no worker slot is held) and hands the Tower workflow id to a downstream task.
Re-running the launch task reattaches to the same run; a retry of a failed run resumes it with
Nextflow's cache.

Needs a ``tower_default`` connection, e.g.::

    export AIRFLOW_CONN_TOWER_DEFAULT='{"conn_type": "tower",
        "host": "https://api.cloud.seqera.io", "password": "<token>",
        "extra": {"workspace": "my-org/my-workspace"}}'

``examples/airflow/run_demo.sh`` runs it against the local Tower emulator.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task
from nftower_airflow.data_operators import TowerDatasetUploadOperator
from nftower_airflow.operators import TowerLaunchOperator

POLL_INTERVAL = float(os.environ.get("NFTOWER_DEMO_POLL_INTERVAL", "60"))

# The day a run works on: the logical date of a scheduled run, the trigger time of a manual one.
# ({{ ds }} alone breaks manual runs: Airflow 3 lets them have no logical date, and then ds,
# ts and logical_date are undefined.)
RUN_DATE = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"
SAMPLES = ["liver_1", "liver_2", "kidney_1"]


def samplesheet(context: Any) -> str:
    """The night's samplesheet (nf-core/rnaseq columns) for the DAG run's day."""
    dag_run = context["dag_run"]
    day = (dag_run.logical_date or dag_run.run_after).date().isoformat()
    rows = ["sample,fastq_1,fastq_2,strandedness"]
    for sample in SAMPLES:
        prefix = f"s3://demo-bucket/fastq/{day}/{sample}"
        rows.append(f"{sample},{prefix}_R1.fastq.gz,{prefix}_R2.fastq.gz,auto")
    return "\n".join(rows) + "\n"


with DAG(
    dag_id="nightly_rnaseq",
    schedule="0 2 * * *",
    start_date=datetime(2024, 6, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["nextflow", "tower"],
) as dag:
    sheet = TowerDatasetUploadOperator(
        task_id="samplesheet",
        dataset="rnaseq-samplesheet",
        content=samplesheet,
        file_name=f"samplesheet-{RUN_DATE}.csv",
    )

    rnaseq = TowerLaunchOperator(
        task_id="rnaseq",
        pipeline="rnaseq",
        # Nextflow parameters: pipeline_params, not params (Airflow's own DAG Params)
        pipeline_params={
            "input": sheet.output,  # the dataset version's URL
            "outdir": f"s3://demo-bucket/results/{RUN_DATE}",
        },
        labels=["nightly"],
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        execution_timeout=timedelta(hours=12),
    )

    @task
    def publish(workflow_id: str, **context: object) -> str:
        """Downstream work that needs the Tower run (here: just report it)."""
        ti = context["ti"]
        run_url = ti.xcom_pull(task_ids="rnaseq", key="run_url")  # type: ignore[attr-defined]
        print(f"rnaseq run {workflow_id} finished: {run_url}")
        return workflow_id

    publish(rnaseq.output)
