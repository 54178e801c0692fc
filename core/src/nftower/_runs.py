"""The operations on one run, each written once (signature, documentation, flow): describe,
progress, tasks, log, cancel, follow / wait, failure report. ``TowerClient`` and
``AsyncTowerClient`` bind them as methods (``ctx`` becomes ``self``).

Example (a flow driven by hand: the client answers each call the same way over HTTP):
    >>> from nftower import TowerConfig
    >>> from nftower._flows import FlowContext
    >>> cfg = TowerConfig(token="tower-access-token", workspace=7)
    >>> flow = get_workflow(FlowContext(cfg), "4Bi5xBK6E2Nbhj")
    >>> call = next(flow)
    >>> call.operation, call.params
    ('GET /workflow/{workflowId}', {'workspaceId': 7})
    >>> try:
    ...     flow.send({"workflow": {"id": "4Bi5xBK6E2Nbhj", "status": "RUNNING"}})
    ... except StopIteration as done:
    ...     print(done.value.status)
    RUNNING
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _endpoints as ep
from ._exceptions import TowerConfigError
from ._flows import Flow, FlowContext
from ._follow import FollowOutcome, FollowRules, wait_result
from ._follow import follow as follow_run
from ._lookups import collect, workspace_id
from ._models import Progress, Task, TaskStatus, Workflow
from ._reports import FailureReport, build_failure_report, run_url
from ._run_access import on_run
from ._run_files import failed_task_tails
from ._secrets import redact_token

__all__ = [
    "cancel",
    "failure_report",
    "follow",
    "get_log",
    "get_progress",
    "get_workflow",
    "list_tasks",
    "wait",
]

MAX_LOG_PAGES = 50


def get_workflow(ctx: FlowContext, /, workflow_id: str) -> Flow[Workflow]:
    """A run with its progress, labels, job info and org / workspace names.

    A run that is unknown, deleted or not visible in the workspace raises
    :class:`RunNotFoundError` (Tower answers 403 for it, as for a bad token: the token is
    checked once to tell them apart).
    """
    ws = yield from workspace_id(ctx)
    wid = _id(workflow_id)
    data = yield from on_run(ctx, ws, wid, ep.describe_workflow(ws, wid))
    return Workflow.model_validate(data or {})


def get_progress(ctx: FlowContext, /, workflow_id: str) -> Flow[Progress]:
    """Task counts of a run, overall and per process."""
    ws = yield from workspace_id(ctx)
    wid = _id(workflow_id)
    return Progress.model_validate(
        (yield from on_run(ctx, ws, wid, ep.workflow_progress(ws, wid))) or {}
    )


def list_tasks(
    ctx: FlowContext, /, workflow_id: str, status: str | TaskStatus | None = None
) -> Flow[list[Task]]:
    """All tasks of a run (every page), optionally only those with ``status``."""
    wanted = TaskStatus(status) if status is not None else None
    ws = yield from workspace_id(ctx)
    wid = _id(workflow_id)
    tasks = yield from on_run(
        ctx,
        ws,
        wid,
        collect(lambda offset: ep.list_tasks(ws, wid, offset=offset), "tasks", Task.model_validate),
    )
    return [task for task in tasks if wanted is None or task.status == wanted]


def get_log(ctx: FlowContext, /, workflow_id: str, tail: int | None = 100) -> Flow[list[str]]:
    """The last ``tail`` lines of the run's Nextflow log (``None``: every line)."""
    if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
        raise TowerConfigError(f"tail must be an integer >= 0 or None, got {tail!r}")
    ws = yield from workspace_id(ctx)
    wid = _id(workflow_id)
    lines: list[str] = []
    cursor: str | None = None
    for _ in range(MAX_LOG_PAGES):
        data = yield from on_run(ctx, ws, wid, ep.workflow_log(ws, wid, next=cursor))
        page = (data or {}).get("log") or {}
        lines.extend(str(line) for line in page.get("entries") or [])
        if tail is not None:
            lines = lines[-tail:] if tail else []
        forward = page.get("forwardToken")
        if not page.get("truncated") or not forward or forward == cursor:
            break
        cursor = forward
    return lines


def cancel(ctx: FlowContext, /, workflow_id: str, force: bool = False) -> Flow[None]:
    """Cancel a run (``force``: in Tower even if the compute environment cannot)."""
    ws = yield from workspace_id(ctx)
    wid = _id(workflow_id)
    yield from on_run(ctx, ws, wid, ep.cancel_workflow(ws, wid, force=bool(force)))


