"""StatusPoller: which calls a cycle makes (a scripted status source, no HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nftower import NotFoundError, Workflow, WorkflowStatus
from nftower.monitor import StatusPoller


class Source:
    """Runs by id -> status; counts calls like a server would."""

    def __init__(self, runs: dict[str, str], page_size: int = 100) -> None:
        self.runs = runs
        self.page_size = page_size
        self.pages = 0
        self.describes = 0

    def list_workflows(self, search: str | None = None) -> Iterator[Workflow]:
        assert search is not None
        assert search.startswith("status:")
        wanted = search.removeprefix("status:").upper()
        matching = [run for run, status in self.runs.items() if status == wanted]
        for start in range(0, max(len(matching), 1), self.page_size):
            self.pages += 1
            for run in matching[start : start + self.page_size]:
                yield Workflow(id=run, status=self.runs[run])

    def get_workflow(self, workflow_id: str) -> Workflow:
        self.describes += 1
        if workflow_id not in self.runs:
            raise NotFoundError("no such run", status_code=404)
        return Workflow(id=workflow_id, status=self.runs[workflow_id])


def statuses(result_observed: dict[str, Workflow]) -> dict[str, str]:
    return {run: wf.status.value for run, wf in result_observed.items() if wf.status}


def test_many_runs_cost_a_few_pages_plus_one_describe_per_finished_run() -> None:
    runs = {f"r{i}": "RUNNING" for i in range(250)} | {"s1": "SUBMITTED", "done": "SUCCEEDED"}
    source = Source(runs)
    poller = StatusPoller(page_size=100)
    result = poller.poll(source, dict.fromkeys(runs))
    assert statuses(result.observed) == runs
    assert source.describes == 1  # only the finished run left the active lists
    assert source.pages == 4  # 1 submitted page + 3 running pages
    assert (result.list_calls, result.describe_calls) == (4, 1)


def test_runs_known_to_be_running_skip_the_submitted_list() -> None:
    runs = {f"r{i}": "RUNNING" for i in range(10)}
    source = Source(runs)
    result = StatusPoller().poll(source, dict.fromkeys(runs, WorkflowStatus.RUNNING))
    assert len(result.observed) == 10
    assert (source.pages, source.describes) == (1, 0)


def test_few_runs_in_a_busy_workspace_are_described_one_by_one() -> None:
    busy = {f"other{i}": "RUNNING" for i in range(1000)}
    source = Source(busy | {"mine": "RUNNING", "mine2": "SUBMITTED"})
    poller = StatusPoller(page_size=100)
    watched: dict[str, WorkflowStatus | None] = {"mine": None, "mine2": None}
    poller.poll(source, watched)  # first cycle: lists are assumed short
    source.pages = source.describes = 0
    result = poller.poll(source, watched)  # second cycle: 10 pages > 2 runs -> describes
    assert statuses(result.observed) == {"mine": "RUNNING", "mine2": "SUBMITTED"}
    assert (source.pages, source.describes) == (0, 2)


def test_unknown_and_other_states_are_described() -> None:
    source = Source({"u": "UNKNOWN", "x": "PAUSED", "r1": "RUNNING", "r2": "RUNNING"})
    watched: dict[str, WorkflowStatus | None] = {
        "u": WorkflowStatus.UNKNOWN,
        "x": WorkflowStatus("PAUSED"),
        "r1": WorkflowStatus.RUNNING,
        "r2": WorkflowStatus.RUNNING,
    }
    result = StatusPoller().poll(source, watched)
    assert statuses(result.observed)["u"] == "UNKNOWN"
    assert source.describes == 2


def test_a_deleted_run_is_reported_missing() -> None:
    source = Source({"a": "RUNNING", "b": "RUNNING", "c": "RUNNING"})
    result = StatusPoller().poll(source, dict.fromkeys(["a", "b", "c", "gone"]))
    assert set(result.missing) == {"gone"}
    assert isinstance(result.missing["gone"], NotFoundError)


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101])
def test_page_estimate_follows_the_list_length(count: int) -> None:
    source = Source({f"r{i}": "RUNNING" for i in range(count)})
    poller = StatusPoller(page_size=100)
    result = poller.poll(source, dict.fromkeys(source.runs, WorkflowStatus.RUNNING) | {"x": None})
    if result.list_calls:
        assert result.list_calls == source.pages
