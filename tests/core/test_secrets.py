"""The token appears nowhere the core emits: logs (DEBUG, httpx and httpcore included),
exception text and tracebacks, ``repr()``, results, through a launch, a wait, a failure, a
retried fault and API errors, with both clients."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from nftower import TowerConfig, TowerError
from nftower.testing import TowerEmulator

LOGGERS = ("", "nftower", "httpx", "httpcore")


def _every_form(error: BaseException) -> str:
    """Everything an exception can show: str, repr, the traceback with its chain, its args
    and the attributes it carries."""
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    parts += [repr(arg) for arg in error.args]
    parts += [repr(value) for value in vars(error).values()]
    return "\n".join(parts)


def test_the_token_never_leaks_from_the_core(
    tower_emulator: TowerEmulator,
    make_client: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    fast_sleep: list[float],
) -> None:
    token = tower_emulator.token
    emitted: list[str] = []
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)

    tower = make_client(tower_emulator.url, token, tower_emulator.workspace_id, max_retries=2)
    emitted.append(repr(tower))
    emitted.append(repr(tower.config))
    emitted.append(str(tower.config))

    # a launch, retried through a 429 and a connection cut before the server saw it
    tower_emulator.inject("rate_limit", method="POST", path="/workflow/launch", retry_after=0.1)
    tower_emulator.inject("drop_before", method="GET", path=r"^/workflow$")
    handle = tower.ensure_run("hello", run_name="secrets-probe")
    emitted.append(repr(handle))
    # a wait, and a run that fails (its failure report read too)
    failed = tower.launch("hello", params={"emulator_outcome": "fail"})
    workflow = tower.wait(failed, poll_interval=0.05)
    emitted.append(repr(workflow))
    emitted.append(workflow.model_dump_json())
    report = tower.failure_report(workflow)
    emitted.append(repr(report))
    emitted.append(report.summary())
    emitted.append(_every_form(report.to_error()))
    emitted.append(repr(tower.wait(handle.workflow_id, poll_interval=0.05)))

    # API errors: a 404 with an Error ID, a 400, a wrong token, a dead server
    failures: list[Callable[[], Any]] = [
        lambda: tower.get_workflow("0000000000000"),
        lambda: tower.launch("hello", computeEnvId="no-such-ce"),
        lambda: make_client(tower_emulator.url, token + "-expired", 1).user_info(),
        lambda: make_client("http://127.0.0.1:9", token, max_retries=1).service_info(),
    ]
    tower_emulator.inject("status", path=r"^/workflow/0000000000000$", status=404)
    for failure in failures:
        with pytest.raises(TowerError) as caught:
            failure()
        emitted.append(_every_form(caught.value))

    # a config refused for a token that cannot work: it is not echoed either
    with pytest.raises(TowerError) as refused:
        TowerConfig(token=token[:20] + "\n" + token[20:])
    emitted.append(_every_form(refused.value))

    emitted += [record.getMessage() for record in caplog.records]
    emitted += [caplog.text]
    text = "\n".join(emitted)
    assert "HTTP Request: POST" in text  # httpx's own DEBUG/INFO lines were captured
    assert "send_request_headers" in text  # and httpcore's
    assert "Error ID" in text
    for secret in (token, token[:12], token[-12:], token[:20]):
        assert secret not in text
    assert len(tower_emulator.launches) == 2  # ensure_run once, the failing run once


def test_a_failure_report_never_repeats_the_token_a_run_printed(
    make_client: Callable[..., Any],
) -> None:
    # a canned answer: a pipeline that prints its environment shows the token in its log
    token = "eyJ0aWQiOiA0Mn0.c2VjcmV0LXZhbHVlLTAxMjM0"
    printed = f"TOWER_ACCESS_TOKEN={token}"
    answers = {
        "/workflow/w1": {"workflow": {"id": "w1", "status": "FAILED", "errorMessage": printed}},
        "/workflow/w1/tasks": {"tasks": [], "total": 0},
        "/workflow/w1/log": {"log": {"entries": ["env:", printed], "truncated": False}},
    }

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers[request.url.path])

    transport = httpx.MockTransport(answer)
    tower = make_client("https://tower.example.org", token, 7, transport=transport)
    report = tower.failure_report("w1")
    text = report.summary() + repr(report) + _every_form(report.to_error())
    assert "TOWER_ACCESS_TOKEN=***" in text
    assert token not in text


def test_a_stderr_tail_cut_inside_the_token_keeps_no_piece_of_it(
    make_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the tail of a task's .command.err starts 10 characters into the token it printed
    token = "eyJ0aWQiOiA0Mn0.c2VjcmV0LXZhbHVlLTAxMjM0"
    end = f"{token[10:]}\nERROR: command exited with status 1\n"
    stderr = f"printenv\nTOWER_ACCESS_TOKEN={token}\nERROR: command exited with status 1\n"
    monkeypatch.setattr("nftower._run_files.STDERR_TAIL_BYTES", len(end))
    failed = {"taskId": 1, "status": "FAILED", "process": "ECHO", "exitStatus": 1}
    answers = {
        "/workflow/w1": {"workflow": {"id": "w1", "status": "FAILED"}},
        "/workflow/w1/tasks": {"tasks": [{"task": failed}], "total": 1},
        "/workflow/w1/log": {"log": {"entries": [], "truncated": False}},
    }

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/workflow/w1/download/1":
            return httpx.Response(200, content=stderr.encode())
        return httpx.Response(200, json=answers[request.url.path])

    tower = make_client(
        "https://tower.example.org", token, 7, transport=httpx.MockTransport(answer)
    )
    report = tower.failure_report("w1")
    (tail,) = report.task_stderr.values()
    assert tail.startswith("...")
    assert "ERROR: command exited with status 1" in tail
    text = report.summary() + repr(report) + _every_form(report.to_error())
    assert token[-12:] not in text
