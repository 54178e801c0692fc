"""Failure reports and run page URLs (pure functions, no I/O)."""

from __future__ import annotations

from ._exceptions import WorkflowFailedError
from ._models import Task, TowerModel, Workflow, WorkflowStatus

__all__ = ["FailureReport", "project_name", "run_url"]

_MAX_TASKS_IN_SUMMARY = 10


def run_url(web_url: str, workflow: Workflow) -> str | None:
    """The run page of ``workflow`` in the web UI (org or personal form).

    Example:
        >>> wf = Workflow(id="4Bi5xBK6E2Nbhj", org_name="acme", workspace_name="prod")
        >>> run_url("https://cloud.seqera.io", wf)
        'https://cloud.seqera.io/orgs/acme/workspaces/prod/watch/4Bi5xBK6E2Nbhj'
        >>> run_url("https://cloud.seqera.io", Workflow(id="abc", user_name="ada"))
        'https://cloud.seqera.io/user/ada/watch/abc'
    """
    if not workflow.id:
        return None
    base = web_url.rstrip("/")
    if workflow.org_name and workflow.workspace_name:
        org, workspace = workflow.org_name, workflow.workspace_name
        return f"{base}/orgs/{org}/workspaces/{workspace}/watch/{workflow.id}"
    if workflow.user_name:
        return f"{base}/user/{workflow.user_name}/watch/{workflow.id}"
    return None


def project_name(repository: str) -> str:
    """The project name Nextflow gives a repository: its path without host and ``.git``
    (what Tower shows as a run's ``projectName``), for a run not described yet.

    Example:
        >>> project_name("https://github.com/nf-core/rnaseq.git")
        'nf-core/rnaseq'
        >>> project_name("git@gitlab.com:acme/genomics/align"), project_name("nextflow-io/hello")
        ('acme/genomics/align', 'nextflow-io/hello')
    """
    path = repository.strip().rstrip("/").removesuffix(".git")
    if "://" in path:
        path = path.split("://", 1)[1].partition("/")[2]
    elif path.startswith("git@"):
        path = path.partition(":")[2]
    return path


class FailureReport(TowerModel):
    """Why a run failed: error message, exit status, failed tasks, log tail and run URL.

    Example:
        >>> report = FailureReport(workflow_id="abc", run_name="nightly", status="FAILED",
        ...                        error_message="Process FOO failed", exit_status=1)
        >>> print(report.summary().splitlines()[0])
        Run nightly (abc) ended FAILED, exit status 1: Process FOO failed
        >>> type(report.to_error()).__name__
        'WorkflowFailedError'
    """

    workflow_id: str | None = None
    run_name: str | None = None
    status: WorkflowStatus | None = None
    error_message: str | None = None
    error_report: str | None = None
    exit_status: int | None = None
    failed_tasks: list[Task] = []
    log_tail: list[str] = []
    run_url: str | None = None
    task_stderr: dict[int, str] = {}

    def summary(self) -> str:
        """Plain-text summary for task logs."""
        status = self.status.value if self.status is not None else "UNKNOWN"
        head = f"Run {self.run_name or '?'} ({self.workflow_id or '?'}) ended {status}"
        if self.exit_status is not None:
            head += f", exit status {self.exit_status}"
        if self.error_message:
            head += f": {self.error_message}"
        lines = [head]
        if self.run_url:
            lines.append(f"Run page: {self.run_url}")
        if self.failed_tasks:
            lines.append(f"Failed tasks ({len(self.failed_tasks)}):")
            for task in self.failed_tasks[:_MAX_TASKS_IN_SUMMARY]:
                lines.append(
                    f"  - {task.name or task.process or task.task_id}: exit {task.exit_code}, "
                    f"workdir {task.workdir or '?'}"
                )
                stderr = self.task_stderr.get(task.task_id or -1)
                if stderr:
                    lines.append("    .command.err (tail):")
                    lines.extend(f"      {line}" for line in stderr.rstrip().splitlines())
            hidden = len(self.failed_tasks) - _MAX_TASKS_IN_SUMMARY
            if hidden > 0:
                lines.append(f"  ... and {hidden} more")
        if self.error_report and self.error_report != self.error_message:
            lines.append("Error report:")
            lines.extend(f"  {line}" for line in self.error_report.splitlines()[-20:])
        if self.log_tail:
            lines.append(f"Nextflow log (last {len(self.log_tail)} lines):")
            lines.extend(f"  {line}" for line in self.log_tail)
        return "\n".join(lines)

    def headline(self) -> str:
        """One line saying how the run ended, then its run page: for exception messages that
        orchestrators repeat in several log records (the full :meth:`summary` goes once to
        the log and the run's summary artifact).

        Example:
            >>> report = FailureReport(workflow_id="abc", run_name="nightly", status="FAILED",
            ...                        error_message="Process FOO failed\\nmore", exit_status=1,
            ...                        run_url="https://tower.example/watch/abc")
            >>> print(report.headline())
            Run nightly (abc) ended FAILED, exit status 1: Process FOO failed
            Run page: https://tower.example/watch/abc
        """
        status = self.status.value if self.status is not None else "UNKNOWN"
        line = f"Run {self.run_name or '?'} ({self.workflow_id or '?'}) ended {status}"
        if self.exit_status is not None:
            line += f", exit status {self.exit_status}"
        first = (self.error_message or "").strip().splitlines()
        if first:
            line += f": {first[0][:300]}"
        if self.failed_tasks:
            names = [str(t.name or t.process or t.task_id) for t in self.failed_tasks[:3]]
            more = f" and {len(self.failed_tasks) - 3} more" if len(self.failed_tasks) > 3 else ""
            line += f"; failed tasks: {', '.join(names)}{more}"
        return line + (f"\nRun page: {self.run_url}" if self.run_url else "")

    def to_error(self, *, brief: bool = False) -> WorkflowFailedError:
        """The :class:`WorkflowFailedError` to raise for this run: its message is the
        :meth:`summary`, or with ``brief=True`` the :meth:`headline`."""
        return WorkflowFailedError(
            self.headline() if brief else self.summary(),
            workflow_id=self.workflow_id,
            status=self.status.value if self.status is not None else None,
            run_url=self.run_url,
            error_message=self.error_message,
            exit_status=self.exit_status,
            failed_tasks=self.failed_tasks,
        )


def build_failure_report(
    workflow: Workflow,
    failed_tasks: list[Task],
    log_tail: list[str],
    url: str | None,
    task_stderr: dict[int, str] | None = None,
) -> FailureReport:
    """Assemble a :class:`FailureReport` from what the flow fetched."""
    return FailureReport(
        workflow_id=workflow.id,
        run_name=workflow.run_name,
        status=workflow.status,
        error_message=workflow.error_message
        or (workflow.job_info.message if workflow.job_info else None),
        error_report=workflow.error_report,
        exit_status=workflow.exit_status,
        failed_tasks=failed_tasks,
        log_tail=log_tail,
        run_url=url,
        task_stderr=task_stderr or {},
    )
