"""Emulator building blocks without HTTP: run timeline, search, rate window, launch checks."""

from __future__ import annotations

import pytest
from nftower.testing._errors import (
    ApiError,
    error_body,
    internal_error_body,
    iso,
    rate_limited_body,
)
from nftower.testing._launch import (
    RUN_NAME_PATTERN,
    Problems,
    outcome_controls,
    parse_params,
    read_launch_request,
)
from nftower.testing._records import SlidingWindowLimiter, max_calls_in_window
from nftower.testing._runs import SUBMIT_DELAY, Run
from nftower.testing._search import RunFacts, WorkflowQuery
from nftower.testing._seed import task_plan

T0 = 1_700_000_000.0


def make_run(outcome: str = "succeed", *, duration: float = 30.0, **extra: object) -> Run:
    repository = "https://github.com/nextflow-io/hello"
    fields = {
        "id": "wf1",
        "workspace_id": 1,
        "run_name": "demo",
        "session_id": "s-1",
        "launch_id": "l1",
        "launch": {"workDir": "s3://b/work"},
        "repository": repository,
        "project_name": "nextflow-io/hello",
        "revision": "master",
        "commit_id": "a" * 40,
        "params": {},
        "outcome": outcome,
        "duration": duration,
        "speed": 1.0,
        "submitted": T0,
        "tasks": task_plan(repository),
        "owner_id": 1,
        "user_name": "u",
    }
    fields.update(extra)
    return Run(**fields)  # type: ignore[arg-type]


def at(seconds: float) -> float:
    return T0 + seconds


def test_timeline_of_a_successful_run() -> None:
    run = make_run()
    assert run.state(at(0)).status == "SUBMITTED"
    assert run.state(at(0)).tasks == []
    running = run.state(at(SUBMIT_DELAY + 15))
    assert running.status == "RUNNING"
    assert [t.status for t in running.tasks] == ["COMPLETED", "RUNNING"]
    done = run.state(at(SUBMIT_DELAY + 30))
    assert done.status == "SUCCEEDED"
    assert [t.status for t in done.tasks] == ["COMPLETED"] * 3
    assert done.start == at(SUBMIT_DELAY)
    assert done.complete == at(SUBMIT_DELAY + 30)
    assert done.log[-1] == "Succeeded   : 3"
    assert len(done.log) > len(running.log)


def test_speed_scales_the_clock() -> None:
    run = make_run(speed=10.0)
    assert run.state(at(SUBMIT_DELAY / 10 + 3.1)).status == "SUCCEEDED"


@pytest.mark.parametrize(
    ("outcome", "final", "last_task"),
    [
        ("fail", "FAILED", "FAILED"),
        ("fail_once", "FAILED", "FAILED"),
        ("cancel", "CANCELLED", "ABORTED"),
        ("unknown", "UNKNOWN", "RUNNING"),
    ],
)
def test_outcomes(outcome: str, final: str, last_task: str) -> None:
    state = make_run(outcome).state(at(1000))
    assert state.status == final
    assert state.tasks[-1].status == last_task
    assert state.tasks[0].status == "COMPLETED"


def test_failed_run_explains_itself() -> None:
    state = make_run("fail").state(at(1000))
    assert state.error_message == "Process `sayHello (3)` terminated with an error exit status (1)"
    assert state.error_report is not None
    assert "Work dir:" in state.error_report
    assert state.failed_task is not None
    assert state.failed_task.exit == 1
    assert any(line.startswith("ERROR ~ Error executing process") for line in state.log)


def test_fail_once_succeeds_when_resumed() -> None:
    assert make_run("fail_once", resumed=True).state(at(1000)).status == "SUCCEEDED"


def test_hang_never_ends() -> None:
    state = make_run("hang").state(at(10**6))
    assert state.status == "RUNNING"
    assert state.tasks[-1].status == "RUNNING"


def test_override_freezes_the_run_and_aborts_tasks() -> None:
    run = make_run()
    run.override = ("CANCELLED", at(SUBMIT_DELAY + 15))
    state = run.state(at(1000))
    assert state.status == "CANCELLED"
    assert state.complete == at(SUBMIT_DELAY + 15)
    assert [t.status for t in state.tasks] == ["COMPLETED", "ABORTED"]
    assert state.log[-1].startswith("Execution cancelled")


def test_cached_tasks_of_a_resumed_run() -> None:
    state = make_run(resumed=True, cached=2).state(at(1000))
    assert [t.status for t in state.tasks] == ["CACHED", "CACHED", "COMPLETED"]
    assert "Cached      : 2" in state.log


def test_zero_duration_run_completes_when_it_starts() -> None:
    state = make_run(duration=0).state(at(SUBMIT_DELAY))
    assert state.status == "SUCCEEDED"
    assert len(state.tasks) == 3


def test_search_tokens_are_anded() -> None:
    facts = RunFacts("wf1", "nightly-2024", "s-1", "nf-core/rnaseq", "demo-user", "FAILED", T0)
    assert WorkflowQuery.parse("rnaseq status:failed").matches(facts)
    assert WorkflowQuery.parse("RNA").matches(facts)
    assert not WorkflowQuery.parse("rnaseq status:succeeded").matches(facts)
    assert WorkflowQuery.parse("runName:nightly-2024").matches(facts)
    assert not WorkflowQuery.parse("runName:nightly").matches(facts)
    assert not WorkflowQuery.parse("runName:nightly-*").matches(facts)  # key values are exact
    assert not WorkflowQuery.parse("userName:demo").matches(facts)
    assert WorkflowQuery.parse('userName:"demo-user" workflowId:wf1').matches(facts)
    assert WorkflowQuery.parse("after:2023-11-14 before:2023-11-14").matches(facts)
    assert not WorkflowQuery.parse("after:2023-11-15").matches(facts)
    assert not WorkflowQuery.parse("is:starred").matches(facts)


