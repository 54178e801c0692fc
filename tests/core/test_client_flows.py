"""The shared flows driven by hand (no HTTP, fake clock): pagination and wait() edge cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from nftower import (
    ServerError,
    TowerConfig,
    TowerConnectionError,
    WaitTimeoutError,
    Workflow,
    WorkflowFailedError,
)
from nftower import _operations as ops
from nftower import _runs as runs
from nftower._api_errors import api_error
from nftower._endpoints import Call
from nftower._flows import Emit, FlowContext, Notify, Shared, Sleep
from nftower.ratelimit._records import MemoryRecords


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def drive(flow: Any, answer: Callable[[Call], Any], clock: FakeClock | None = None) -> Any:
    """Answer each Call with ``answer(call)`` (a returned exception is thrown in)."""
    emitted: list[Any] = []
    records = MemoryRecords()
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = flow.throw(error) if error is not None else flow.send(value)
        except StopIteration as stop:
            return emitted if emitted else stop.value
        value, error = None, None
        if isinstance(step, Emit):
            emitted.append(step.item)
        elif isinstance(step, Sleep):
            assert clock is not None
            clock.now += step.seconds
        elif isinstance(step, Notify):
            step.callback(step.workflow)
        elif isinstance(step, Shared):  # the shared records the client keeps (look-ups)
            value = step.action(records)
        else:
            result = answer(step)
            if isinstance(result, BaseException):
                error = result
            else:
                value = result


def ctx(clock: FakeClock | None = None, workspace: int | str = 5) -> FlowContext:
    config = TowerConfig(token="tower-access-token", workspace=workspace)
    return FlowContext(config, clock=clock or FakeClock())


def pages_of(total: int, *, send_total: bool) -> Callable[[Call], Any]:
    def answer(call: Call) -> Any:
        offset, size = int(call.params["offset"]), int(call.params["max"])
        items = [{"workflow": {"id": f"w{i}"}} for i in range(offset, min(offset + size, total))]
        body: dict[str, Any] = {"workflows": items}
        if send_total:
            body["totalSize"] = total
        return body

    return answer


@pytest.mark.parametrize(
    ("total", "send_total"), [(0, True), (99, False), (100, True), (250, False), (200, False)]
)
def test_pagination_reads_every_page_once(total: int, send_total: bool) -> None:
    calls: list[int] = []
    answer = pages_of(total, send_total=send_total)

    def counting(call: Call) -> Any:
        calls.append(int(call.params["offset"]))
        return answer(call)

    result = drive(ops.list_workflows(ctx(), None), counting)
    items = result if isinstance(result, list) else []
    assert [wf.id for wf in items] == [f"w{i}" for i in range(total)]
    expected_calls = max(1, -(-total // 100) + (0 if send_total or total % 100 else 1))
    assert len(calls) == expected_calls
    assert calls == sorted(set(calls))


def test_has_more_false_stops_pagination() -> None:
    calls: list[Call] = []

    def answer(call: Call) -> Any:
        calls.append(call)
        return {"workflows": [{"workflow": {"id": str(i)}} for i in range(100)], "hasMore": False}

    assert len(drive(ops.list_workflows(ctx(), None), answer)) == 100
    assert len(calls) == 1


def describe(status: str | None) -> dict[str, Any]:
    return {
        "workflow": {"id": "w1", "status": status, "runName": "r"},
        "orgName": "o",
        "workspaceName": "w",
    }


def test_wait_tolerates_a_few_transient_errors() -> None:
    clock = FakeClock()
    answers: list[Any] = [
        describe("RUNNING"),
        TowerConnectionError("blip"),
        api_error(503, "GET /workflow/{workflowId}", "busy"),
        TowerConnectionError("blip"),
        describe("RUNNING"),
        TowerConnectionError("blip"),
        describe("SUCCEEDED"),
    ]
    seen: list[str] = []
    flow = runs.wait(
        ctx(clock),
        "w1",
        poll_interval=10,
        timeout=None,
        unknown_timeout=60,
        on_change=lambda wf: seen.append(str(wf.status)),
    )
    wf = drive(flow, lambda call: answers.pop(0), clock)
    assert isinstance(wf, Workflow)
    assert str(wf.status) == "SUCCEEDED"
    assert seen == ["RUNNING", "SUCCEEDED"]
    assert clock.now == 1000.0 + 6 * 10


def test_wait_raises_after_too_many_consecutive_errors() -> None:
    errors: list[Any] = [describe("RUNNING")] + [TowerConnectionError(f"e{i}") for i in range(4)]
    flow = runs.wait(ctx(), "w1", poll_interval=1, timeout=None, unknown_timeout=60, on_change=None)
    with pytest.raises(TowerConnectionError, match="e3"):
        drive(flow, lambda call: errors.pop(0), FakeClock())


def test_wait_does_not_swallow_permanent_errors() -> None:
    flow = runs.wait(ctx(), "w1", poll_interval=1, timeout=None, unknown_timeout=60, on_change=None)
    with pytest.raises(ServerError):
        drive(flow, lambda call: api_error(500, "x", "broken"), FakeClock())


def test_wait_timeout_is_exact_on_the_clock() -> None:
    clock = FakeClock()
    flow = runs.wait(
        ctx(clock), "w1", poll_interval=30, timeout=100, unknown_timeout=60, on_change=None
    )
    with pytest.raises(WaitTimeoutError) as caught:
        drive(flow, lambda call: describe("RUNNING"), clock)
    assert clock.now == 1100.0  # 30 + 30 + 30 + 10: the last sleep is cut to the deadline
    assert caught.value.last_status == "RUNNING"


@pytest.mark.parametrize("status", ["UNKNOWN", "SOMETHING_NEW", None])
def test_unknown_is_bounded_but_not_terminal(status: str | None) -> None:
    clock = FakeClock()
    flow = runs.wait(
        ctx(clock), "w1", poll_interval=10, timeout=None, unknown_timeout=45, on_change=None
    )
    with pytest.raises(WorkflowFailedError) as caught:
        drive(flow, lambda call: describe(status), clock)
    assert clock.now == 1050.0
    assert caught.value.run_url


def test_unknown_clock_resets_when_the_run_is_active_again() -> None:
    clock = FakeClock()
    answers = [describe("UNKNOWN")] * 4 + [describe("RUNNING")] + [describe("UNKNOWN")] * 4
    answers.append(describe("SUCCEEDED"))
    flow = runs.wait(
        ctx(clock), "w1", poll_interval=10, timeout=None, unknown_timeout=35, on_change=None
    )
    assert str(drive(flow, lambda call: answers.pop(0), clock).status) == "SUCCEEDED"


def test_workspace_name_is_resolved_once_per_client() -> None:
    context = ctx(workspace="acme/prod")
    calls: list[str] = []

    def answer(call: Call) -> Any:
        calls.append(call.operation)
        if call.operation == "GET /user-info":
            return {"user": {"id": 1}}
        if call.operation == "GET /user/{userId}/workspaces":
            return {
                "orgsAndWorkspaces": [
                    {"orgName": "acme", "workspaceName": "prod", "workspaceId": 9},
                    {"orgName": "acme", "orgId": 1},
                ]
            }
        return {"workflow": {"id": "w"}}

    for _ in range(3):
        drive(runs.get_workflow(context, "w"), answer)
    assert calls.count("GET /user-info") == 1
    assert calls.count("GET /workflow/{workflowId}") == 3


def test_on_change_fires_once_per_status_even_when_status_is_missing() -> None:
    clock = FakeClock()
    answers = [describe(None), describe(None), describe("RUNNING"), describe("RUNNING")]
    answers.append(describe("SUCCEEDED"))
    seen: list[str | None] = []
    flow = runs.wait(
        ctx(clock),
        "w1",
        poll_interval=1,
        timeout=None,
        unknown_timeout=60,
        on_change=lambda wf: seen.append(wf.status.value if wf.status else None),
    )
    drive(flow, lambda call: answers.pop(0), clock)
    assert seen == [None, "RUNNING", "SUCCEEDED"]
