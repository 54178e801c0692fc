"""Run files: the main job's files (``nf-<id>.log``, ``nf-<id>.txt``, ``timeline-<id>.html``)
and each task's ``.command.log`` / ``.command.out`` / ``.command.err``, streamed in chunks to
a path or a file object, and the bounded stderr tails of failed tasks.

Tower answers 404 when a file is gone, and 400 for a run launched from the Nextflow CLI (it has
no files on Tower); tw reads both statuses this way, and so do the errors raised here.

Example (a flow driven by hand):
    >>> import io
    >>> from nftower import TowerConfig
    >>> from nftower._flows import FlowContext
    >>> out = io.BytesIO()
    >>> cfg = TowerConfig(token="tower-access-token", workspace=7)
    >>> flow = download_run_file(FlowContext(cfg), "abc",
    ...                          "nf-abc.log", out)
    >>> call = next(flow)
    >>> call.operation, call.params
    ('GET /workflow/{workflowId}/download', {'fileName': 'nf-abc.log', 'workspaceId': 7})
"""

from __future__ import annotations

import logging
import re

from . import _endpoints as ep
from ._exceptions import BadRequestError, NotFoundError, TowerAPIError, TowerConfigError
from ._flows import Flow, FlowContext
from ._lookups import workspace_id
from ._models import Task
from ._run_access import on_run
from ._sinks import Destination, FileSink, TailSink

__all__ = [
    "RUN_FILE_PATTERNS",
    "TASK_FILES",
    "download_run_file",
    "download_task_file",
    "failed_task_tails",
    "run_file_names",
]

logger = logging.getLogger("nftower")

#: The main job's files, by kind (``{id}`` is the workflow id).
RUN_FILE_PATTERNS = {"log": "nf-{id}.log", "txt": "nf-{id}.txt", "timeline": "timeline-{id}.html"}
#: The files Tower keeps of each task.
TASK_FILES = (".command.log", ".command.out", ".command.err", ".fusion.log")
#: Bytes of ``.command.err`` kept per failed task in a failure report.
STDERR_TAIL_BYTES = 2048
#: the piece of a word a tail's cut leaves at its start (the end of a token a task printed)
_CUT_WORD = re.compile(r"^\S+")
#: Failed tasks whose stderr a failure report fetches.
MAX_STDERR_TASKS = 10


def run_file_names(workflow_id: str) -> list[str]:
    """The main job's file names of a run.

    >>> run_file_names("abc")
    ['nf-abc.log', 'nf-abc.txt', 'timeline-abc.html']
    """
    return [pattern.format(id=workflow_id) for pattern in RUN_FILE_PATTERNS.values()]


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip() or "/" in value:
        raise TowerConfigError(f"{name} must be a file name (no '/'), got {value!r}")
    return value.strip()


def _explained(error: TowerAPIError, what: str, workflow_id: str) -> TowerAPIError:
    """The 404 / 400 of a download, saying what they mean."""
    if isinstance(error, NotFoundError):
        message = f"{what} of run {workflow_id} is gone: Tower no longer has it ({error.message})"
        return NotFoundError(
            message, status_code=404, operation=error.operation, error_id=error.error_id
        )
    if isinstance(error, BadRequestError):
        message = (
            f"Run {workflow_id} has no {what} on Tower: it was launched from the Nextflow CLI, "
            f"so Tower keeps no files of it ({error.message})"
        )
        return BadRequestError(
            message, status_code=400, operation=error.operation, error_id=error.error_id
        )
    return error


def _download(call: ep.Call, sink: FileSink, what: str, workflow_id: str) -> Flow[int]:
    complete = False
    try:
        yield call
        complete = True
    except TowerAPIError as exc:
        raise _explained(exc, what, workflow_id) from exc
    finally:
        sink.finish(complete)
    return sink.size


def download_run_file(
    ctx: FlowContext, /, workflow_id: str, file_name: str, destination: Destination
) -> Flow[int]:
    """Stream one of the run's files (``nf-<id>.log``, ``nf-<id>.txt``,
    ``timeline-<id>.html``) to ``destination`` (a path or a binary file object) in chunks;
    returns the bytes written. A path is written whole or not at all.
    ``NotFoundError``: the file is gone; ``BadRequestError``: a run launched from the
    Nextflow CLI (Tower has no files of it)."""
    workflow_id = _text("workflow_id", workflow_id)
    file_name = _text("file_name", file_name)
    sink = FileSink(destination)
    ws = yield from workspace_id(ctx)
    call = ep.download_workflow_file(ws, workflow_id, file_name, sink)
    download = _download(call, sink, file_name, workflow_id)
    return (yield from on_run(ctx, ws, workflow_id, download, run_404=False))


def download_task_file(
    ctx: FlowContext,
    /,
    workflow_id: str,
    task_id: int,
    name: str,
    destination: Destination,
) -> Flow[int]:
    """Stream a task's ``.command.log``, ``.command.out`` or ``.command.err`` (or
    ``.fusion.log``) to ``destination`` in chunks; returns the bytes written. Errors as for
    :meth:`download_run_file`."""
    workflow_id = _text("workflow_id", workflow_id)
    if isinstance(task_id, bool) or not isinstance(task_id, int) or task_id < 0:
        raise TowerConfigError(f"task_id must be a task's numeric id, got {task_id!r}")
    if name not in TASK_FILES:
        raise TowerConfigError(f"name must be one of {', '.join(TASK_FILES)}, got {name!r}")
    sink = FileSink(destination)
    ws = yield from workspace_id(ctx)
    call = ep.download_task_file(ws, workflow_id, task_id, name, sink)
    download = _download(call, sink, f"task {task_id}'s {name}", workflow_id)
    return (yield from on_run(ctx, ws, workflow_id, download, run_404=False))


def task_file_tail(
    ctx: FlowContext, workflow_id: str, task_id: int, name: str, max_bytes: int
) -> Flow[str | None]:
    """The last ``max_bytes`` of a task file (a word the cut falls in left out), ``None`` when
    Tower has none (400 / 404)."""
    ws = yield from workspace_id(ctx)
    sink = TailSink(max_bytes)
    try:
        yield ep.download_task_file(ws, workflow_id, task_id, name, sink)
    except TowerAPIError as exc:  # gone (404), a CLI run (400), not allowed: no tail
        logger.debug("No %s for task %s of run %s: %s", name, task_id, workflow_id, exc)
        return None
    text = sink.text()
    return ("..." + _CUT_WORD.sub("", text, count=1)) if sink.truncated else text


def failed_task_tails(
    ctx: FlowContext, workflow_id: str, tasks: list[Task], max_bytes: int | None = None
) -> Flow[dict[int, str]]:
    """The ``.command.err`` tail of each failed task (at most :data:`MAX_STDERR_TASKS`),
    by task id; tasks without one are left out."""
    tails: dict[int, str] = {}
    limit = STDERR_TAIL_BYTES if max_bytes is None else max_bytes
    for task in tasks[:MAX_STDERR_TASKS]:
        if task.task_id is None:
            continue
        tail = yield from task_file_tail(ctx, workflow_id, task.task_id, ".command.err", limit)
        if tail and tail.strip():
            tails[task.task_id] = tail
    return tails
