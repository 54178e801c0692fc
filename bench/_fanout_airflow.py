"""Worker (Airflow environment): one DAG maps ``TowerLaunchOperator`` over N parameter sets
with dynamic task mapping, run by ``airflow dags test`` in a private AIRFLOW_HOME.

``python -m bench._fanout_airflow '<settings json>'`` prints one JSON line: the wall time of
``airflow dags test``, its exit code and the states of the mapped task instances.
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


def main(settings: dict[str, Any]) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="nftower-bench-airflow-"))
    (home / "dags").mkdir()
    (home / "dags" / "nftower_fanout.py").write_text(DAG.format(launches=settings["launches"]))
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
    started = time.monotonic()
    test = subprocess.run(
        [airflow, "dags", "test", "nftower_fanout"],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seconds = time.monotonic() - started
    output = test.stdout + test.stderr
    return {
        "seconds": round(seconds, 2),
        "returncode": test.returncode,
        "tasks_ended": len(re.findall(r"\[DAG TEST\] end task task_id=launch", output)),
        "succeeded": len(re.findall(r"new_state=success", output)),
        "dag_run_success": bool(
            re.search(r"Marking run <DagRun nftower_fanout.*successful", output)
        ),
        "tail": output[-1500:] if test.returncode else "",
        "log": output[-6000:] if os.environ.get("NFTOWER_BENCH_DEBUG") else "",
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))), flush=True)
