"""Progress lines in the task log: one per change of a run's status or task counts.

While a run goes on for hours, the task log gets one line each time its status or its task
counts (succeeded / running / failed of total, ``nftower.TaskCounts``) change, and never a line
for a poll that saw no change. The worker wait feeds :class:`ProgressLog` from
``client.follow``'s ``on_change`` (every poll's describe carries the counts); the trigger feeds
it from the shared monitor's status changes and from :func:`read_progress`, which reads the
counts of a RUNNING run once per poll interval (slower when many triggers share the process,
so that all of them stay under :data:`PROGRESS_CALLS_PER_SECOND`). Importing this module
imports no ``nftower`` code.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nftower import AsyncTowerClient, TaskCounts, Workflow

    from nftower_airflow._runs import TaskLog

#: Budget of progress reads of all triggers of one triggerer process (status is shared anyway).
PROGRESS_CALLS_PER_SECOND = 1.0

_readers_lock = threading.Lock()
_readers = 0


class ProgressLog:
    """Logs ``Run <id> is <STATUS> (<counts>)`` on a status change and ``Run <id> progress:
    <counts>`` on a change of the counts alone; nothing for a reading that changed neither.

    Example:
        >>> import logging
        >>> from nftower import Workflow
        >>> log = ProgressLog("4Bi5xBK6E2Nbhj", logging.getLogger("demo"))
        >>> running = {"workflow": {"status": "RUNNING"},
        ...            "progress": {"workflowProgress": {"running": 2, "pending": 2}}}
        >>> log(Workflow.model_validate(running))
        'Run 4Bi5xBK6E2Nbhj is RUNNING (0 succeeded, 2 running, 0 failed of 4 tasks)'
        >>> log(Workflow.model_validate(running)) is None      # no change, no line
        True
    """

    def __init__(self, workflow_id: str, log: TaskLog) -> None:
        self.workflow_id = workflow_id
        self.log = log
        self.status: str | None = None
        self.counts: TaskCounts | None = None

    def __call__(self, workflow: Workflow) -> str | None:
        """Note one reading of the run; return the line logged, if any."""
        from nftower import TaskCounts
        from nftower.status import name

        return self.note(name(workflow.status), TaskCounts.of(workflow))

    def note(self, status: str, counts: TaskCounts | None) -> str | None:
        """Note a status and the counts read with it (``None``: not read this time)."""
        status_changed = status != self.status
        counts_changed = counts is not None and counts != self.counts
        self.status = status
        if counts is not None:
            self.counts = counts
        if status_changed:
            known = self.counts is not None and self.counts.total > 0
            shown = f" ({self.counts})" if known else ""
            line = f"Run {self.workflow_id} is {status}{shown}"
        elif counts_changed:
            line = f"Run {self.workflow_id} progress: {counts}"
        else:
            return None
        self.log.info("%s", line)
        return line


def success_line(workflow: Workflow) -> str:
    """``Tower run <id> succeeded in <duration>: <counts>``.

    Example:
        >>> from nftower import Workflow
        >>> run = Workflow.model_validate({
        ...     "workflow": {"id": "4Bi5xBK6E2Nbhj", "status": "SUCCEEDED", "duration": 3723000},
        ...     "progress": {"workflowProgress": {"succeeded": 9, "cached": 1}}})
        >>> success_line(run)
        'Tower run 4Bi5xBK6E2Nbhj succeeded in 1h 02m 03s: 9 succeeded (1 cached), 0 running, 0 failed of 10 tasks'
    """  # noqa: E501
    from nftower import TaskCounts
    from nftower._counts import format_duration

    seconds: float | None = None
    if workflow.duration is not None:
        seconds = workflow.duration / 1000
    elif workflow.start is not None and workflow.complete is not None:
        seconds = (workflow.complete - workflow.start).total_seconds()
    counts = TaskCounts.of(workflow)
    took = f" in {format_duration(seconds)}" if seconds is not None else ""
    tail = f": {counts}" if counts is not None and counts.total else ""
    return f"Tower run {workflow.id} succeeded{took}{tail}"


def reader_interval(poll_interval: float) -> float:
    """Seconds between two progress reads of one trigger, given how many read in the process.

    Example:
        >>> reader_interval(60.0)  # a lone trigger reads once per poll interval
        60.0
    """
    return max(poll_interval, _readers / PROGRESS_CALLS_PER_SECOND)


async def read_progress(
    client: AsyncTowerClient, progress: ProgressLog, poll_interval: float
) -> None:
    """Read the run's task counts while it is RUNNING and log each change (until cancelled).

    A failed read is skipped (the status poll reports lasting errors); the counts are only
    a progress display.
    """
    global _readers
    from nftower import TaskCounts, TowerError
    from nftower.status import RUNNING

    with _readers_lock:
        _readers += 1
    try:
        while True:
            await asyncio.sleep(reader_interval(poll_interval))
            if progress.status != RUNNING:
                continue
            try:
                counts = TaskCounts.of(await client.get_progress(progress.workflow_id))
            except TowerError:
                continue
            if progress.status == RUNNING:
                progress.note(RUNNING, counts)
    finally:
        with _readers_lock:
            _readers -= 1
