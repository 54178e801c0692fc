"""Helpers for the Airflow tests: connection JSON, a fake task context, ``airflow dags test``."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

DAGS_DIR = Path(__file__).parent / "dags"
AIRFLOW_BIN = Path(sys.executable).parent / "airflow"


def conn_json(emulator: Any, **extra: Any) -> str:
    """AIRFLOW_CONN_TOWER_DEFAULT value for an emulator (JSON connection format)."""
    return json.dumps(
        {
            "conn_type": "tower",
            "host": emulator.url,
            "password": emulator.token,
            "extra": {"workspace": str(emulator.workspace_id), **extra},
        }
    )


def launch_run(emulator: Any, **params: Any) -> str:
    """Launch the emulator's ``hello`` pipeline directly (no Airflow); returns the workflow id."""
    from nftower import TowerClient

    with TowerClient(emulator.url, emulator.token, emulator.workspace_id) as client:
        return client.launch("hello", params=params or None)


def cancel_requests(emulator: Any) -> list[Any]:
    """The cancel calls the emulator recorded."""
    return [r for r in emulator.requests if r.path.endswith("/cancel")]


# -- a task context good enough for execute() outside a DAG run ------------------------------


class FakeStateStore:
    """Stands in for Airflow's task_state_store (a per-task-instance key/value store)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


@dataclass
class FakeTaskInstance:
    """The RuntimeTaskInstance attributes the provider uses."""

    dag_id: str = "unit_dag"
    task_id: str = "unit_task"
    run_id: str = "manual__2024-06-01T00:00:00+00:00"
    try_number: int = 1
    map_index: int = -1
    start_date: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    xcoms: dict[str, Any] = field(default_factory=dict)
    stats_tags: dict[str, str] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value

    def xcom_pull(self, task_ids: Any = None, key: str = "return_value", **_: Any) -> Any:
        return self.xcoms.get(key)


def make_context(ti: FakeTaskInstance | None = None, *, store: FakeStateStore | None = None) -> Any:
    """A minimal task context: ti, run_id, task_state_store."""
    ti = ti or FakeTaskInstance()
    day = re.search(r"\d{4}-\d{2}-\d{2}", ti.run_id)
    logical_date = datetime.fromisoformat(day.group()).replace(tzinfo=timezone.utc) if day else None
    return {
        "ti": ti,
        "run_id": ti.run_id,
        "logical_date": logical_date,
        "task_state_store": store or FakeStateStore(),
    }


# -- airflow dags test --------------------------------------------------------------------------


@dataclass
class DagRunResult:
    """What one ``airflow dags test`` left behind."""

    dag_id: str
    run_id: str
    returncode: int
    output: str
    states: dict[str, str]
    tries: dict[str, int]
    xcoms: dict[tuple[str, str], Any]
    history: dict[str, list[str]]
    mapped_states: dict[str, dict[int, str]]
    logical_date: datetime | None = None

    def run_name(self, task_id: str, map_index: int = -1) -> str:
        """The Tower run name the operator gives ``task_id`` in this DAG run."""
        from types import SimpleNamespace

        from nftower_airflow._naming import task_run_names

        ti = SimpleNamespace(dag_id=self.dag_id, task_id=task_id, map_index=map_index)
        context = {"ti": ti, "run_id": self.run_id, "logical_date": self.logical_date}
        return task_run_names(context)[0]

    def task_log(self, task_id: str) -> str:
        """What ``task_id`` logged (every try, poke and resumption), from the command output.

        ``airflow dags test`` runs tasks in its own process and writes no log files: each task
        run stands between ``[DAG TEST] starting task_id=X`` and ``[DAG TEST] end task task_id=X``.
        """
        pattern = (
            rf"\[DAG TEST\] starting task_id={task_id} .*?"
            rf"(?:\[DAG TEST\] end task task_id={task_id} |\Z)"
        )
        runs = re.findall(pattern, self.output, flags=re.DOTALL)
        assert runs, f"{task_id} never ran"
        return "\n".join(runs)


class AirflowRunner:
    """Runs the ``airflow`` CLI of this environment against a private AIRFLOW_HOME."""

    def __init__(self, home: Path, *, env: dict[str, str]) -> None:
        self.home = home
        self.dags = home / "dags"
        self.dags.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, **env}
        self.env["PATH"] = f"{AIRFLOW_BIN.parent}{os.pathsep}{self.env.get('PATH', '')}"

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AIRFLOW_BIN), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def migrate(self) -> None:
        result = self.run("db", "migrate")
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{result.stdout}\n{result.stderr}")

    def dags_test(self, dag_file: str | Path, dag_id: str, *, timeout: float = 300) -> DagRunResult:
        source = Path(dag_file)
        if not source.is_absolute():
            source = DAGS_DIR / source
        shutil.copy(source, self.dags / source.name)
        result = self.run("dags", "test", dag_id, timeout=timeout)
        output = result.stdout + result.stderr
        return self._collect(dag_id, result.returncode, output)

    def _collect(self, dag_id: str, returncode: int, output: str) -> DagRunResult:
        with sqlite3.connect(self.home / "airflow.db") as db:
            run_id, logical_date = db.execute(
                "SELECT run_id, logical_date FROM dag_run WHERE dag_id = ?"
                " ORDER BY id DESC LIMIT 1",
                (dag_id,),
            ).fetchone()
            rows = db.execute(
                "SELECT task_id, state, try_number, map_index FROM task_instance"
                " WHERE dag_id = ? AND run_id = ?",
                (dag_id, run_id),
            ).fetchall()
            xcom_rows = db.execute(
                "SELECT task_id, key, value FROM xcom WHERE dag_id = ? AND run_id = ?",
                (dag_id, run_id),
            ).fetchall()
            history_rows = db.execute(
                "SELECT task_id, state FROM task_instance_history"
                " WHERE dag_id = ? AND run_id = ? ORDER BY try_number",
                (dag_id, run_id),
            ).fetchall()
        mapped: dict[str, dict[int, str]] = {}
        for task_id, state, _, map_index in rows:
            if map_index >= 0:
                mapped.setdefault(task_id, {})[int(map_index)] = str(state)
        history: dict[str, list[str]] = {}
        for task_id, state in history_rows:
            history.setdefault(task_id, []).append(str(state))
        return DagRunResult(
            dag_id=dag_id,
            run_id=run_id,
            returncode=returncode,
            output=output,
            states={task_id: str(state) for task_id, state, _, _ in rows},
            tries={task_id: int(tries) for task_id, _, tries, _ in rows},
            xcoms={(task_id, key): _load(value) for task_id, key, value in xcom_rows},
            history=history,
            mapped_states=mapped,
            logical_date=datetime.fromisoformat(logical_date) if logical_date else None,
        )


def _load(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode()
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value
