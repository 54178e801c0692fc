"""End to end: a real Airflow (scheduler, dag-processor, triggerer, API server) runs the nightly
example DAG in deferrable mode against a Tower emulator started here.

Checked through the REST API (/api/v2, simple auth manager with all users admin): the DAG run
and its tasks succeed, the launch task was deferred and watched by the triggerer, and the
"Tower run" extra link resolves to the run URL. Everything is torn down (process group kill).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "airflow" / "nightly_launch.py"
DAG_ID = "nightly_rnaseq"
T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(what: str, probe: Callable[[], T | None], timeout: float, log: Path) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = probe()
        except httpx.HTTPError:
            value = None
        if value is not None:
            return value
        time.sleep(2)
    tail = log.read_text(errors="replace")[-6000:] if log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n--- airflow output ---\n{tail}")


@dataclass
class Standalone:
    api: httpx.Client
    home: Path
    log: Path
    emulator: Any


@pytest.fixture(scope="module")
def standalone() -> Iterator[Standalone]:
    from nftower.testing import TowerEmulator

    home = Path(tempfile.mkdtemp(prefix="nftower-e2e-airflow-"))
    (home / "dags").mkdir()
    shutil.copy(EXAMPLE, home / "dags" / EXAMPLE.name)
    port = _free_port()
    log = home / "standalone.log"
    with TowerEmulator(speed=20.0) as emulator:
        conn = {
            "conn_type": "tower",
            "host": emulator.url,
            "password": emulator.token,
            "extra": {"workspace": str(emulator.workspace_id)},
        }
        bin_dir = Path(sys.executable).parent
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW_CONN_TOWER_DEFAULT": json.dumps(conn),
            "NFTOWER_DEMO_POLL_INTERVAL": "1",
            "NFTOWER_RATE_LIMIT_BACKEND": f"sqlite:///{home / 'ratelimit.db'}",
        }
        for name in ("TOWER_ACCESS_TOKEN", "TOWER_API_ENDPOINT", "TOWER_WORKSPACE_ID"):
            env.pop(name, None)
        with log.open("w") as out:
            proc = subprocess.Popen(
                [str(bin_dir / "airflow"), "standalone"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v2", timeout=30)
        try:
            _until(
                "the API server",
                lambda: api.get("/monitor/health").status_code == 200 or None,
                240,
                log,
            )
            yield Standalone(api=api, home=home, log=log, emulator=emulator)
        finally:
            api.close()
            _stop(proc)
            shutil.rmtree(home, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group, then SIGKILL whatever is left of it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _group_alive(proc.pid):
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def finished_run(standalone: Standalone) -> dict[str, Any]:
    api, log = standalone.api, standalone.log
    _until(
        "the DAG to be parsed",
        lambda: api.get(f"/dags/{DAG_ID}").status_code == 200 or None,
        240,
        log,
    )
    api.patch(f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
    # a logical date, as the scheduler gives nightly runs: the DAG's params use {{ ds }}
    now = datetime.now(timezone.utc).isoformat()
    created = api.post(f"/dags/{DAG_ID}/dagRuns", json={"logical_date": now})
    created.raise_for_status()
    run_id = created.json()["dag_run_id"]

    def finished() -> dict[str, Any] | None:
        run = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}").json()
        return run if run["state"] in ("success", "failed") else None

    return _until("the DAG run to finish", finished, 300, log)


def _ti(standalone: Standalone, run_id: str, task_id: str) -> dict[str, Any]:
    response = standalone.api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}")
    response.raise_for_status()
    return dict(response.json())


def test_dag_run_succeeds(standalone: Standalone, finished_run: dict[str, Any]) -> None:
    assert finished_run["state"] == "success", standalone.log.read_text()[-6000:]
    run_id = finished_run["dag_run_id"]
    assert _ti(standalone, run_id, "rnaseq")["state"] == "success"
    assert _ti(standalone, run_id, "publish")["state"] == "success"
    # unpausing also starts the latest scheduled run: still one Tower run per DAG run
    names = [r.json["launch"]["runName"] for r in standalone.emulator.launches]
    assert len(names) == len(set(names))


def test_launch_task_was_deferred_to_the_triggerer(
    standalone: Standalone, finished_run: dict[str, Any]
) -> None:
    run_id = finished_run["dag_run_id"]
    ti = _ti(standalone, run_id, "rnaseq")
    response = standalone.api.get(
        f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/rnaseq/logs/{ti['try_number']}",
        params={"full_content": True},
        headers={"Accept": "application/json"},
    )
    response.raise_for_status()
    entries = [e for e in response.json()["content"] if isinstance(e, dict)]
    events = [str(e.get("event")) for e in entries]
    task_log = json.dumps(response.json())
    assert any(e.startswith("Deferring: the triggerer watches run") for e in events), events
    trigger_lines = [
        e for e in entries if e.get("logger") == "nftower_airflow.triggers.TowerRunTrigger"
    ]
    assert trigger_lines, events  # written by TowerRunTrigger in the triggerer process
    assert "Trigger fired event" in events
    assert standalone.emulator.token not in task_log
    assert "triggerer" in standalone.log.read_text()


def test_extra_link_resolves_to_the_run_url(
    standalone: Standalone, finished_run: dict[str, Any]
) -> None:
    run_id = finished_run["dag_run_id"]
    base = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/rnaseq"
    links = standalone.api.get(f"{base}/links").json()["extra_links"]
    xcom = standalone.api.get(f"{base}/xcomEntries/workflow_id").json()
    workflow_id = xcom["value"]
    workflow_id = workflow_id.strip('"') if isinstance(workflow_id, str) else workflow_id
    emulator = standalone.emulator
    expected = (
        f"{emulator.url}/orgs/{emulator.org_name}/workspaces/{emulator.workspace_name}"
        f"/watch/{workflow_id}"
    )
    assert links["Tower run"] == expected
