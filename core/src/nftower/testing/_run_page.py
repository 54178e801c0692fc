"""The run page: the web UI address the client hands out for a run
(``/orgs/{org}/workspaces/{workspace}/watch/{id}``, or ``/user/{user}/watch/{id}`` for the
personal context), served as plain HTML that reloads itself while the run is active.

Like the admin API it needs no token (a browser has none), and it is neither recorded nor
rate limited. Every value written into the page is HTML-escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ._runs import Run, RunState
from ._world import World

REFRESH_SECONDS = 2
"""How often an active run's page reloads itself."""

LOG_TAIL_LINES = 40
"""How many of the last Nextflow log lines the page shows."""

RUN_PAGE_PATH = re.compile(r"^/(?:orgs/[^/]+/workspaces/[^/]+|user/[^/]+)/watch/[^/]+/?$")
"""Paths served by the run page (the API has no operation under them)."""

_TASK_STATES = ("SUBMITTED", "RUNNING", "COMPLETED", "CACHED", "FAILED", "ABORTED")
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.status{display:inline-block;padding:.15rem .6rem;border-radius:1rem;font-weight:600;
font-size:.9rem;color:#fff;background:#777}
.SUBMITTED,.RUNNING{background:#1f6fb2}.SUCCEEDED,.COMPLETED,.CACHED{background:#2d8a4e}
.FAILED{background:#c0392b}.CANCELLED,.ABORTED{background:#a66a00}.UNKNOWN{background:#777}
dl{display:grid;grid-template-columns:max-content auto;gap:.25rem 1rem;margin:1rem 0}
dt{color:#666}dd{margin:0}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd}
td:nth-child(n+3){white-space:nowrap}
progress{width:100%;height:1.2rem}pre{background:#f5f5f5;padding:.75rem;overflow-x:auto;
font-size:.85rem;white-space:pre-wrap}footer{margin-top:2rem;color:#666;font-size:.85rem}
"""


@dataclass(frozen=True)
class Progress:
    """Task counts of a run at one instant (``pending``: planned, not yet submitted)."""

    total: int
    counts: dict[str, int]

    @classmethod
    def of(cls, run: Run, state: RunState) -> Progress:
        """The counts of ``run``'s tasks by status in ``state``."""
        counts = dict.fromkeys(_TASK_STATES, 0)
        for task in state.tasks:
            counts[task.status] = counts.get(task.status, 0) + 1
        return cls(len(run.tasks), counts)

    @property
    def pending(self) -> int:
        """Planned tasks not submitted yet."""
        return max(self.total - sum(self.counts.values()), 0)

    @property
    def succeeded(self) -> int:
        """Tasks that ended well (completed or cached): what the progress bar fills."""
        return self.counts["COMPLETED"] + self.counts["CACHED"]

    def line(self) -> str:
        """``3 of 6 tasks succeeded (50%): 1 running, 2 pending, ...`` (zero counts left out)."""
        percent = round(100 * self.succeeded / self.total) if self.total else 0
        others = [
            f"{self.counts[name]} {name.lower()}"
            for name in ("CACHED", "RUNNING", "SUBMITTED", "FAILED", "ABORTED")
            if self.counts[name]
        ]
        if self.pending:
            others.append(f"{self.pending} pending")
        head = f"{self.succeeded} of {self.total} tasks succeeded ({percent}%)"
        return f"{head}: {', '.join(others)}" if others else head


def _when(moment: float | None) -> str:
    if moment is None:
        return "-"
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _seconds(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return "-"
    return f"{max(end - start, 0.0):.1f} s"


def cancel_state(run: Run, state: RunState) -> str:
    """What the page says about cancelling the run."""
    if run.override is not None and run.override[0] == "CANCELLED":
        aborted = sum(1 for t in state.tasks if t.status == "ABORTED")
        return f"Cancelled at {_when(run.override[1])} on request ({aborted} task(s) aborted)"
    if state.status == "CANCELLED":
        return f"Cancelled at {_when(state.complete)}"
    if state.is_active:
        return f"Not cancelled (to cancel it: nftower cancel {run.id})"
    return "Not cancelled"


def _context_label(world: World, run: Run) -> str:
    workspace = world.workspaces.get(run.workspace_id) if run.workspace_id is not None else None
    if workspace is None:
        return f"personal ({run.user_name})"
    org = world.orgs.get(workspace.org_id)
    return f"{org.name if org else '?'}/{workspace.name}"


def _facts(world: World, run: Run, state: RunState) -> str:
    rows = [
        ("Workflow ID", run.id),
        ("Pipeline", run.repository),
        ("Revision", run.revision or "-"),
        ("Workspace", _context_label(world, run)),
        ("Session", run.session_id),
        ("Submitted", _when(run.submitted)),
        ("Started", _when(state.start)),
        ("Completed", _when(state.complete)),
        ("Duration", _seconds(state.start, state.complete or world.clock())),
        ("Cancel", cancel_state(run, state)),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f'<dl id="facts">{items}</dl>'


def _tasks(state: RunState) -> str:
    if not state.tasks:
        return '<p id="tasks">No task submitted yet.</p>'
    rows = []
    for task in state.tasks:
        exit_status = "-" if task.exit is None else str(task.exit)
        rows.append(
            f"<tr><td>{task.index + 1}</td><td>{escape(task.spec.name)}</td>"
            f'<td><span class="status {escape(task.status)}">{escape(task.status)}</span></td>'
            f"<td>{escape(exit_status)}</td><td>{escape(_seconds(task.start, task.complete))}"
            f"</td><td><code>{escape(task.hash)}</code></td></tr>"
        )
    head = "<tr><th>#</th><th>Task</th><th>Status</th><th>Exit</th><th>Time</th><th>Hash</th></tr>"
    return f'<table id="tasks"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def render(world: World, run: Run, state: RunState) -> str:
    """The whole page of ``run`` as it is in ``state``."""
    progress = Progress.of(run, state)
    refresh = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if state.is_active else ""
    error = ""
    if state.error_report:
        error = f'<h2>Error</h2><pre id="error">{escape(state.error_report)}</pre>'
    tail = "\n".join(state.log[-LOG_TAIL_LINES:])
    note = (
        f"This page reloads every {REFRESH_SECONDS} s while the run is active."
        if state.is_active
        else "The run has ended; this page no longer reloads."
    )
    status = escape(state.status)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(run.run_name)} · {status} · Tower emulator</title>{refresh}"
        f"<style>{_STYLE}</style></head><body>"
        f'<header><h1 id="run-name">{escape(run.run_name)}</h1>'
        f'<span id="status" class="status {status}">{status}</span></header>'
        f"{_facts(world, run, state)}"
        f'<h2>Progress</h2><progress id="progress-bar" max="{progress.total}" '
        f'value="{progress.succeeded}"></progress>'
        f'<p id="progress">{escape(progress.line())}</p>'
        f"<h2>Tasks</h2>{_tasks(state)}{error}"
        f'<h2>Nextflow log (last {LOG_TAIL_LINES} lines)</h2><pre id="log">{escape(tail)}</pre>'
        f"<footer>Tower emulator (nftower.testing). {escape(note)}</footer></body></html>"
    )


def _not_found(what: str) -> Response:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Run not found'
        f"</title></head><body><h1>Run not found</h1><p>{escape(what)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=404)


def _belongs(world: World, run: Run, params: dict[str, str]) -> bool:
    """Whether the run lives in the context the path names (org/workspace or user)."""
    if "user" in params:
        return run.workspace_id is None and params["user"] == run.user_name
    workspace = world.workspaces.get(run.workspace_id) if run.workspace_id is not None else None
    org = world.orgs.get(workspace.org_id) if workspace else None
    return (
        org is not None
        and workspace is not None
        and (params["org"], params["workspace"]) == (org.name, workspace.name)
    )


def run_page_routes(world: World) -> list[Route]:
    """The run page routes, bound to one emulator's world."""

    async def page(request: Request) -> Response:
        params = dict(request.path_params)
        workflow_id = params.pop("workflowId")
        with world.lock:
            run = world.runs.get(workflow_id)
            if run is None or run.deleted or not _belongs(world, run, params):
                return _not_found(f"No run {workflow_id} at {request.url.path}")
            html = render(world, run, world.state_of(run))
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    watch = "/watch/{workflowId}"
    return [
        Route("/orgs/{org}/workspaces/{workspace}" + watch, page, methods=["GET"]),
        Route("/user/{user}" + watch, page, methods=["GET"]),
    ]
