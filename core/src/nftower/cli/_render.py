"""Plain-text and JSON renderings of runs, tasks and progress (no I/O, no terminal codes)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nftower import Progress, Task, Workflow

_COUNTS = ("succeeded", "running", "failed", "cached")


def to_json(value: Any) -> str:
    """JSON text of a model, a list of models or plain data (API field names, no nulls).

    Example:
        >>> from nftower import Workflow
        >>> print(to_json(Workflow(id="abc", run_name="nightly")))
        {
          "id": "abc",
          "runName": "nightly"
        }
    """
    return json.dumps(_plain(value), indent=2, sort_keys=False)


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def task_counts(progress: Progress | None) -> dict[str, int]:
    """Task counts of a run: succeeded, running (submitted and pending included), failed,
    cached, and their total.

    Example:
        >>> from nftower import Progress
        >>> p = Progress.model_validate({"workflowProgress": {"succeeded": 3, "running": 1,
        ...                                                   "submitted": 1, "failed": 0}})
        >>> task_counts(p)
        {'succeeded': 3, 'running': 2, 'failed': 0, 'cached': 0, 'total': 5}
    """
    load = progress.workflow_progress if progress is not None else None
    if load is None:
        return {**dict.fromkeys(_COUNTS, 0), "total": 0}
    running = (load.running or 0) + (load.submitted or 0) + (load.pending or 0)
    counts = {
        "succeeded": load.succeeded or 0,
        "running": running,
        "failed": load.failed or 0,
        "cached": load.cached or 0,
    }
    counts["total"] = sum(counts.values()) + (load.aborted or 0) + (load.ignored or 0)
    return counts


def progress_line(workflow: Workflow) -> str:
    """One line about a run: status and task counts.

    Example:
        >>> from nftower import Workflow
        >>> wf = Workflow.model_validate({"id": "abc", "runName": "nightly", "status": "RUNNING",
        ...     "progress": {"workflowProgress": {"succeeded": 2, "running": 1}}})
        >>> progress_line(wf)
        'nightly (abc): RUNNING, tasks 2 succeeded, 1 running, 0 failed of 3'
    """
    counts = task_counts(workflow.progress)
    cached = f", {counts['cached']} cached" if counts["cached"] else ""
    return (
        f"{workflow.run_name or '?'} ({workflow.id}): {_status(workflow)}, tasks "
        f"{counts['succeeded']} succeeded, {counts['running']} running, "
        f"{counts['failed']} failed{cached} of {counts['total']}"
    )


def _status(workflow: Workflow) -> str:
    return str(workflow.status) if workflow.status is not None else "UNKNOWN"


def when(moment: datetime | None) -> str:
    """A timestamp as UTC text to the second, ``-`` when missing.

    Example:
        >>> when(datetime(2026, 12, 2, 18, 5, 7, 123, tzinfo=timezone.utc))
        '2026-12-02 18:05:07Z'
        >>> when(None)
        '-'
    """
    if moment is None:
        return "-"
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def duration(millis: int | None) -> str:
    """Milliseconds as ``1h 2m 3s``.

    Example:
        >>> duration(3_723_000), duration(999), duration(None)
        ('1h 2m 3s', '0s', '-')
    """
    if millis is None:
        return "-"
    seconds = int(millis // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h"] if hours else []
    if hours or minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{seconds}s")
    return " ".join(parts)


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Rows as left-aligned columns separated by two spaces.

    Example:
        >>> print(table(["ID", "STATUS"], [["abc", "RUNNING"], ["defgh", "FAILED"]]))
        ID     STATUS
        abc    RUNNING
        defgh  FAILED
    """
    lines = [list(header), *(list(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def runs_table(workflows: Iterable[Workflow]) -> str:
    """The ``runs list`` table.

    Example:
        >>> from nftower import Workflow
        >>> wf = Workflow(id="abc", run_name="nightly", status="RUNNING", project_name="rnaseq")
        >>> print(runs_table([wf]))
        ID   STATUS   RUN NAME  PIPELINE  SUBMITTED
        abc  RUNNING  nightly   rnaseq    -
    """
    header = ["ID", "STATUS", "RUN NAME", "PIPELINE", "SUBMITTED"]
    rows = (
        [wf.id or "-", _status(wf), wf.run_name or "-", wf.project_name or "-", when(wf.submit)]
        for wf in workflows
    )
    return table(header, rows)


def run_details(workflow: Workflow, url: str | None, tasks: Sequence[Task]) -> str:
    """The ``runs view`` text: the run, its task counts and its tasks.

    Example:
        >>> from nftower import Workflow
        >>> wf = Workflow(id="abc", run_name="nightly", status="SUCCEEDED", duration=61000)
        >>> print(run_details(wf, None, []))  # doctest: +NORMALIZE_WHITESPACE
        Run        nightly (abc)
        Status     SUCCEEDED
        Pipeline   -
        Revision   -
        Work dir   -
        Submitted  -
        Started    -
        Completed  -
        Duration   1m 1s
        Tasks      0 succeeded, 0 running, 0 failed of 0
        Run URL    -
    """
    counts = task_counts(workflow.progress)
    cached = f", {counts['cached']} cached" if counts["cached"] else ""
    fields = [
        ("Run", f"{workflow.run_name or '?'} ({workflow.id})"),
        ("Status", _status(workflow)),
        ("Pipeline", workflow.repository or workflow.project_name or "-"),
        ("Revision", workflow.revision or "-"),
        ("Work dir", workflow.work_dir or "-"),
        ("Submitted", when(workflow.submit)),
        ("Started", when(workflow.start)),
        ("Completed", when(workflow.complete)),
        ("Duration", duration(workflow.duration)),
        (
            "Tasks",
            f"{counts['succeeded']} succeeded, {counts['running']} running, "
            f"{counts['failed']} failed{cached} of {counts['total']}",
        ),
        ("Run URL", url or "-"),
    ]
    if workflow.error_message:
        fields.insert(2, ("Error", workflow.error_message))
    text = "\n".join(f"{name:<10} {value}" for name, value in fields)
    if tasks:
        rows = (
            [
                str(t.task_id or "-"),
                t.name or "-",
                str(t.status) if t.status is not None else "-",
                "-" if t.exit_code is None else str(t.exit_code),
                duration(t.duration),
            ]
            for t in tasks
        )
        text += "\n\n" + table(["TASK", "NAME", "STATUS", "EXIT", "DURATION"], rows)
    return text
