"""The token appears nowhere the Airflow provider emits: task logs (DEBUG, httpx and httpcore
on), XCom, rendered templates, the serialized trigger and its events, exception text and
tracebacks, ``repr()``, through a launch and wait, a deferred wait, a failure and API errors.

In process (a minimal task context, the trigger run on the test's loop) to stay fast; the
``airflow dags test`` runs of test_dags.py check the same for real task logs and the database.
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred
from airflow_harness import FakeTaskInstance, conn_json, make_context
from nftower import TowerError
from nftower_airflow.hooks import TowerHook
from nftower_airflow.operators import TowerLaunchOperator

pytestmark = pytest.mark.timeout(180)

LOGGERS = ("", "nftower", "httpx", "httpcore", "airflow.task")


def _every_form(error: BaseException) -> str:
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    parts += [repr(value) for value in vars(error).values()]
    return "\n".join(parts)


def _op(task_id: str, **kwargs: Any) -> TowerLaunchOperator:
    return TowerLaunchOperator(task_id=task_id, pipeline="hello", poll_interval=0.1, **kwargs)


async def test_the_token_never_leaks_from_the_provider(
    tower_conn: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = tower_conn.token
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", conn_json(tower_conn, max_retries=1))
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    emitted: list[str] = []

    # a launch waited for in the worker, with templated params rendered first
    context = make_context()
    op = _op("worker", pipeline_params={"day": "{{ ds }}", "outdir": "s3://out/{{ run_id }}"})
    op.render_template_fields({**context, "ds": "2024-06-01"})
    emitted.append(repr(op.pipeline_params))
    emitted.append(repr(op.execute(context)))
    emitted.append(json.dumps(context["ti"].xcoms, default=repr))
    hook = TowerHook()
    emitted += [repr(hook), repr(hook.config), repr(op), repr(hook.test_connection())]

    # a deferred wait: the serialized trigger (stored in the database) and its event
    deferred_context = make_context(FakeTaskInstance(task_id="deferred"))
    with pytest.raises(TaskDeferred) as deferral:
        _op("deferred", deferrable=True).execute(deferred_context)
    trigger = deferral.value.trigger
    emitted.append(json.dumps(trigger.serialize(), default=repr))
    events = [event.payload async for event in trigger.run()]
    emitted.append(json.dumps(events, default=repr))
    emitted.append(
        repr(_op("deferred", deferrable=True).execute_complete(deferred_context, events[0]))
    )
    emitted.append(json.dumps(deferred_context["ti"].xcoms, default=repr))

    # a failed run, a 400 from Tower, a 403 for a wrong token, a 502 with an Error ID
    for failing in (
        _op("fails", pipeline_params={"emulator_outcome": "fail"}),
        _op("rejected", pipeline_params={"emulator_outcome": "explode"}),
    ):
        with pytest.raises(Exception) as caught:
            failing.execute(make_context(FakeTaskInstance(task_id=failing.task_id)))
        emitted.append(_every_form(caught.value))
    tower_conn.inject("status", method="GET", path=r"^/workflow/", status=502, times=None)
    with pytest.raises(TowerError) as broken:
        TowerHook().get_conn().get_workflow("0000000000000")
    tower_conn.clear_faults()
    emitted.append(_every_form(broken.value))
    expired = json.loads(conn_json(tower_conn))
    expired["password"] = token + "-expired"
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", json.dumps(expired))
    with pytest.raises(TowerError) as denied:
        _op("denied").execute(make_context(FakeTaskInstance(task_id="denied")))
    emitted.append(_every_form(denied.value))

    captured = capsys.readouterr()
    emitted += [captured.out, captured.err, caplog.text]
    emitted += [record.getMessage() for record in caplog.records]
    text = "\n".join(emitted)
    assert "HTTP Request: POST" in text  # httpx's lines were captured
    assert "Error ID" in text
    assert "s3://out/manual__2024-06-01" in text  # the rendered template is in the text
    for secret in (token, token[:12], token[-12:]):
        assert secret not in text
    assert len(tower_conn.launches) == 3  # worker, deferred and the failing run
