"""TowerLaunchOperator against the emulator, driven with a minimal task context."""

from __future__ import annotations

import pickle
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred
from airflow_harness import (
    FakeStateStore,
    FakeTaskInstance,
    cancel_requests,
    conn_json,
    make_context,
)
from nftower import AuthenticationError, BadRequestError
from nftower_airflow.exceptions import (
    TowerRunFailedError,
    TowerRunTimeoutError,
    TowerTriggerEventError,
)
from nftower_airflow.links import TowerRunLink
from nftower_airflow.operators import TowerLaunchOperator
from nftower_airflow.triggers import TowerRunTrigger

pytestmark = pytest.mark.timeout(120)


def _op(**kwargs: Any) -> TowerLaunchOperator:
    kwargs.setdefault("task_id", "unit_task")
    kwargs.setdefault("pipeline", "hello")
    kwargs.setdefault("poll_interval", 0.1)
    return TowerLaunchOperator(**kwargs)


def _launch_bodies(emulator: Any) -> list[dict[str, Any]]:
    return [r.json["launch"] for r in emulator.launches]


def _deferred(emulator: Any, outcome: str) -> tuple[Any, str]:
    """Launch through a deferrable operator; return the task context and the workflow id."""
    context = make_context()
    with pytest.raises(TaskDeferred):
        _op(deferrable=True, pipeline_params={"emulator_outcome": outcome}).execute(context)
    return context, context["ti"].xcoms["workflow_id"]


