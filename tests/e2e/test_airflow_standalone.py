"""End to end: a real Airflow (scheduler, dag-processor, triggerer, API server) runs the nightly
example DAG in deferrable mode against a Tower emulator started here.

The test triggers a manual run without a logical date (Airflow 3 allows it; the example's dated
params must still render), holds the Tower run RUNNING until the REST API shows the task
deferred with a TowerRunTrigger assigned to the triggerer, then lets it succeed. Checked through
the REST API (/api/v2, simple auth manager with all users admin) and the triggerer's own log
file: the runs and tasks succeed, the trigger ran in the triggerer, and the "Tower run" extra
link resolves to the run URL. Everything is torn down (process group kill).
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
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "airflow" / "nightly_launch.py"
DAG_ID = "nightly_rnaseq"
TRIGGER_CLASSPATH = "nftower_airflow.triggers.TowerRunTrigger"
T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(
    what: str, probe: Callable[[], T | None], timeout: float, log: Path, every: float = 2.0
) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = probe()
        except httpx.HTTPError:
            value = None
        if value is not None:
            return value
        time.sleep(every)
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
    with TowerEmulator(speed=1.0) as emulator:
        conn = {
            "conn_type": "tower",
            "host": emulator.url,
            "password": emulator.token,
            "extra": {"workspace": str(emulator.workspace_id)},
        }
        bin_dir = Path(sys.executable).parent
        # nothing of another Airflow setup (e.g. tests/airflow's, in the same session) leaks in
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TOWER_"))}
        env = {
            **inherited,
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


@dataclass
class ManualRun:
    run: dict[str, Any]  # the finished DAG run
    workflow_id: str
    deferred_ti: dict[str, Any]  # the rnaseq task instance as seen while deferred


def _get(api: httpx.Client, path: str) -> Any:
    response = api.get(path)
    response.raise_for_status()
    return response.json()


def _deferred_run(standalone: Standalone) -> tuple[str, str, dict[str, Any]]:
    """Trigger a manual run without a logical date (as Airflow 3 allows: the params must still
    render), hold its Tower run RUNNING until the REST API shows the launch task deferred to
    the triggerer; return the DAG run id, the workflow id and the task instance seen then."""
    from datetime import datetime
    from types import SimpleNamespace

    from nftower_airflow._naming import task_run_names

    api, log, emulator = standalone.api, standalone.log, standalone.emulator
    created = api.post(f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
    created.raise_for_status()
    run_id = created.json()["dag_run_id"]
    ti = SimpleNamespace(dag_id=DAG_ID, task_id="rnaseq", map_index=-1)
    dag_run = SimpleNamespace(run_after=datetime.fromisoformat(created.json()["run_after"]))
    run_name, _ = task_run_names({"ti": ti, "run_id": run_id, "dag_run": dag_run})

    def launched() -> str | None:
        ids = [r.workflow_id for r in emulator.launches if r.json["launch"]["runName"] == run_name]
        return ids[0] if ids else None

    workflow_id = _until("the Tower launch", launched, 300, log, every=0.1)
    emulator.set_status(workflow_id, "RUNNING")  # it would end after 20 s at speed 1
    ti_path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/rnaseq"

    def deferred() -> dict[str, Any] | None:
        ti = _get(api, ti_path)
        ready = ti["state"] == "deferred" and ti["trigger"] and ti["triggerer_job"]
        return dict(ti) if ready else None

    ti = _until("the task to be deferred to the triggerer", deferred, 300, log, every=0.5)
    return run_id, workflow_id, ti


def _finished(standalone: Standalone, run_id: str) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        run = _get(standalone.api, f"/dags/{DAG_ID}/dagRuns/{run_id}")
        return run if run["state"] in ("success", "failed") else None

    return _until("the DAG run to finish", finished, 300, standalone.log)


@pytest.fixture(scope="module")
def manual_run(standalone: Standalone) -> ManualRun:
    api = standalone.api
    _until(
        "the DAG to be parsed",
        lambda: api.get(f"/dags/{DAG_ID}").status_code == 200 or None,
        240,
        standalone.log,
    )
    api.patch(f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
    run_id, workflow_id, deferred_ti = _deferred_run(standalone)
    standalone.emulator.set_status(workflow_id, "SUCCEEDED")
    run = _finished(standalone, run_id)
    return ManualRun(run=run, workflow_id=workflow_id, deferred_ti=deferred_ti)


def _ti(standalone: Standalone, run_id: str, task_id: str) -> dict[str, Any]:
    path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}"
    return dict(_get(standalone.api, path))


def test_dag_run_succeeds(standalone: Standalone, manual_run: ManualRun) -> None:
    assert manual_run.run["state"] == "success", standalone.log.read_text()[-6000:]
    assert manual_run.run["logical_date"] is None
    run_id = manual_run.run["dag_run_id"]
    for task_id in ("samplesheet", "rnaseq", "publish"):
        assert _ti(standalone, run_id, task_id)["state"] == "success"
    # unpausing may also start the latest scheduled run: still one Tower run per DAG run
    names = [r.json["launch"]["runName"] for r in standalone.emulator.launches]
    assert len(names) == len(set(names))


def test_dated_params_use_the_trigger_day_without_a_logical_date(
    standalone: Standalone, manual_run: ManualRun
) -> None:
    day = manual_run.run["run_after"][:10]
    run_id = manual_run.run["dag_run_id"]
    sheet = _ti(standalone, run_id, "samplesheet")["rendered_fields"]
    assert sheet["file_name"] == f"samplesheet-{day}.csv"
    rendered = _ti(standalone, run_id, "rnaseq")["rendered_fields"]
    url = rendered["pipeline_params"]["input"]  # the uploaded version's URL
    assert url.endswith(f"/n/samplesheet-{day}.csv")
    assert rendered["pipeline_params"]["outdir"] == f"s3://demo-bucket/results/{day}"
    params = standalone.emulator.workflow(manual_run.workflow_id)["params"]
    assert params["input"] == url


def test_the_trigger_ran_in_the_triggerer(standalone: Standalone, manual_run: ManualRun) -> None:
    """Seen through the REST API while deferred, and in the triggerer's own log file."""
    ti = manual_run.deferred_ti
    assert ti["trigger"]["classpath"] == TRIGGER_CLASSPATH
    job = ti["triggerer_job"]
    assert job["job_type"] == "TriggererJob"
    triggerers = _get(standalone.api, "/jobs?job_type=TriggererJob")["jobs"]
    assert job["id"] in {j["id"] for j in triggerers}
    # the triggerer writes what a trigger logs to <task log>.trigger.<triggerer job id>.log
    # (its supervisor process writes it, possibly a moment after the event fired)
    folder = (
        standalone.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={manual_run.run['dag_run_id']}"
    )
    last = f"Run {manual_run.workflow_id} is SUCCEEDED"

    def trigger_log() -> Path | None:
        for path in folder.glob(f"task_id=rnaseq/*.trigger.{job['id']}.log"):
            lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            ours = [e["event"] for e in lines if e.get("logger") == TRIGGER_CLASSPATH]
            if ours and ours[-1].startswith(last):
                return path
        return None

    found = _until(
        f"{last!r} in the triggerer's log under {folder}", trigger_log, 60, standalone.log
    )
    assert standalone.emulator.token not in found.read_text()


