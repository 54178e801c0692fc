"""One status-check cycle for many runs: a few list pages instead of one call per run."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from .._endpoints import PAGE_SIZE
from .._exceptions import NotFoundError
from .._models import Workflow, WorkflowStatus

__all__ = ["CycleResult", "StatusPoller", "StatusSource"]

#: Statuses a run can hold and still move on: the ones found by listing.
LISTED = (WorkflowStatus.SUBMITTED, WorkflowStatus.RUNNING)


class StatusSource(Protocol):
    """The two client operations a poller needs (``TowerClient`` provides them)."""

    def list_workflows(self, search: str | None = None) -> Iterable[Workflow]: ...

    def get_workflow(self, workflow_id: str) -> Workflow: ...


@dataclass
class CycleResult:
    """What one cycle observed: the current state of runs, and runs that could not be read."""

    observed: dict[str, Workflow] = field(default_factory=dict)
    missing: dict[str, NotFoundError] = field(default_factory=dict)
    list_calls: int = 0
    describe_calls: int = 0


class StatusPoller:
    """Finds the status of every watched run with as few calls as it can.

    A run last seen SUBMITTED or RUNNING (or not seen yet) is looked for in the lists of
    submitted and running runs (``GET /workflow?search=status:running``, paged); a run missing
    from them has moved on and gets one describe (which also returns the full record of a
    finished run). Runs in other states are described one by one. When the lists are longer
    than the runs they would cover (a busy workspace, few watched runs), every run is described
    instead: the cost per cycle is ``min(list pages, watched runs)`` plus one describe per run
    that changed.

    >>> class Source:
    ...     def list_workflows(self, search=None):
    ...         return [Workflow(id="a", status="RUNNING")] if "running" in search else []
    ...     def get_workflow(self, workflow_id):
    ...         return Workflow(id=workflow_id, status="SUCCEEDED")
    >>> result = StatusPoller().poll(Source(), {"a": None, "b": None, "c": None, "d": None})
    >>> {k: v.status.value for k, v in result.observed.items()}
    {'a': 'RUNNING', 'b': 'SUCCEEDED', 'c': 'SUCCEEDED', 'd': 'SUCCEEDED'}
    >>> result.list_calls, result.describe_calls
    (2, 3)
    """

    def __init__(self, page_size: int = PAGE_SIZE) -> None:
        self.page_size = page_size
        self._pages: dict[WorkflowStatus, int] = {status: 1 for status in LISTED}

    def poll(
        self, source: StatusSource, watched: Mapping[str, WorkflowStatus | None]
    ) -> CycleResult:
        """Observe every run in ``watched`` (id -> last known status, ``None`` if never seen)."""
        result = CycleResult()
        listable = [run for run, status in watched.items() if status is None or status in LISTED]
        statuses = [WorkflowStatus.RUNNING]
        if any(watched[run] in (None, WorkflowStatus.SUBMITTED) for run in listable):
            statuses.insert(0, WorkflowStatus.SUBMITTED)
        if listable and sum(self._pages[status] for status in statuses) < len(listable):
            for status in statuses:
                self._list(source, status, watched, result)
        for run in watched:
            if run not in result.observed:
                try:
                    result.observed[run] = source.get_workflow(run)
                except NotFoundError as error:
                    result.missing[run] = error
                result.describe_calls += 1
        return result

    def _list(
        self,
        source: StatusSource,
        status: WorkflowStatus,
        watched: Mapping[str, WorkflowStatus | None],
        result: CycleResult,
    ) -> None:
        seen = 0
        for workflow in source.list_workflows(search=f"status:{status.value.lower()}"):
            seen += 1
            if workflow.id is not None and workflow.id in watched and workflow.status is not None:
                result.observed[workflow.id] = workflow
        # The client stops at the total size the first page announces.
        pages = max(1, math.ceil(seen / self.page_size))
        self._pages[status] = pages
        result.list_calls += pages
