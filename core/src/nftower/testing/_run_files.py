"""Emulated run files, generated from the run's state at the moment they are asked for: the
main job's ``nf-<id>.log`` (the Nextflow log), ``nf-<id>.txt`` (its console output) and
``timeline-<id>.html`` (written when the run ends), and each started task's
``.command.out`` / ``.command.err`` / ``.command.log``.

Evidence: the official schema (``DownloadWorkflowLog`` and ``DownloadWorkflowTaskLog``,
``text/plain``), tw's ``runs view download`` (the file names) and ``runs dump`` (404 = the
file is no longer available, 400 = a run launched with the Nextflow CLI, whose ``launchId``
is null).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._errors import bad_request, iso, not_found
from ._runs import Run, RunState, TaskState
from ._world import World

TASK_FILES = (".command.out", ".command.err", ".command.log")


@dataclass
class RunFileMarks:
    """Runs marked as launched from the Nextflow CLI, and files marked gone."""

    cli_runs: set[str] = field(default_factory=set)
    gone: set[tuple[str, str]] = field(default_factory=set)


def main_file(run: Run, state: RunState, name: str) -> str | None:
    """The content of one of the main job's files (``None``: no such file yet)."""
    if name == f"nf-{run.id}.log":
        return (
            "\n".join(
                f"{iso(state.last_updated)} [main] INFO  nextflow - {line}" for line in state.log
            )
            + "\n"
        )
    if name == f"nf-{run.id}.txt":
        return "\n".join(state.log) + "\n"
    if name == f"timeline-{run.id}.html" and state.is_terminal:
        return timeline(run, state)
    return None


def timeline(run: Run, state: RunState) -> str:
    """A small timeline report (one row per task)."""
    rows = "".join(
        f"<tr><td>{html.escape(t.spec.name)}</td><td>{t.status}</td>"
        f"<td>{iso(t.start) or ''}</td><td>{iso(t.complete) or ''}</td></tr>"
        for t in state.tasks
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>Timeline [{html.escape(run.run_name)}]</title></head><body>"
        f"<h1>Processes execution timeline</h1><p>Launch time: {iso(state.start) or ''}</p>"
        f"<table><tr><th>process</th><th>status</th><th>start</th><th>complete</th></tr>"
        f"{rows}</table></body></html>\n"
    )


def task_file(run: Run, task: TaskState, name: str) -> str | None:
    """The content of a started task's file (``None``: the task has not started)."""
    if task.start is None:
        return None
    out = f"[{task.spec.name}] processing in {run.task_workdir(task.index)}\n"
    err = ""
    if task.status == "FAILED":
        err = (
            f"{task.spec.process}: error while processing {task.spec.tag or 'input'}\n"
            f"ERROR: command '{task.spec.process.lower()}' exited with status {task.exit or 1}\n"
        )
    if name == ".command.out":
        return out
    if name == ".command.err":
        return err
    return out + err


class RunFilesApi:
    """``GET /workflow/{workflowId}/download`` and ``.../download/{taskId}``."""

    def __init__(self, world: World, marks: RunFileMarks) -> None:
        self.world, self.marks = world, marks

    def routes(self) -> list[Route]:
        wf = "/workflow/{workflowId}/download"
        return [
            Route(wf, self.download, methods=["GET"]),
            Route(wf + "/{taskId:int}", self.download_task, methods=["GET"]),
        ]

    def _file_name(self, request: Request) -> str:
        name = request.query_params.get("fileName")
        if not name:
            raise bad_request("Missing required query parameter 'fileName'")
        return name

    def _run(self, request: Request) -> tuple[Run, RunState]:
        raw = request.query_params.get("workspaceId")
        try:
            ctx = self.world.context(int(raw) if raw else None)
        except ValueError:
            raise bad_request(f"Invalid value for query parameter 'workspaceId': {raw!r}") from None
        run = self.world.run(ctx, request.path_params["workflowId"])
        if run.id in self.marks.cli_runs:
            raise bad_request(
                f"Workflow '{run.id}' was not launched by Tower: its files are not available"
            )
        return run, self.world.state_of(run)

    def _answer(self, run: Run, name: str, content: str | None) -> Response:
        if content is None or (run.id, name) in self.marks.gone:
            raise not_found(f"File '{name}' not found or no longer available")
        return Response(content.encode(), media_type="text/plain")

    async def download(self, request: Request) -> Response:
        name = self._file_name(request)
        with self.world.lock:
            run, state = self._run(request)
            return self._answer(run, name, main_file(run, state, name))

    async def download_task(self, request: Request) -> Response:
        name = self._file_name(request)
        task_id = request.path_params["taskId"]
        with self.world.lock:
            run, state = self._run(request)
            task = next((t for t in state.tasks if t.index + 1 == task_id), None)
            if task is None:
                raise not_found(f"Task {task_id} of workflow '{run.id}' not found")
            content = task_file(run, task, name) if name in TASK_FILES else None
            return self._answer(run, name, content)
