"""Following a run until it ends: a live rich display on a terminal, plain lines otherwise.

Progress goes to stderr, so stdout keeps only the result (``--json`` output stays parseable).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from nftower import ServerError, TowerConnectionError

from ._errors import CommandError
from ._render import progress_line, task_counts

if TYPE_CHECKING:
    from nftower import TowerClient, Workflow

#: Failed status checks in a row (each already retried by the client) before giving up.
TOLERATED_FAILURES = 3


class Display(Protocol):
    """Shows each poll's view of a run."""

    def show(self, workflow: Workflow) -> None: ...


class PlainDisplay:
    """One line per change of status or task counts, never one per poll.

    Example:
        >>> import io
        >>> from nftower import Workflow
        >>> out = io.StringIO()
        >>> display = PlainDisplay(out)
        >>> wf = Workflow(id="abc", run_name="nightly", status="RUNNING")
        >>> display.show(wf); display.show(wf)
        >>> print(out.getvalue(), end="")
        nightly (abc): RUNNING, tasks 0 succeeded, 0 running, 0 failed of 0
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last: str | None = None

    def show(self, workflow: Workflow) -> None:
        line = progress_line(workflow)
        if line != self._last:
            print(line, file=self.stream, flush=True)
            self._last = line


class LiveDisplay(AbstractContextManager["LiveDisplay"]):
    """A rich live panel: run name, status, a bar of finished tasks, counts and elapsed time."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=stream)
        self.live = Live(console=self.console, refresh_per_second=4, transient=False)
        self.started = time.monotonic()

    def __enter__(self) -> LiveDisplay:
        self.live.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.live.__exit__(*exc_info)

    def show(self, workflow: Workflow) -> None:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        counts = task_counts(workflow.progress)
        finished = counts["succeeded"] + counts["failed"] + counts["cached"]
        status = str(workflow.status) if workflow.status is not None else "UNKNOWN"
        colour = {"SUCCEEDED": "green", "FAILED": "red", "CANCELLED": "yellow"}.get(status, "cyan")
        title = Text.assemble(
            (workflow.run_name or "?", "bold"), f" ({workflow.id})  ", (status, f"bold {colour}")
        )
        bar = Table.grid(padding=(0, 1))
        bar.add_row(
            ProgressBar(total=max(counts["total"], 1), completed=finished, width=40),
            f"{finished}/{counts['total']} tasks",
            f"{int(time.monotonic() - self.started)}s",
        )
        detail = Text(
            f"{counts['succeeded']} succeeded  {counts['running']} running  "
            f"{counts['failed']} failed  {counts['cached']} cached"
        )
        self.live.update(Group(title, bar, detail), refresh=True)


def open_display(stream: TextIO | None = None) -> AbstractContextManager[Display]:
    """A live display when ``stream`` (default stderr) is a terminal, else plain lines."""
    out = stream if stream is not None else sys.stderr
    if out.isatty():
        return LiveDisplay(out)
    return _Plain(PlainDisplay(out))


class _Plain(AbstractContextManager[Display]):
    def __init__(self, display: PlainDisplay) -> None:
        self.display = display

    def __enter__(self) -> Display:
        return self.display

    def __exit__(self, *exc_info: Any) -> None:
        return None


def follow(
    client: TowerClient,
    workflow_id: str,
    display: Display,
    *,
    poll_interval: float,
    timeout: float | None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Workflow:
    """Poll the run until SUCCEEDED, FAILED or CANCELLED, showing every poll; return it."""
    deadline = None if timeout is None else clock() + timeout
    failures = 0
    while True:
        try:
            workflow = client.get_workflow(workflow_id)
        except (TowerConnectionError, ServerError):
            failures += 1
            if failures >= TOLERATED_FAILURES:
                raise
        else:
            failures = 0
            display.show(workflow)
            if workflow.status is not None and workflow.status.is_terminal:
                return workflow
        if deadline is not None and clock() >= deadline:
            raise CommandError(f"Run {workflow_id} did not finish within {timeout:g} s")
        sleep(poll_interval)
