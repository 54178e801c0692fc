"""TowerRunTrigger against the emulator: serialisation and the one terminal event it sends."""

from __future__ import annotations

import asyncio
import importlib
import itertools
import json
import re
import time
from typing import Any

import pytest
from airflow_harness import cancel_requests, conn_json, launch_run
from nftower_airflow.triggers import TowerRunTrigger

pytestmark = pytest.mark.timeout(120)


async def _events(trigger: TowerRunTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


def _trigger(workflow_id: str, **kwargs: Any) -> TowerRunTrigger:
    kwargs.setdefault("poll_interval", 0.1)
    return TowerRunTrigger(workflow_id=workflow_id, **kwargs)


def test_serialize_round_trip_is_plain_json() -> None:
    trigger = TowerRunTrigger(
        workflow_id="abc",
        tower_conn_id="other",
        workspace="acme/prod",
        poll_interval=5,
        end_time=1_900_000_000.0,
        execution_deadline=1_900_000_100.0,
        target_status="running",
        unknown_timeout=60,
        cancel_on_kill=True,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "nftower_airflow.triggers.TowerRunTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["target_status"] == "RUNNING"


def test_bad_target_status_is_rejected() -> None:
    with pytest.raises(ValueError, match="target_status"):
        TowerRunTrigger(workflow_id="abc", target_status="DONE")


async def test_success_event(tower_conn: Any) -> None:
    workflow_id = launch_run(tower_conn)
    events = await _events(_trigger(workflow_id))
    assert events == [
        {
            "status": "success",
            "workflow_id": workflow_id,
            "workflow_status": "SUCCEEDED",
            "message": "",
            "reason": None,
        }
    ]


async def test_target_running_fires_before_the_end(tower_conn: Any) -> None:
    workflow_id = launch_run(tower_conn, emulator_outcome="hang")
    (event,) = await _events(_trigger(workflow_id, target_status="RUNNING"))
    assert (event["status"], event["workflow_status"]) == ("success", "RUNNING")


@pytest.mark.parametrize(
    ("outcome", "status", "workflow_status"),
    [("fail", "failed", "FAILED"), ("cancel", "cancelled", "CANCELLED")],
)
async def test_failed_and_cancelled_events(
    tower_conn: Any, outcome: str, status: str, workflow_status: str
) -> None:
    workflow_id = launch_run(tower_conn, emulator_outcome=outcome)
    (event,) = await _events(_trigger(workflow_id))
    assert (event["status"], event["workflow_status"]) == (status, workflow_status)


async def test_unknown_too_long_is_failed(tower_conn: Any) -> None:
    workflow_id = launch_run(tower_conn, emulator_outcome="unknown")
    (event,) = await _events(_trigger(workflow_id, unknown_timeout=0.3))
    assert (event["status"], event["workflow_status"]) == ("failed", "UNKNOWN")
    # the core's sentence for it (FollowOutcome.explain), as the client and the worker say it
    assert "has reported status UNKNOWN for" in event["message"]
    assert "(unknown_timeout=0.3 s)" in event["message"]


@pytest.mark.parametrize("field", ["end_time", "execution_deadline"])
async def test_deadlines_send_timeout(tower_conn: Any, field: str) -> None:
    workflow_id = launch_run(tower_conn, emulator_outcome="hang")
    trigger = _trigger(workflow_id, **{field: time.time() + 0.5})
    (event,) = await _events(trigger)
    assert event["status"] == "timeout"
    assert event["reason"] == ("timeout" if field == "end_time" else "execution_timeout")
    assert tower_conn.workflow(workflow_id)["status"] == "RUNNING"  # the operator cancels


async def test_tolerates_a_few_transient_poll_errors(
    tower_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", conn_json(tower_conn, max_retries=0))
    workflow_id = launch_run(tower_conn)
    tower_conn.inject("status", method="GET", path=r"^/workflow", times=3)
    (event,) = await _events(_trigger(workflow_id))
    assert event["status"] == "success"


async def test_gives_up_after_repeated_poll_errors_with_the_error_text(
    tower_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", conn_json(tower_conn, max_retries=0))
    workflow_id = launch_run(tower_conn, emulator_outcome="hang")
    tower_conn.inject("status", method="GET", path=r"^/workflow", times=None)
    (event,) = await _events(_trigger(workflow_id))
    assert event["status"] == "error"
    assert "503" in event["message"]
    assert "Error ID" in event["message"]
    assert tower_conn.token not in json.dumps(event)


async def test_unknown_run_is_an_error_event_at_once(tower_conn: Any) -> None:
    (event,) = await _events(_trigger("doesnotexist123"))
    assert event["status"] == "error"
    # Tower answers 403, as to a bad token; the token was checked good
    assert event["message"].startswith("403 GET /workflow/{workflowId}: Run 'doesnotexist123'")
    assert "unknown or not visible" in event["message"]


async def test_bad_token_is_an_error_event(
    tower_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_TOWER_DEFAULT",
        json.dumps(
            {"conn_type": "tower", "host": tower_conn.url, "password": "wrong-token-xyz-0123"}
        ),
    )
    (event,) = await _events(_trigger("abc"))
    assert event["status"] == "error"
    assert "403" in event["message"]
    assert "wrong-token-xyz-0123" not in event["message"]


async def test_on_kill_cancels_once(tower_conn: Any) -> None:
    workflow_id = launch_run(tower_conn, emulator_outcome="hang")
    trigger = _trigger(workflow_id, cancel_on_kill=True)
    task = asyncio.ensure_future(_events(trigger))
    await asyncio.sleep(0.3)
    await trigger.on_kill()
    await trigger.on_kill()  # idempotent: Airflow may call it again on reassignment
    (event,) = await asyncio.wait_for(task, 30)
    assert event["status"] == "cancelled"
    assert len(cancel_requests(tower_conn)) == 1
    # a second trigger for the same run (reassignment) may be killed too: harmless
    await _trigger(workflow_id, cancel_on_kill=True).on_kill()
    assert tower_conn.workflow(workflow_id)["status"] == "CANCELLED"


async def test_on_kill_is_bounded_and_never_raises(
    tower_conn: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from nftower_airflow._runs import CANCEL_RETRIES

    workflow_id = launch_run(tower_conn, emulator_outcome="hang")
    tower_conn.inject("status", method="POST", path=r"/cancel$", status=503, times=None)
    await _trigger(workflow_id, cancel_on_kill=True).on_kill()
    assert len(cancel_requests(tower_conn)) == 1 + CANCEL_RETRIES
    assert tower_conn.workflow(workflow_id)["status"] == "RUNNING"
    (warning,) = [line for line in capsys.readouterr().out.splitlines() if "Could not" in line]
    assert "503 POST" in warning
    assert "Error ID" in warning


async def test_on_kill_leaves_runs_it_does_not_own(tower_conn: Any) -> None:
    workflow_id = launch_run(tower_conn, emulator_outcome="hang")
    await _trigger(workflow_id, cancel_on_kill=False).on_kill()
    assert not cancel_requests(tower_conn)


async def test_many_triggers_share_one_batched_poller(tower_conn: Any) -> None:
    from nftower import TowerConfig
    from nftower.monitor import WorkflowMonitor

    runs = [launch_run(tower_conn, emulator_duration=60) for _ in range(8)]
    tower_conn.clear_requests()
    events = await asyncio.gather(*(_events(_trigger(run)) for run in runs))
    assert [e[0]["status"] for e in events] == ["success"] * 8
    config = TowerConfig(
        api_url=tower_conn.url, token=tower_conn.token, workspace=tower_conn.workspace_id
    )
    stats = WorkflowMonitor.shared(config).stats()
    assert stats.cycles > 0
    # one poll per run per cycle would cost len(runs) * cycles calls
    assert stats.list_calls + stats.describe_calls < 0.5 * len(runs) * stats.cycles
    assert tower_conn.max_calls_in_window(1.0) <= 20
    assert not [r for r in tower_conn.requests if r.status == 429]


@pytest.mark.parametrize(
    ("kind", "status", "event_status", "reason"),
    [
        ("succeeded", "SUCCEEDED", "success", None),
        ("failed", "FAILED", "failed", None),
        ("cancelled", "CANCELLED", "cancelled", None),
        ("unknown", "UNKNOWN", "failed", None),
        ("deadline", "RUNNING", "timeout", "execution_timeout"),
    ],
)
def test_each_follow_outcome_is_one_event(
    kind: str, status: str, event_status: str, reason: str | None
) -> None:
    """The trigger only translates the core's outcome (the rule is pinned in the core)."""
    from nftower import FollowOutcome, FollowRules, Workflow
    from nftower.status import Ending

    outcome = FollowOutcome(
        Ending(kind), Workflow(id="w", status=status), "w", FollowRules(), waited=1.0
    )
    event = _trigger("w")._outcome_event(outcome, "execution_timeout").payload
    assert (event["status"], event["reason"]) == (event_status, reason)
    assert event["workflow_id"] == "w"
    if event_status != "timeout":
        assert event["workflow_status"] == status


def _progress_lines(output: str, workflow_id: str) -> list[str]:
    return [
        line[line.index(f"Run {workflow_id}") :]
        for line in output.splitlines()
        if f"Run {workflow_id}" in line
    ]


@pytest.mark.tower_emulator(speed=8)
async def test_progress_lines_per_change_of_the_counts(
    tower_conn: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A deferred task's log gets one line per change of the task counts while the run is
    RUNNING (read once per poll), never one per poll without a change."""
    from nftower import TowerClient

    with TowerClient(tower_conn.url, tower_conn.token, tower_conn.workspace_id) as client:
        workflow_id = client.launch("rnaseq")
    (event,) = await _events(_trigger(workflow_id, poll_interval=0.2))
    assert event["status"] == "success"
    lines = _progress_lines(capsys.readouterr().out, workflow_id)
    progress = [line for line in lines if " progress: " in line]
    assert progress, lines
    counts = r"\d+ succeeded, \d+ running, \d+ failed of \d+ tasks"
    assert all(re.fullmatch(rf"Run \w+ progress: {counts} .*", line) for line in progress), lines
    assert all(a != b for a, b in itertools.pairwise(lines)), lines  # no line twice in a row
    assert lines[-1].startswith(f"Run {workflow_id} is SUCCEEDED (6 succeeded")


async def test_progress_lines_can_be_turned_off(
    tower_conn: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from nftower import TowerClient

    with TowerClient(tower_conn.url, tower_conn.token, tower_conn.workspace_id) as client:
        workflow_id = client.launch("rnaseq")
    await _events(_trigger(workflow_id, poll_interval=0.05, log_progress=False))
    assert not [r for r in tower_conn.requests if r.path.endswith("/progress")]
    assert " progress: " not in capsys.readouterr().out
