"""End to end: a real Airflow (scheduler, dag-processor, triggerer, API server) runs the nightly
example DAG in deferrable mode against a Tower emulator started here.

The test triggers a manual run without a logical date (Airflow 3 allows it; the example's dated
params must still render), holds the Tower run RUNNING until the REST API shows the task
deferred with a TowerRunTrigger assigned to the triggerer, then lets it succeed. Checked through
the REST API (/api/v2, simple auth manager with all users admin) and the triggerer's own log
file: the runs and tasks succeed, the trigger ran in the triggerer, and the "Tower run" extra
link resolves to the run URL. The Airflow is tests/e2e/conftest.py's (standalone_harness.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from standalone_harness import Standalone
from standalone_harness import get as _get
from standalone_harness import until as _until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

DAG_ID = "nightly_rnaseq"
TRIGGER_CLASSPATH = "nftower_airflow.triggers.TowerRunTrigger"


@dataclass
class ManualRun:
    run: dict[str, Any]  # the finished DAG run
    workflow_id: str
    deferred_ti: dict[str, Any]  # the rnaseq task instance as seen while deferred


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
