"""Worker (Airflow environment): one DAG maps ``TowerLaunchOperator`` over N parameter sets
with dynamic task mapping, run by ``airflow dags test`` in a private AIRFLOW_HOME.

``python -m bench._fanout_airflow '<settings json>'`` prints one JSON line: the wall time of
``airflow dags test``, its exit code and the states of the mapped task instances; the *floor*,
the wall time of the same command for a DAG that maps an empty task over as many parameter sets
(what Airflow itself costs before any call to Tower); and the *start-up*, the same for one empty
task (the command's fixed cost: start, parse, create the DAG run), which the other orchestrators'
timings, taken inside a running process, do not include.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DAG = """
from datetime import datetime

from airflow.sdk import DAG
from nftower_airflow.operators import TowerLaunchOperator

with DAG("nftower_fanout", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    TowerLaunchOperator.partial(
        task_id="launch", pipeline="hello", wait_for_completion=False, deferrable=False
    ).expand(pipeline_params=[{{"sample": i}} for i in range({launches})])
"""

FLOOR = """
from datetime import datetime

from airflow.sdk import DAG, task

with DAG("{dag_id}", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):

    @task(task_id="launch")
    def nothing(pipeline_params: dict) -> None:
        return None

    nothing.expand(pipeline_params=[{{"sample": i}} for i in range({launches})])
"""


def _dags_test(airflow: str, dag_id: str, env: dict[str, str]) -> tuple[float, str, int]:
    """Wall time, output and exit code of ``airflow dags test dag_id``."""
    started = time.monotonic()
    test = subprocess.run(
        [airflow, "dags", "test", dag_id], env=env, capture_output=True, text=True, timeout=3600
    )
    return time.monotonic() - started, test.stdout + test.stderr, test.returncode


def _ended(output: str) -> int:
    """How many mapped ``launch`` task instances ``airflow dags test`` ran to an end."""
    return len(re.findall(r"\[DAG TEST\] end task task_id=launch", output))


def main(settings: dict[str, Any]) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="nftower-bench-airflow-"))
    (home / "dags").mkdir()
    (home / "dags" / "nftower_fanout.py").write_text(DAG.format(launches=settings["launches"]))
    for dag_id, launches in (("nftower_floor", settings["launches"]), ("nftower_startup", 1)):
        (home / "dags" / f"{dag_id}.py").write_text(FLOOR.format(dag_id=dag_id, launches=launches))
    connection = {
        "conn_type": "tower",
        "host": settings["url"],
        "password": settings["token"],
        "extra": {"workspace": settings["workspace"]},
    }
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(home / "logs"),
        AIRFLOW_CONN_TOWER_DEFAULT=json.dumps(connection),
        NFTOWER_RATE_LIMIT_BACKEND=settings["backend"],
    )
    airflow = str(Path(sys.executable).with_name("airflow"))
    migrate = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True)
    if migrate.returncode != 0:
        return {"error": migrate.stderr[-2000:]}
    seconds, output, returncode = _dags_test(airflow, "nftower_fanout", env)
    floor, floor_output, floor_returncode = _dags_test(airflow, "nftower_floor", env)
    startup, _, startup_returncode = _dags_test(airflow, "nftower_startup", env)
    return {
        "seconds": round(seconds, 2),
        "floor_seconds": round(floor, 2) if floor_returncode == 0 else None,
        "floor_tasks_ended": _ended(floor_output),
        "startup_seconds": round(startup, 2) if startup_returncode == 0 else None,
        "returncode": returncode,
        "tasks_ended": _ended(output),
        "succeeded": len(re.findall(r"new_state=success", output)),
        "dag_run_success": bool(
            re.search(r"Marking run <DagRun nftower_fanout.*successful", output)
        ),
        "tail": output[-1500:] if returncode else "",
        "log": output[-6000:] if os.environ.get("NFTOWER_BENCH_DEBUG") else "",
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))), flush=True)