def test_task_log_shows_the_deferral_and_no_token(
    standalone: Standalone, manual_run: ManualRun
) -> None:
    run_id = manual_run.run["dag_run_id"]
    ti = _ti(standalone, run_id, "rnaseq")
    response = standalone.api.get(
        f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/rnaseq/logs/{ti['try_number']}",
        params={"full_content": True},
        headers={"Accept": "application/json"},
    )
    response.raise_for_status()
    events = [str(e.get("event")) for e in response.json()["content"] if isinstance(e, dict)]
    assert any(e.startswith("Deferring: the triggerer watches run") for e in events), events
    assert "Trigger fired event" in events
    assert standalone.emulator.token not in json.dumps(response.json())


def test_extra_link_resolves_to_the_run_url(standalone: Standalone, manual_run: ManualRun) -> None:
    base = f"/dags/{DAG_ID}/dagRuns/{manual_run.run['dag_run_id']}/taskInstances/rnaseq"
    links = _get(standalone.api, f"{base}/links")["extra_links"]
    emulator = standalone.emulator
    expected = (
        f"{emulator.url}/orgs/{emulator.org_name}/workspaces/{emulator.workspace_name}"
        f"/watch/{manual_run.workflow_id}"
    )
    assert links["Tower run"] == expected


def test_marking_a_deferred_task_failed_cancels_the_run(
    standalone: Standalone, manual_run: ManualRun
) -> None:
    """Airflow 3.3 calls the trigger's on_kill when a user acts on a deferred task."""
    run_id, workflow_id, _ = _deferred_run(standalone)
    standalone.api.patch(
        f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/rnaseq", json={"new_state": "failed"}
    ).raise_for_status()
    emulator = standalone.emulator
    _until(
        "the Tower run to be cancelled",
        lambda: emulator.workflow(workflow_id)["status"] == "CANCELLED" or None,
        120,
        standalone.log,
        every=0.5,
    )
    cancels = [r for r in emulator.requests if r.path == f"/workflow/{workflow_id}/cancel"]
    assert len(cancels) == 1
    assert _finished(standalone, run_id)["state"] == "failed"
