"""What a Tower run shows in Prefect: run-logger lines, artifacts and events.

One `RunReporter` follows one Tower run: a link artifact and a `tower.run.launched`
event at launch, a `tower.run.<status>` event and one log line per status change,
a progress artifact fed from Tower's task counts, and a markdown summary at the end.
Artifacts need a flow or task run; events go out wherever Prefect can send them.
Reporting never fails the run: a Prefect API hiccup is logged and skipped.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ._context import current_flow_run_labels, in_run_context, run_logger

if TYPE_CHECKING:
    from nftower import FailureReport, Progress, RunHandle, Workflow

__all__ = [
    "RunReporter",
    "artifact_key",
    "counts_line",
    "percent_done",
    "progress_percent",
    "summary_markdown",
    "task_counts",
]

EVENT_PREFIX = "tower.run"
_KEY_CHARS = re.compile(r"[^a-z0-9]+")


def artifact_key(kind: str, name: str | None, flow: str | None = None) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes) for one pipeline of one flow,
    so that two flows running the same pipeline keep artifact histories of their own.

    Example:
        >>> artifact_key("run", "nf-core/rnaseq", flow="nightly")
        'nftower-run-nightly-nf-core-rnaseq'
        >>> artifact_key("run", "nf-core/rnaseq")
        'nftower-run-nf-core-rnaseq'
    """
    parts = [flow, name or "workflow"] if flow else [name or "workflow"]
    slug = _KEY_CHARS.sub("-", "-".join(parts).lower()).strip("-") or "workflow"
    return f"nftower-{kind}-{slug}"[:120].rstrip("-")


def _status(workflow: Workflow) -> str:
    return workflow.status.value if workflow.status is not None else "UNKNOWN"


_COUNTED = ("pending", "submitted", "running", "cached", "succeeded", "failed", "aborted")


def task_counts(progress: Progress | None) -> dict[str, int]:
    """Task counts by state from Tower's progress (empty when Tower sent none)."""
    load = progress.workflow_progress if progress is not None else None
    if load is None:
        return {}
    counts = {name: getattr(load, name) for name in _COUNTED}
    return {name: value for name, value in counts.items() if isinstance(value, int)}


def percent_done(progress: Progress | None) -> float:
    """Share of the run's tasks that completed (succeeded or cached), 0-100: a failed or
    aborted task never counts as done, so a FAILED run does not show 100 %.

    Example:
        >>> from nftower import Progress
        >>> load = {"workflowProgress": {"succeeded": 1, "cached": 1, "failed": 1, "running": 1}}
        >>> percent_done(Progress.model_validate(load))
        50.0
    """
    from nftower import TaskCounts

    counts = TaskCounts.of(progress)
    if counts is None or not counts.total:
        return 0.0
    return round(100.0 * (counts.succeeded + counts.cached) / counts.total, 1)


def counts_line(progress: Progress | None, status: str | None = None) -> str:
    """The status and the task counts as the core writes them (``nftower.TaskCounts``).

    Example:
        >>> from nftower import Progress
        >>> load = {"workflowProgress": {"succeeded": 3, "running": 2, "failed": 1}}
        >>> counts_line(Progress.model_validate(load), "RUNNING")
        'RUNNING: 3 succeeded, 2 running, 1 failed of 6 tasks'
    """
    from nftower import TaskCounts

    counts = TaskCounts.of(progress)
    line = str(counts) if counts is not None else "no task counts yet"
    return f"{status}: {line}" if status else line


def progress_percent(workflow: Workflow) -> float | None:
    """Progress shown for a run record, from its task counts; a SUCCEEDED record without
    counts shows 100, any other record without counts shows nothing (None)."""
    if task_counts(workflow.progress):
        return percent_done(workflow.progress)
    if workflow.status is not None and workflow.status.value == "SUCCEEDED":
        return 100.0
    return None


