"""Scenarios waited for in the trigger, run by ``airflow dags test`` (see test_dags.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, chain
from nftower_airflow.operators import TowerLaunchOperator
from nftower_airflow.sensors import TowerRunSensor

DEFERRED = {"poll_interval": 0.2, "trigger_rule": "all_done", "deferrable": True}


def _deferred(task_id: str, outcome: str | None = None, **kwargs: Any) -> TowerLaunchOperator:
    """A deferrable task launching the emulator's ``hello`` pipeline with ``emulator_outcome``."""
    params = {"emulator_outcome": outcome} if outcome else {"emulator_duration": 40}
    return TowerLaunchOperator(
        task_id=task_id, pipeline="hello", pipeline_params=params, **DEFERRED, **kwargs
    )


with DAG("nftower_deferred", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    chain(
        _deferred("d_ok"),
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
        TowerRunSensor(  # Tower answers 403 for a run that does not exist, as for a bad token
            task_id="d_sensor_missing",
            workflow_id="noSuchRun1234",
            deferrable=True,
            poke_interval=0.2,
            trigger_rule="all_done",
        ),
        _deferred("d_fail", "fail"),
        _deferred("d_cancel", "cancel"),
        _deferred("d_unknown", "unknown", unknown_timeout=1),
        _deferred("d_timeout", "hang", timeout=1.5),
        _deferred("d_exec_timeout", "hang", execution_timeout=timedelta(seconds=3)),
        TowerLaunchOperator.partial(task_id="d_mapped", pipeline="hello", **DEFERRED).expand(
            pipeline_params=[{"emulator_duration": 20}, {"emulator_duration": 30}]
        ),
    )
