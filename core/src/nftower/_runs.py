"""Flows about one run: describe, progress, tasks, log, cancel, wait, failure report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from . import _endpoints as ep
from ._exceptions import (
    RateLimitError,
    ServerError,
    TowerConfigError,
    TowerConnectionError,
    WaitTimeoutError,
    WorkflowFailedError,
)
from ._flows import Flow, FlowContext, Notify, Sleep, collect, workspace_id
from ._models import Progress, Task, TaskStatus, Workflow, WorkflowStatus
from ._reports import FailureReport, build_failure_report, run_url
from ._run_files import failed_task_tails

__all__ = [
    "cancel",
    "failure_report",
    "get_log",
    "get_progress",
    "get_workflow",
    "list_tasks",
    "wait",
]

logger = logging.getLogger("nftower")

#: Consecutive failed status checks ``wait()`` tolerates (each already retried) before raising.
MAX_POLL_ERRORS = 3
MAX_LOG_PAGES = 50
_TRANSIENT = (TowerConnectionError, ServerError, RateLimitError)


def get_workflow(ctx: FlowContext, workflow_id: str) -> Flow[Workflow]:
    """``GET /workflow/{id}``, flattened."""
    ws = yield from workspace_id(ctx)
    return Workflow.model_validate((yield ep.describe_workflow(ws, _id(workflow_id))) or {})


def get_progress(ctx: FlowContext, workflow_id: str) -> Flow[Progress]:
    """``GET /workflow/{id}/progress``."""
    ws = yield from workspace_id(ctx)
    return Progress.model_validate((yield ep.workflow_progress(ws, _id(workflow_id))) or {})


def list_tasks(
    ctx: FlowContext, workflow_id: str, status: str | TaskStatus | None = None
) -> Flow[list[Task]]:
    """Every task of a run (all pages), optionally only those with ``status``."""
    wanted = TaskStatus(status) if status is not None else None
    ws = yield from workspace_id(ctx)
    wid = _id(workflow_id)
    tasks = yield from collect(
        lambda offset: ep.list_tasks(ws, wid, offset=offset), "tasks", Task.model_validate
    )
    return [task for task in tasks if wanted is None or task.status == wanted]


def get_log(ctx: FlowContext, workflow_id: str, tail: int | None = 100) -> Flow[list[str]]:
    """The last ``tail`` lines of the run's Nextflow log (``None`` = all)."""
    if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
        raise TowerConfigError(f"tail must be an integer >= 0 or None, got {tail!r}")
    ws = yield from workspace_id(ctx)
    wid = _id(workflow_id)
    lines: list[str] = []
    cursor: str | None = None
    for _ in range(MAX_LOG_PAGES):
        data = yield ep.workflow_log(ws, wid, next=cursor)
        page = (data or {}).get("log") or {}
        lines.extend(str(line) for line in page.get("entries") or [])
        if tail is not None:
            lines = lines[-tail:] if tail else []
        forward = page.get("forwardToken")
        if not page.get("truncated") or not forward or forward == cursor:
            break
        cursor = forward
    return lines


def cancel(ctx: FlowContext, workflow_id: str, force: bool = False) -> Flow[None]:
    """``POST /workflow/{id}/cancel``."""
    ws = yield from workspace_id(ctx)
    yield ep.cancel_workflow(ws, _id(workflow_id), force=bool(force))


def wait(
    ctx: FlowContext,
    workflow_id: str,
    *,
    poll_interval: float,
    timeout: float | None,
    unknown_timeout: float,
    on_change: Callable[[Workflow], Any] | None,
) -> Flow[Workflow]:
    """Poll until the run is terminal; see ``TowerClient.wait``."""
    _positive("poll_interval", poll_interval)
    if timeout is not None:
        _positive("timeout", timeout)
    _positive("unknown_timeout", unknown_timeout, allow_zero=True)
    ws = yield from workspace_id(ctx)
    wid = _id(workflow_id)
    started = ctx.clock()
    deadline = started + timeout if timeout is not None else None
    last: WorkflowStatus | None = None
    seen = False
    unknown_since: float | None = None
    errors = 0
    while True:
        try:
            data = yield ep.describe_workflow(ws, wid)
        except _TRANSIENT as exc:
            errors += 1
            if errors > MAX_POLL_ERRORS:
                raise
            logger.warning(
                "Status check of run %s failed (%d/%d in a row), will poll again: %s",
                wid,
                errors,
                MAX_POLL_ERRORS,
                exc,
            )
        else:
            errors = 0
            wf = Workflow.model_validate(data or {})
            if wf.status != last or not seen:
                last, seen = wf.status, True
                if on_change is not None:
                    yield Notify(on_change, wf)
            if wf.status is not None and wf.status.is_terminal:
                return wf
            now = ctx.clock()
            if wf.status is not None and wf.status.is_active:
                unknown_since = None
            else:
                unknown_since = now if unknown_since is None else unknown_since
                if now - unknown_since >= unknown_timeout:
                    raise _unknown_too_long(ctx, wf, now - unknown_since, unknown_timeout)
        now = ctx.clock()
        if deadline is not None and now >= deadline:
            raise WaitTimeoutError(
                f"Run {wid} did not finish within {timeout:g} s (last status "
                f"{last.value if last else 'unknown'}); it keeps running in Tower",
                operation="GET /workflow/{workflowId}",
                workflow_id=wid,
                last_status=last.value if last else None,
            )
        delay = poll_interval if deadline is None else min(poll_interval, deadline - now)
        yield Sleep(max(delay, 0.0))


def _unknown_too_long(
    ctx: FlowContext, wf: Workflow, seconds: float, limit: float
) -> WorkflowFailedError:
    status = wf.status.value if wf.status is not None else "missing"
    url = run_url(ctx.config.web_url, wf)
    return WorkflowFailedError(
        f"Run {wf.run_name or '?'} ({wf.id}) has reported status {status} for {seconds:.0f} s "
        f"(unknown_timeout={limit:g} s): Tower has lost track of it"
        + (f"; see {url}" if url else ""),
        workflow_id=wf.id,
        status=status,
        run_url=url,
        error_message=wf.error_message,
        exit_status=wf.exit_status,
    )


def failure_report(ctx: FlowContext, workflow: str | Workflow) -> Flow[FailureReport]:
    """Error message, exit status, failed tasks (with their ``.command.err`` tails), log tail
    and run URL of a run."""
    if isinstance(workflow, Workflow) and workflow.id and workflow.status is not None:
        wf = workflow
    else:
        wanted = workflow.id if isinstance(workflow, Workflow) else workflow
        wf = yield from get_workflow(ctx, wanted or "")
    tasks = yield from list_tasks(ctx, wf.id or "", TaskStatus.FAILED)
    tail = yield from get_log(ctx, wf.id or "", 50)
    stderr = yield from failed_task_tails(ctx, wf.id or "", tasks)
    return build_failure_report(wf, tasks, tail, run_url(ctx.config.web_url, wf), stderr)


def _id(workflow_id: object) -> str:
    if isinstance(workflow_id, Workflow):
        workflow_id = workflow_id.id
    if not isinstance(workflow_id, str) or not workflow_id.strip():
        raise TowerConfigError(f"workflow_id must be a non-empty string, got {workflow_id!r}")
    return workflow_id.strip()


def _positive(name: str, value: object, *, allow_zero: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
        raise TowerConfigError(f"{name} must be a positive number of seconds, got {value!r}")
