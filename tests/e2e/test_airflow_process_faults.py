"""End to end, process faults under a real Airflow (tests/e2e/conftest.py): a worker's task
process SIGKILLed while it waits for the run, and the triggerer SIGKILLed while the task is
deferred. Each ends with the one run it launched, followed to SUCCEEDED (the emulator's
launch count is the judge)."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest
from standalone_harness import Standalone, get, group_members, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _start_run(standalone: Standalone, dag_id: str) -> str:
    """Unpause ``dag_id`` once parsed and trigger a manual run; its run id."""
    api = standalone.api
    until(
        f"{dag_id} to be parsed",
        lambda: api.get(f"/dags/{dag_id}").status_code == 200 or None,
        240,
        standalone.log,
    )
    api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
    created = api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
    created.raise_for_status()
    return str(created.json()["dag_run_id"])


def _launches(standalone: Standalone, dag_id: str) -> list[Any]:
    return [
        r for r in standalone.emulator.launches if r.json["launch"]["runName"].startswith(dag_id)
    ]


def _ti(standalone: Standalone, dag_id: str, run_id: str) -> dict[str, Any]:
    return dict(get(standalone.api, f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/launch"))


def _polled_since(standalone: Standalone, workflow_id: str, since: float) -> bool | None:
    seen = any(
        r.path == f"/workflow/{workflow_id}" and r.status == 200 and r.time > since
        for r in standalone.emulator.requests
    )
    return seen or None


def _finished(standalone: Standalone, dag_id: str, run_id: str) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        run = get(standalone.api, f"/dags/{dag_id}/dagRuns/{run_id}")
        return dict(run) if run["state"] in ("success", "failed") else None

    return until("the DAG run to finish", finished, 300, standalone.log)


def _log_events(standalone: Standalone, dag_id: str, run_id: str, try_number: int) -> list[str]:
    response = standalone.api.get(
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/launch/logs/{try_number}",
        params={"full_content": True},
        headers={"Accept": "application/json"},
    )
    response.raise_for_status()
    return [str(e.get("event")) for e in response.json()["content"] if isinstance(e, dict)]


def test_a_worker_sigkilled_while_waiting_is_retried_and_reattaches(
    standalone: Standalone,
) -> None:
    dag_id, emulator, log = "faults_worker_killed", standalone.emulator, standalone.log
    run_id = _start_run(standalone, dag_id)
    launch = until(
        "the launch", lambda: (_launches(standalone, dag_id) or [None])[0], 300, log, 0.2
    )
    until(
        "the wait",
        lambda: _polled_since(standalone, launch.workflow_id, launch.time),
        120,
        log,
        0.2,
    )
    ti = _ti(standalone, dag_id, run_id)
    assert (ti["state"], ti["try_number"]) == ("running", 1)
    os.kill(int(ti["pid"]), signal.SIGKILL)  # the task process: no finally, no on_kill
    killed_at = time.time()

    def retried() -> dict[str, Any] | None:
        now = _ti(standalone, dag_id, run_id)
        return now if now["try_number"] == 2 and now["state"] == "running" else None

    until("try 2 to run", retried, 300, log, 0.5)
    until(
        "try 2 to watch the run",
        lambda: _polled_since(standalone, launch.workflow_id, killed_at),
        120,
        log,
        0.2,
    )
    emulator.set_status(launch.workflow_id, "SUCCEEDED")
    assert _finished(standalone, dag_id, run_id)["state"] == "success"
    assert len(_launches(standalone, dag_id)) == 1
    assert not [r for r in emulator.requests if r.path == f"/workflow/{launch.workflow_id}/cancel"]
    events = _log_events(standalone, dag_id, run_id, 2)
    assert any("reattached" in event for event in events), events


def test_the_triggerer_sigkilled_while_deferred_is_replaced_and_the_trigger_resumes(
    standalone: Standalone,
) -> None:
    dag_id, emulator, log = "faults_triggerer_killed", standalone.emulator, standalone.log
    run_id = _start_run(standalone, dag_id)
    launch = until(
        "the launch", lambda: (_launches(standalone, dag_id) or [None])[0], 300, log, 0.2
    )

    def deferred() -> dict[str, Any] | None:
        ti = _ti(standalone, dag_id, run_id)
        return ti if ti["state"] == "deferred" and ti["triggerer_job"] else None

    first = until("the task to be deferred to the triggerer", deferred, 300, log, 0.5)
    triggerers = [
        pid for pgid in {standalone.pgid} for pid in group_members(pgid, "airflow", "triggerer")
    ]
    triggerers += [
        pid
        for proc in standalone.restarted
        for pid in group_members(proc.pid, "airflow", "triggerer")
    ]
    assert triggerers, "no triggerer process found"
    for pid in triggerers:
        os.kill(pid, signal.SIGKILL)
    killed_at = time.time()
    standalone.restart("triggerer")

    def moved() -> dict[str, Any] | None:
        ti = _ti(standalone, dag_id, run_id)
        job = ti.get("triggerer_job") or {}
        return (
            ti
            if ti["state"] == "deferred" and job.get("id") != first["triggerer_job"]["id"]
            else None
        )

    again = until("the trigger to move to the new triggerer", moved, 300, log, 0.5)
    until(
        "the new triggerer to watch the run",
        lambda: _polled_since(standalone, launch.workflow_id, killed_at),
        120,
        log,
        0.2,
    )
    assert emulator.workflow(launch.workflow_id)["status"] == "RUNNING"  # nothing cancelled it
    emulator.set_status(launch.workflow_id, "SUCCEEDED")
    assert _finished(standalone, dag_id, run_id)["state"] == "success"
    assert again["try_number"] == 1  # resumed, not run again
    assert len(_launches(standalone, dag_id)) == 1
    assert not [r for r in emulator.requests if r.path == f"/workflow/{launch.workflow_id}/cancel"]