def test_search_free_text_is_one_partial_match() -> None:
    facts = RunFacts(
        "wf1", "nightly-2024", "s-1", "nf-core/rnaseq", "u", "FAILED", T0, manifest_name="RNA-seq"
    )
    assert WorkflowQuery.parse("ghtly-20").matches(facts)  # run name, partially
    assert WorkflowQuery.parse("core/rna").matches(facts)  # project name
    assert WorkflowQuery.parse("A-SEQ").matches(facts)  # manifest name, ignoring case
    assert WorkflowQuery.parse("s-1").matches(facts)  # session id
    # the words left after the key:value tokens are one string, not words ANDed
    assert WorkflowQuery.parse("nightly 2024").text == "nightly 2024"
    assert not WorkflowQuery.parse("nightly 2024").matches(facts)
    assert not WorkflowQuery.parse("2024 nightly").matches(facts)


def test_search_by_label() -> None:
    facts = RunFacts("wf1", "r", "s", "p", "u", "RUNNING", T0, ["nightly", "team=genomics", "team"])
    assert WorkflowQuery.parse("label:nightly").matches(facts)
    assert WorkflowQuery.parse("label:team=genomics").matches(facts)
    assert not WorkflowQuery.parse("label:production").matches(facts)


def test_search_rejects_bad_dates() -> None:
    with pytest.raises(ApiError) as caught:
        WorkflowQuery.parse("after:yesterday")
    assert caught.value.status == 400


def test_sliding_window_counts_rejected_calls() -> None:
    limiter = SlidingWindowLimiter(3, 1.0)
    assert [limiter.hit("a", t) for t in (0.0, 0.1, 0.2)] == [0.0, 0.0, 0.0]
    assert limiter.hit("a", 0.3) == pytest.approx(0.8)  # admitted again from 1.1
    assert limiter.hit("a", 1.11) == 0.0
    # the rejected call at 0.3 still counts: 0.2, 0.3, 1.11 and this one make four
    assert limiter.hit("a", 1.12) > 0
    assert limiter.hit("b", 1.12) == 0.0


def test_unlimited_limiter() -> None:
    limiter = SlidingWindowLimiter(None, 1.0)
    assert all(limiter.hit("a", 0.0) == 0.0 for _ in range(100))


def test_max_calls_in_window() -> None:
    assert max_calls_in_window([], 1.0) == 0
    assert max_calls_in_window([0.0, 0.99, 1.0, 1.5, 1.98], 1.0) == 4


@pytest.mark.parametrize("name", ["a", "nightly_run-1", "x" * 80, "a1-b2_c3", "Nightly-Run", "Abc"])
def test_valid_run_names(name: str) -> None:
    assert RUN_NAME_PATTERN.match(name)


@pytest.mark.parametrize("name", ["", "1abc", "-Abc", "a--b", "a-", "a b", "x" * 81, "a_-b"])
def test_invalid_run_names(name: str) -> None:
    assert not RUN_NAME_PATTERN.match(name)


def test_params_text_json_yaml_or_error() -> None:
    problems = Problems()
    assert parse_params('{"a": 1}', problems) == {"a": 1}
    assert parse_params("a: 1\nb: [x]\n", problems) == {"a": 1, "b": ["x"]}
    assert parse_params("", problems) == {}
    assert problems.items == []
    parse_params("a: [unclosed", problems)
    parse_params("- a list", problems)
    assert [p["code"] for p in problems.items] == ["invalid_params", "invalid_params"]


def test_outcome_controls() -> None:
    problems = Problems()
    assert outcome_controls({}, problems) == ("succeed", 20.0)
    assert outcome_controls({"emulator_outcome": "fail", "emulator_duration": 3}, problems) == (
        "fail",
        3.0,
    )
    outcome_controls({"emulator_outcome": "explode", "emulator_duration": -1}, problems)
    assert len(problems.items) == 2


def test_several_problems_make_a_validation_error_response() -> None:
    problems = Problems()
    read_launch_request({"launch": {"pullLatest": "yes", "labelIds": ["x"]}}, problems)
    with pytest.raises(ApiError) as caught:
        problems.raise_if_any()
    body = caught.value.body()
    assert [e["code"] for e in body["errors"]] == ["invalid_type", "invalid_type"]
    assert body["message"] == "Invalid launch request"  # no Error ID on a validation error


def test_error_body_and_timestamps() -> None:
    assert error_body("Nope") == {"message": "Nope"}
    message = internal_error_body()["message"]
    assert message.startswith("Oops... Unable to process request - Error ID: ")
    assert len(message.rsplit(" ", 1)[-1]) == 22
    assert rate_limited_body(0.3)["message"] == (
        "Maximum request rate exceeded. Wait 0secs before issuing a new request"
    )
    assert iso(T0) == "2023-11-14T22:13:20Z"
    assert iso(T0 + 0.75) == "2023-11-14T22:13:20Z"  # whole seconds, as documented