def test_worker_mode_success_pushes_xcom_and_returns_the_id(
    tower_conn: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    context = make_context()
    workflow_id = _op().execute(context)
    ti = context["ti"]
    assert ti.xcoms["workflow_id"] == workflow_id
    assert ti.xcoms["run_url"].endswith(f"/watch/{workflow_id}")
    (launch_line,) = [line for line in capsys.readouterr().out.splitlines() if "launched" in line]
    assert ti.xcoms["run_url"] in launch_line  # the run URL is logged at launch
    assert context["task_state_store"].get("tower_workflow_id") == workflow_id
    assert tower_conn.workflow(workflow_id)["status"] == "SUCCEEDED"
    (body,) = _launch_bodies(tower_conn)
    # short and readable: DAG, logical date, task and a hash of the DAG run id
    assert re.fullmatch(r"unit_dag-2024-06-01-unit_task-[0-9a-f]{8}", body["runName"])


def test_a_run_named_by_the_former_scheme_is_reattached(tower_conn: Any) -> None:
    """A run started before the naming change (still in flight) is not launched twice."""
    from nftower import TowerClient, make_run_name

    ti = FakeTaskInstance(try_number=2)  # the first try ran an earlier release
    former = make_run_name(ti.dag_id, ti.run_id, ti.task_id)
    with TowerClient(tower_conn.url, tower_conn.token, tower_conn.workspace_id) as client:
        old_id = client.launch("hello", run_name=former)
    context = make_context(ti)
    assert _op().execute(context) == old_id
    assert [b["runName"] for b in _launch_bodies(tower_conn)] == [former]


def test_a_first_try_launches_in_three_calls_with_an_org_workspace(
    tower_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the host knows the workspace and the pipeline: the run-name search, the saved
    launch and the launch. No search under the former name (a first try cannot have started
    one) and no describe: the link comes from the `org/workspace` name."""
    from nftower import TowerClient

    workspace = f"{tower_emulator.org_name}/{tower_emulator.workspace_name}"
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", conn_json(tower_emulator, workspace=workspace))
    _op(task_id="warm_up", wait_for_completion=False).execute(make_context())
    before = len(tower_emulator.requests)
    context = make_context(FakeTaskInstance(task_id="counted"))
    workflow_id = _op(task_id="counted", wait_for_completion=False).execute(context)
    calls = [re.sub(r"/\d+", "/{id}", r.operation) for r in tower_emulator.requests[before:]]
    assert calls == ["GET /workflow", "GET /pipelines/{id}/launch", "POST /workflow/launch"]
    with TowerClient(tower_emulator.url, tower_emulator.token, workspace) as client:
        described = client.run_url(client.get_workflow(workflow_id))
    assert context["ti"].xcoms["run_url"] == described  # the same link a describe gives


def test_extra_link_is_the_run_url_and_empty_without_a_run(tower_conn: Any) -> None:
    """Airflow 3 computes the link in the worker, from the task that has just run."""
    op = _op(wait_for_completion=False)
    context = make_context()
    op.execute(context)
    assert TowerRunLink().get_link(op, ti_key=None) == context["ti"].xcoms["run_url"]
    rejected = _op(pipeline_params={"emulator_outcome": "explode"})
    with pytest.raises(BadRequestError):
        rejected.execute(make_context(FakeTaskInstance(task_id="rejected")))
    assert TowerRunLink().get_link(rejected, ti_key=None) == ""


def test_a_retry_reattaches_instead_of_launching_again(tower_conn: Any) -> None:
    """A crashed first try left nothing in task_state_store: the run name finds the run."""
    first = _op(wait_for_completion=False).execute(make_context())
    retry = make_context(FakeTaskInstance(try_number=2), store=FakeStateStore())
    assert _op().execute(retry) == first
    assert len(tower_conn.launches) == 1


def test_stored_id_reconnects_without_lookup(tower_conn: Any) -> None:
    store = FakeStateStore()
    first = _op(wait_for_completion=False).execute(make_context(store=store))
    store.set("tower_workflow_id", first)
    assert _op().execute(make_context(FakeTaskInstance(try_number=2), store=store)) == first
    assert len(tower_conn.launches) == 1


def test_failed_run_names_everything_and_logs_the_tail(
    tower_conn: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    context = make_context()
    with pytest.raises(TowerRunFailedError) as info:
        _op(pipeline_params={"emulator_outcome": "fail"}).execute(context)
    err = info.value
    text = str(err)
    assert err.status == "FAILED"
    assert "FAILED" in text
    assert err.run_url
    assert err.run_url in text
    assert err.error_message
    assert err.error_message in text
    assert "exit status 1" in text
    assert err.failed_tasks
    task = err.failed_tasks[0]
    assert task.name in text
    assert f"exit {task.exit_code}" in text
    assert f"workdir {task.workdir}" in text
    task_log = capsys.readouterr().out
    assert "Nextflow log" in task_log
    assert context["ti"].xcoms["workflow_id"] == err.workflow_id  # pushed before waiting
    assert tower_conn.token not in task_log + text
    copy = pickle.loads(pickle.dumps(err))  # crosses process boundaries intact
    assert (copy.status, copy.run_url, str(copy)) == (err.status, err.run_url, text)


def test_retry_of_a_failed_run_resumes_it(tower_conn: Any) -> None:
    op = _op(pipeline_params={"emulator_outcome": "fail_once"})
    with pytest.raises(TowerRunFailedError):
        op.execute(make_context())
    retry = make_context(FakeTaskInstance(try_number=2))
    _op(pipeline_params={"emulator_outcome": "fail_once"}).execute(retry)
    first, second = _launch_bodies(tower_conn)
    assert second.get("resume") is True
    assert second["sessionId"] == tower_conn.workflow(retry["ti"].xcoms["workflow_id"])["sessionId"]
    assert not first.get("resume")


def test_a_new_dag_run_never_resumes(tower_conn: Any) -> None:
    with pytest.raises(TowerRunFailedError):
        _op(pipeline_params={"emulator_outcome": "fail"}).execute(make_context())
    other_run = FakeTaskInstance(run_id="scheduled__2024-06-02T00:00:00+00:00", try_number=1)
    with pytest.raises(TowerRunFailedError):
        _op(pipeline_params={"emulator_outcome": "fail"}).execute(make_context(other_run))
    assert [bool(b.get("resume")) for b in _launch_bodies(tower_conn)] == [False, False]


def test_resume_on_retry_false_launches_fresh(tower_conn: Any) -> None:
    with pytest.raises(TowerRunFailedError):
        _op(pipeline_params={"emulator_outcome": "fail"}).execute(make_context())
    retry = make_context(FakeTaskInstance(try_number=2))
    with pytest.raises(TowerRunFailedError):
        _op(pipeline_params={"emulator_outcome": "fail"}, resume_on_retry=False).execute(retry)
    first, second = _launch_bodies(tower_conn)
    assert not second.get("resume")
    assert second["runName"] != first["runName"]


def test_worker_timeout_cancels_the_run(tower_conn: Any) -> None:
    context = make_context()
    with pytest.raises(TowerRunTimeoutError):
        _op(pipeline_params={"emulator_outcome": "hang"}, timeout=0.5).execute(context)
    workflow_id = context["ti"].xcoms["workflow_id"]
    assert tower_conn.workflow(workflow_id)["status"] == "CANCELLED"


def test_unknown_for_too_long_fails_the_task(
    tower_conn: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    context = make_context()
    op = _op(pipeline_params={"emulator_outcome": "unknown"}, unknown_timeout=0.5)
    with pytest.raises(TowerRunFailedError) as info:
        op.execute(context)
    err = info.value
    assert err.status == "UNKNOWN"
    assert "unknown_timeout=0.5" in str(err)
    assert err.run_url
    assert err.run_url in str(err)
    assert "Nextflow log" in capsys.readouterr().out
    assert tower_conn.workflow(context["ti"].xcoms["workflow_id"])["status"] == "UNKNOWN"


def test_on_kill_cancels_the_run(tower_conn: Any) -> None:
    op = _op(pipeline_params={"emulator_outcome": "hang"}, wait_for_completion=False)
    workflow_id = op.execute(make_context())
    op.on_kill()
    assert tower_conn.workflow(workflow_id)["status"] == "CANCELLED"
    assert len(cancel_requests(tower_conn)) == 1


def test_on_kill_is_bounded_and_never_raises(
    tower_conn: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from nftower_airflow._runs import CANCEL_RETRIES

    op = _op(pipeline_params={"emulator_outcome": "hang"}, wait_for_completion=False)
    workflow_id = op.execute(make_context())
    tower_conn.inject("status", method="POST", path=r"/cancel$", status=503, times=None)
    op.on_kill()
    assert len(cancel_requests(tower_conn)) == 1 + CANCEL_RETRIES
    assert tower_conn.workflow(workflow_id)["status"] == "RUNNING"
    (warning,) = [line for line in capsys.readouterr().out.splitlines() if "Could not" in line]
    assert "503 POST" in warning
    assert "Error ID" in warning


def test_on_kill_without_a_run_or_with_cancel_on_kill_false_calls_nothing(
    tower_conn: Any,
) -> None:
    _op().on_kill()  # killed before the launch
    op = _op(pipeline_params={"emulator_outcome": "hang"}, wait_for_completion=False)
    op.cancel_on_kill = False
    op.execute(make_context())
    op.on_kill()
    assert not cancel_requests(tower_conn)


def test_user_run_name_and_launch_fields_reach_tower(tower_conn: Any) -> None:
    _op(
        run_name="nightly-2024-06-01",
        revision="main",
        config_profiles=["test"],
        pipeline_params={"outdir": "s3://bucket/out"},
        wait_for_completion=False,
    ).execute(make_context())
    (body,) = _launch_bodies(tower_conn)
    assert body["runName"] == "nightly-2024-06-01"
    assert body["revision"] == "main"
    assert body["configProfiles"] == ["test"]
    assert "s3://bucket/out" in body["paramsText"]


def test_deferrable_defers_with_deadlines_and_no_defer_timeout(tower_conn: Any) -> None:
    op = _op(
        pipeline_params={"emulator_outcome": "hang"},
        deferrable=True,
        timeout=timedelta(hours=1),
        execution_timeout=timedelta(hours=2),
    )
    context = make_context()
    with pytest.raises(TaskDeferred) as info:
        op.execute(context)
    deferred = info.value
    trigger = deferred.trigger
    assert isinstance(trigger, TowerRunTrigger)
    assert deferred.timeout is None
    assert deferred.method_name == "execute_complete"
    assert trigger.workflow_id == context["ti"].xcoms["workflow_id"]
    assert trigger.cancel_on_kill is True
    assert trigger.end_time is not None
    assert trigger.end_time - time.time() > 3000
    assert trigger.execution_deadline is not None
    assert trigger.execution_deadline > trigger.end_time


def test_deferrable_never_defers_a_finished_run(tower_conn: Any) -> None:
    workflow_id = _op().execute(make_context())  # finished
    again = make_context(FakeTaskInstance(try_number=2))
    assert _op(deferrable=True).execute(again) == workflow_id
    assert len(tower_conn.launches) == 1


def test_execute_complete_validates_events(tower_conn: Any) -> None:
    op = _op(deferrable=True)
    with pytest.raises(TowerTriggerEventError, match="No event"):
        op.execute_complete(make_context(), None)
    with pytest.raises(TowerTriggerEventError, match="Unexpected event"):
        op.execute_complete(make_context(), {"status": "weird", "workflow_id": "x"})
    assert op.execute_complete(make_context(), {"status": "success", "workflow_id": "x"}) == "x"
    with pytest.raises(TowerTriggerEventError, match="403 GET"):
        op.execute_complete(
            make_context(), {"status": "error", "workflow_id": "x", "message": "403 GET /x: no"}
        )


async def test_trigger_error_reaches_the_task_with_status_operation_and_error_id(
    tower_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", conn_json(tower_conn, max_retries=0))
    context = make_context()
    with pytest.raises(TaskDeferred) as info:
        _op(deferrable=True, pipeline_params={"emulator_outcome": "hang"}).execute(context)
    tower_conn.inject("status", method="GET", path=r"^/workflow", status=502, times=None)
    (event,) = [event.payload async for event in info.value.trigger.run()]
    tower_conn.clear_faults()
    with pytest.raises(TowerTriggerEventError) as failed:
        _op(deferrable=True).execute_complete(context, event)
    text = str(failed.value)
    assert re.search(r"502 GET /workflow\S*: .+ \(Error ID: \w+\)", text), text
    assert context["ti"].xcoms["run_url"] in text
    assert tower_conn.token not in text


def test_execute_complete_failed_event_raises_the_report(tower_conn: Any) -> None:
    context, workflow_id = _deferred(tower_conn, "fail")
    while tower_conn.workflow(workflow_id)["status"] != "FAILED":
        time.sleep(0.1)
    with pytest.raises(TowerRunFailedError) as info:
        _op(deferrable=True).execute_complete(
            context, {"status": "failed", "workflow_id": workflow_id, "workflow_status": "FAILED"}
        )
    assert info.value.run_url in str(info.value)


def test_execute_complete_unknown_event_names_the_reason(tower_conn: Any) -> None:
    context, workflow_id = _deferred(tower_conn, "unknown")
    while tower_conn.workflow(workflow_id)["status"] != "UNKNOWN":
        time.sleep(0.1)
    event = {
        "status": "failed",
        "workflow_id": workflow_id,
        "workflow_status": "UNKNOWN",
        "message": "The run stayed UNKNOWN for more than 3600 s.",
    }
    with pytest.raises(TowerRunFailedError, match="stayed UNKNOWN") as info:
        _op(deferrable=True).execute_complete(context, event)
    assert info.value.status == "UNKNOWN"


def test_execute_complete_timeout_cancels(tower_conn: Any) -> None:
    context, workflow_id = _deferred(tower_conn, "hang")
    event = {"status": "timeout", "workflow_id": workflow_id, "reason": "execution_timeout"}
    with pytest.raises(TowerRunTimeoutError, match="execution_timeout"):
        _op(deferrable=True).execute_complete(context, event)
    assert tower_conn.workflow(workflow_id)["status"] == "CANCELLED"


def test_api_errors_show_status_operation_message_and_error_id(tower_conn: Any) -> None:
    with pytest.raises(BadRequestError) as bad:  # Tower rejects the parameters
        _op(pipeline_params={"emulator_outcome": "explode"}).execute(make_context())
    tower_conn.inject("status", method="POST", path=r"^/workflow/launch$", status=403)
    with pytest.raises(AuthenticationError) as denied:
        _op().execute(make_context(FakeTaskInstance(task_id="other")))
    for err, status in ((bad.value, "400"), (denied.value, "403")):
        text = str(err)
        assert text.startswith(f"{status} POST /workflow/launch: ")
        assert err.message
        assert err.message in text
        if status == "400":  # Tower's validation errors carry no Error ID
            assert err.error_id is None
            assert "Error ID" not in text
        else:  # the injected 403 carries one
            assert err.error_id
            assert f"(Error ID: {err.error_id})" in text
        assert tower_conn.token not in text + repr(err)
    posts = [r for r in tower_conn.requests if (r.method, r.path) == ("POST", "/workflow/launch")]
    assert len(posts) == 2  # a rejected launch is not retried


def test_bad_input_fails_before_any_call() -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        _op(poll_interval=0)
    with pytest.raises(ValueError, match="pipeline"):
        _op(pipeline="")


@pytest.mark.tower_emulator(speed=8)
def test_worker_wait_logs_progress_and_a_success_line(
    tower_conn: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """One line per change of the task counts, then the duration and the counts at the end."""
    workflow_id = _op(pipeline="rnaseq", poll_interval=0.2).execute(make_context())
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if f"Run {workflow_id}" in line]
    assert any(" progress: " in line for line in lines), lines
    assert len(lines) == len(set(lines))  # never the same line twice
    (done,) = [line for line in out.splitlines() if f"Tower run {workflow_id} succeeded" in line]
    counts = "6 succeeded, 0 running, 0 failed of 6 tasks"
    assert re.search(rf"succeeded in (\d+m )?\d+s: {counts}", done)


def test_deferred_success_logs_the_duration_and_counts(
    tower_conn: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    context, workflow_id = _deferred(tower_conn, "succeed")
    from nftower import TowerClient

    with TowerClient(tower_conn.url, tower_conn.token, tower_conn.workspace_id) as client:
        client.wait(workflow_id, poll_interval=0.1)
    event = {"status": "success", "workflow_id": workflow_id, "workflow_status": "SUCCEEDED"}
    op = _op(deferrable=True)
    op.workflow_id = workflow_id
    assert op.execute_complete(context, event) == workflow_id
    assert re.search(
        rf"Tower run {workflow_id} succeeded in \d+s: 3 succeeded, 0 running, 0 failed of 3 tasks",
        capsys.readouterr().out,
    )
