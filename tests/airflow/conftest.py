"""Airflow test harness: a private AIRFLOW_HOME, the ``tower`` connection, ``airflow dags test``.

AIRFLOW_HOME and friends are set here, at import time, before anything imports airflow.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_harness import AirflowRunner, conn_json

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="nftower-airflow-test-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(AIRFLOW_HOME / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(AIRFLOW_HOME / "logs"),
        "NFTOWER_RATE_LIMIT_BACKEND": f"sqlite:///{AIRFLOW_HOME / 'ratelimit.db'}",
    }
)
for _name in ("TOWER_ACCESS_TOKEN", "TOWER_API_ENDPOINT", "TOWER_WORKSPACE_ID"):
    os.environ.pop(_name, None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture
def tower_conn(tower_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The emulator, with ``tower_default`` pointing at it (AIRFLOW_CONN_TOWER_DEFAULT)."""
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", conn_json(tower_emulator))
    return tower_emulator


@pytest.fixture(scope="session")
def dag_emulator() -> Iterator[Any]:
    """One emulator for every ``airflow dags test`` run (the subprocesses reach it over HTTP)."""
    from nftower.testing import TowerEmulator

    with TowerEmulator(speed=20.0) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def airflow_runner(dag_emulator: Any) -> AirflowRunner:
    """Runs ``airflow`` commands against the private AIRFLOW_HOME (db migrated once)."""
    runner = AirflowRunner(
        AIRFLOW_HOME, env={"AIRFLOW_CONN_TOWER_DEFAULT": conn_json(dag_emulator)}
    )
    runner.migrate()
    return runner