def follow(
    ctx: FlowContext,
    /,
    workflow_id: str,
    *,
    poll_interval: float = 30.0,
    timeout: float | None = None,
    unknown_timeout: float = 3600.0,
    on_change: Callable[[Workflow], Any] | None = None,
) -> Flow[FollowOutcome]:
    """Poll the run until it ends and say how: a :class:`FollowOutcome` with the last run.

    Its ``kind`` is ``succeeded``, ``failed`` or ``cancelled`` (the run's end),
    ``deadline`` (``timeout`` seconds passed first) or ``unknown`` (neither active nor
    finished for ``unknown_timeout`` seconds). ``on_change(workflow)`` is called on every
    status change and every change of the task counts (``nftower.TaskCounts.of(workflow)``),
    at most once per poll (the async client also awaits a coroutine function). A few failed
    status checks in a row are tolerated. :meth:`wait` is this, with the ends that are not the
    run's raised; ``WorkflowMonitor.follow`` applies the same rule to many runs.
    """
    rules = FollowRules(poll_interval, timeout, unknown_timeout)
    return (yield from follow_run(ctx, _id(workflow_id), rules, on_change))


def wait(
    ctx: FlowContext,
    /,
    workflow_id: str,
    *,
    poll_interval: float = 30.0,
    timeout: float | None = None,
    unknown_timeout: float = 3600.0,
    on_change: Callable[[Workflow], Any] | None = None,
) -> Flow[Workflow]:
    """Poll until the run is SUCCEEDED, FAILED or CANCELLED and return it.

    ``on_change(workflow)`` is called on every status change and every change of the task
    counts, at most once per poll (the async client also awaits a coroutine function). A few
    failed status checks in a row are tolerated. Raises
    :class:`WaitTimeoutError` after ``timeout`` seconds, and :class:`WorkflowFailedError` if
    the run stays UNKNOWN for ``unknown_timeout`` seconds. A FAILED run is returned, not
    raised: see :meth:`failure_report`. The rule is :meth:`follow`'s.
    """
    outcome = yield from follow(
        ctx,
        workflow_id,
        poll_interval=poll_interval,
        timeout=timeout,
        unknown_timeout=unknown_timeout,
        on_change=on_change,
    )
    return wait_result(outcome, ctx.config.web_url)


def failure_report(
    ctx: FlowContext, /, workflow_id_or_workflow: str | Workflow
) -> Flow[FailureReport]:
    """Why a run failed (error, exit status, failed tasks with their ``.command.err`` tails,
    log tail, run URL)."""
    workflow = workflow_id_or_workflow
    if isinstance(workflow, Workflow) and workflow.id and workflow.status is not None:
        wf = workflow
    else:
        wanted = workflow.id if isinstance(workflow, Workflow) else workflow
        wf = yield from get_workflow(ctx, wanted or "")
    tasks = yield from list_tasks(ctx, wf.id or "", TaskStatus.FAILED)
    tail = yield from get_log(ctx, wf.id or "", 50)
    stderr = yield from failed_task_tails(ctx, wf.id or "", tasks)
    report = build_failure_report(wf, tasks, tail, run_url(ctx.config.web_url, wf), stderr)
    return _without_token(report, ctx.config.token)


def _without_token(report: FailureReport, token: str) -> FailureReport:
    """``report`` with the token taken out of the text the run wrote (a pipeline that prints
    its environment would show it, and the report goes to logs, XCom and artifacts)."""

    def clean(text: str | None) -> str | None:
        return redact_token(text, token) if text else text

    return report.model_copy(
        update={
            "error_message": clean(report.error_message),
            "error_report": clean(report.error_report),
            "log_tail": [redact_token(line, token) for line in report.log_tail],
            "task_stderr": {
                key: redact_token(text, token) for key, text in report.task_stderr.items()
            },
        }
    )


def _id(workflow_id: object) -> str:
    if isinstance(workflow_id, Workflow):
        workflow_id = workflow_id.id
    if not isinstance(workflow_id, str) or not workflow_id.strip():
        raise TowerConfigError(f"workflow_id must be a non-empty string, got {workflow_id!r}")
    return workflow_id.strip()