def _duration(workflow: Workflow) -> str:
    millis = workflow.duration
    if millis is None or millis <= 0:
        return "-"
    minutes, seconds = divmod(millis // 1000, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s" if hours else f"{minutes}m {seconds:02d}s"


def summary_markdown(
    workflow: Workflow, run_url: str | None, report: FailureReport | None = None
) -> str:
    """The end-of-run markdown: status, duration, task counts and failed tasks."""
    name = workflow.run_name or workflow.id
    link = f"[{name}]({run_url})" if run_url else f"`{name}`"
    lines = [
        f"### Tower run {link}",
        "",
        "| | |",
        "|---|---|",
        f"| Status | **{_status(workflow)}** |",
        f"| Pipeline | {workflow.project_name or '-'} |",
        f"| Workflow ID | `{workflow.id}` |",
        f"| Duration | {_duration(workflow)} |",
    ]
    counts = task_counts(workflow.progress)
    if counts:
        shown = ", ".join(f"{count} {state}" for state, count in counts.items() if count)
        lines.append(f"| Tasks | {shown or 'none'} |")
    if workflow.exit_status is not None:
        lines.append(f"| Exit status | {workflow.exit_status} |")
    if workflow.error_message:
        lines += ["", "**Error:**", "", "```", workflow.error_message.strip(), "```"]
    failed = list(report.failed_tasks) if report is not None else []
    if failed:
        lines += ["", "**Failed tasks**", "", "| Task | Exit | Work dir |", "|---|---|---|"]
        for task in failed:
            lines.append(
                f"| {task.name or task.process or '-'} | {task.exit_code} | {task.workdir or '-'} |"
            )
    if report is not None:
        lines += failure_details(report)
    return "\n".join(lines) + "\n"


def failure_details(report: FailureReport) -> list[str]:
    """Markdown lines: each failed task's ``.command.err`` tail, then the Nextflow log tail."""
    lines: list[str] = []
    for task in report.failed_tasks:
        stderr = report.task_stderr.get(task.task_id or -1)
        if stderr:
            name = task.name or task.process or task.task_id
            lines += ["", f"**{name}: `.command.err`**", "", "```", stderr.rstrip(), "```"]
    if report.log_tail:
        lines += ["", "**Nextflow log (last lines)**", "", "```", *report.log_tail, "```"]
    return lines


@dataclass
class RunReporter:
    """Logs, artifacts and events of one Tower run."""

    workflow_id: str
    run_url: str | None = None
    run_name: str | None = None
    pipeline: str | None = None
    workspace: str | None = None
    last_status: str | None = None
    _progress_id: UUID | None = field(default=None, repr=False)
    _last_shown: tuple[float, str] | None = field(default=None, repr=False)
    # status changes and the progress reader of one wait update the artifact in turn
    _progress_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @classmethod
    def for_workflow(cls, workflow: Workflow, run_url: str | None) -> RunReporter:
        """A reporter filled from a workflow's description."""
        workspace = None
        if workflow.org_name and workflow.workspace_name:
            workspace = f"{workflow.org_name}/{workflow.workspace_name}"
        return cls(
            workflow_id=str(workflow.id),
            run_url=run_url,
            run_name=workflow.run_name,
            pipeline=workflow.project_name,
            workspace=workspace,
        )

    @classmethod
    def for_launch(
        cls, handle: RunHandle, run_url: str, workspace: tuple[str, str] | None
    ) -> RunReporter:
        """A reporter for a run just launched, from what the launch knows (no describe):
        its project name is the one Nextflow gives the repository launched."""
        from nftower._reports import project_name

        return cls(
            workflow_id=handle.workflow_id,
            run_url=run_url,
            run_name=handle.run_name,
            pipeline=project_name(handle.repository) if handle.repository else None,
            workspace="/".join(workspace) if workspace else None,
        )

    @property
    def _name(self) -> str:
        return self.run_name or self.workflow_id

    def _key(self, kind: str) -> str:
        flow, _ = current_flow_run_labels()
        return artifact_key(kind, self.pipeline, flow)

    # events -----------------------------------------------------------------------------

    def resource(self) -> dict[str, str]:
        """The Prefect resource describing the Tower run."""
        resource = {
            "prefect.resource.id": f"{EVENT_PREFIX}.{self.workflow_id}",
            "prefect.resource.name": self.run_name or self.workflow_id,
            "nftower.workflow.id": self.workflow_id,
        }
        if self.workspace:
            resource["nftower.workspace"] = self.workspace
        if self.run_url:
            resource["nftower.run-url"] = self.run_url
        if self.pipeline:
            resource["nftower.pipeline"] = self.pipeline
        return resource

    def emit(self, name: str, payload: dict[str, Any]) -> None:
        """Emit `tower.run.<name>` with the run as resource (best effort)."""
        from prefect.events import emit_event

        try:
            emit_event(f"{EVENT_PREFIX}.{name}", resource=self.resource(), payload=payload)
        except Exception as exc:  # reporting never fails the run
            run_logger().warning("Could not emit event %s.%s: %s", EVENT_PREFIX, name, exc)

    def _state_payload(self, workflow: Workflow) -> dict[str, Any]:
        payload: dict[str, Any] = {"status": _status(workflow), "run_name": workflow.run_name}
        if workflow.exit_status is not None:
            payload["exit_status"] = workflow.exit_status
        if workflow.error_message:
            payload["error_message"] = workflow.error_message
        counts = task_counts(workflow.progress)
        if counts:
            payload["tasks"] = counts
        return payload

    # launch -----------------------------------------------------------------------------

    async def alaunched(self, action: str) -> None:
        """Log the run URL, emit the launched event and create the link artifact."""
        where = f": {self.run_url}" if self.run_url else ""
        run_logger().info(
            "Tower run %s %s (workflow %s)%s", self.run_name or "-", action, self.workflow_id, where
        )
        if action != "reattached":
            self.emit("launched", {"action": action, "run_name": self.run_name})
        if not (self.run_url and in_run_context()):
            return
        from prefect.artifacts import acreate_link_artifact

        await _abest_effort(
            acreate_link_artifact(
                link=self.run_url,
                link_text=f"Tower run {self._name}",
                key=self._key("run"),
                description=f"Tower run page of workflow {self.workflow_id}",
            )
        )

    # status and progress ---------------------------------------------------------------

    def note_status(self, workflow: Workflow) -> bool:
        """Log and emit a status change (True); the same status again is ignored (False)."""
        status = _status(workflow)
        if status == self.last_status:
            return False
        previous, self.last_status = self.last_status, status
        logger = run_logger()
        if previous is None:
            logger.info("Tower run %s is %s", self.workflow_id, status)
        else:
            logger.info("Tower run %s: %s -> %s", self.workflow_id, previous, status)
        self.emit(status.lower(), self._state_payload(workflow))
        return True

    async def achanged(self, workflow: Workflow) -> None:
        """A new record of the run: note its status, show its progress if it carries one."""
        self.note_status(workflow)
        percent = progress_percent(workflow)
        if percent is not None:
            await self.aprogress(percent, counts_line(workflow.progress, _status(workflow)))

    async def aprogress(self, percent: float, counts: str | None = None) -> None:
        """Create or update the progress artifact (inside a run), only when what it shows (the
        share done and the task counts) changed: not on every poll."""
        if not in_run_context():
            return
        from prefect.artifacts import acreate_progress_artifact, aupdate_progress_artifact

        description = f"Tower run {self._name}" + (f": {counts}" if counts else "")
        async with self._progress_lock:
            if (percent, description) == self._last_shown:
                return
            self._last_shown = (percent, description)
            if self._progress_id is None:
                self._progress_id = await _abest_effort(
                    acreate_progress_artifact(
                        percent, key=self._key("progress"), description=description
                    )
                )
            else:
                await _abest_effort(
                    aupdate_progress_artifact(self._progress_id, percent, description=description)
                )

    # end --------------------------------------------------------------------------------

    async def afinished(self, workflow: Workflow, report: FailureReport | None = None) -> None:
        """Log the failure report (if any) and create the markdown summary."""
        if report is not None:
            run_logger().error("%s", report.summary())
        if not in_run_context():
            return
        from prefect.artifacts import acreate_markdown_artifact

        await _abest_effort(
            acreate_markdown_artifact(
                markdown=summary_markdown(workflow, self.run_url, report),
                key=self._key("summary"),
                description=f"Tower run {self._name}: {_status(workflow)}",
            )
        )


async def _abest_effort(awaitable: Any) -> Any:
    try:
        return await awaitable
    except Exception as exc:  # reporting never fails the run
        run_logger().warning("Could not update a Prefect artifact: %s", exc)
        return None
