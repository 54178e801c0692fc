"""A run and its timeline, computed lazily from the clock on every read.

A run is a plan (tasks, outcome, durations) plus the real time it was submitted. Nothing
advances in the background: :meth:`Run.state` derives status, tasks and log lines for any
instant, so thousands of runs cost nothing while idle. Emulated seconds are real seconds
multiplied by the emulator's ``speed``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

SUBMIT_DELAY = 2.0
"""Emulated seconds a run stays SUBMITTED before it starts RUNNING."""

DEFAULT_DURATION = 20.0
"""Emulated seconds of the RUNNING phase unless ``emulator_duration`` says otherwise."""

NEXTFLOW_VERSION = "24.10.5"
OUTCOMES = ("succeed", "fail", "fail_once", "hang", "unknown", "cancel")
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
STATUSES = ("SUBMITTED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "UNKNOWN")
_IN_FLIGHT = frozenset({"SUBMITTED", "RUNNING"})


@dataclass(frozen=True)
class TaskSpec:
    """One planned task: a process and an optional tag."""

    process: str
    tag: str | None = None

    @property
    def name(self) -> str:
        return f"{self.process} ({self.tag})" if self.tag else self.process


@dataclass
class TaskState:
    """A task as seen at one instant (times are real epoch seconds)."""

    index: int
    spec: TaskSpec
    hash: str
    status: str
    submit: float
    start: float | None = None
    complete: float | None = None
    exit: int | None = None


@dataclass
class RunState:
    """Everything about a run that depends on the clock."""

    status: str
    start: float | None
    complete: float | None
    last_updated: float
    tasks: list[TaskState]
    log: list[str]
    error_message: str | None = None
    error_report: str | None = None
    failed_task: TaskState | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def is_active(self) -> bool:
        return self.status in _IN_FLIGHT


@dataclass
class Run:
    """A workflow run: identity, launch record and plan (see the module docstring)."""

    id: str
    workspace_id: int | None
    run_name: str
    session_id: str
    launch_id: str
    launch: dict[str, Any]
    repository: str
    project_name: str
    revision: str
    commit_id: str
    params: dict[str, Any]
    outcome: str
    duration: float
    speed: float
    submitted: float
    tasks: list[TaskSpec]
    owner_id: int
    user_name: str
    pipeline_id: int | None = None
    resumed: bool = False
    cached: int = 0
    label_ids: list[int] = field(default_factory=list)
    override: tuple[str, float] | None = None
    deleted: bool = False
    seq: int = 0

    # -- clock conversions -------------------------------------------------------------
    def _elapsed(self, now: float) -> float:
        return (now - self.submitted) * self.speed

    def _real(self, emulated: float) -> float:
        return self.submitted + emulated / self.speed

    @property
    def _end(self) -> float | None:
        return None if self.outcome == "hang" else SUBMIT_DELAY + self.duration

    @property
    def _natural_final(self) -> str:
        if self.outcome == "fail_once":
            return "SUCCEEDED" if self.resumed else "FAILED"
        return {"fail": "FAILED", "unknown": "UNKNOWN", "cancel": "CANCELLED"}.get(
            self.outcome, "SUCCEEDED"
        )

    def task_hash(self, index: int) -> str:
        digest = hashlib.sha1(f"{self.session_id}/{index}".encode()).hexdigest()  # noqa: S324
        return f"{digest[:2]}/{digest[2:8]}"

    def task_workdir(self, index: int) -> str:
        digest = hashlib.sha1(f"{self.session_id}/{index}".encode()).hexdigest()  # noqa: S324
        work_dir = str(self.launch.get("workDir") or "").rstrip("/")
        return f"{work_dir}/{digest[:2]}/{digest[2:32]}"

    # -- the timeline ------------------------------------------------------------------
    def state(self, now: float) -> RunState:
        """Status, tasks and log of this run at real time ``now``."""
        horizon = self._elapsed(now)
        forced = self.override
        if forced is not None:
            horizon = min(horizon, self._elapsed(forced[1]))
        end = self._end
        if forced is not None:
            status = forced[0]
        elif horizon < SUBMIT_DELAY:
            status = "SUBMITTED"
        elif end is None or horizon < end:
            status = "RUNNING"
        else:
            status = self._natural_final
        tasks = self._tasks_at(horizon)
        failed = next((t for t in tasks if t.status == "FAILED"), None)
        if status in TERMINAL:
            failed = self._settle_tasks(tasks, status, forced, failed)
        start = self._real(SUBMIT_DELAY) if horizon >= SUBMIT_DELAY else None
        if start is None and status in ("RUNNING", "UNKNOWN") and forced is not None:
            start = forced[1]
        complete: float | None = None
        if status in TERMINAL:
            complete = forced[1] if forced is not None else self._real(end or 0.0)
        moments = [self.submitted, start or 0.0, complete or 0.0]
        moments += [t.complete or t.start or t.submit for t in tasks]
        state = RunState(status, start, complete, max(moments), tasks, [], failed_task=failed)
        state.log = self._log(horizon, state)
        if status == "FAILED":
            state.error_message, state.error_report = self._failure_text(failed)
        return state

    def _tasks_at(self, horizon: float) -> list[TaskState]:
        if horizon < SUBMIT_DELAY:
            return []
        tasks: list[TaskState] = []
        cached = min(self.cached, len(self.tasks))
        for index in range(cached):
            at = self._real(SUBMIT_DELAY)
            tasks.append(
                TaskState(index, self.tasks[index], self.task_hash(index), "CACHED", at, at, at, 0)
            )
        pending = self.tasks[cached:]
        slot = self.duration / len(pending) if pending else 0.0
        last = len(pending) - 1
        for j, spec in enumerate(pending):
            submit_e = SUBMIT_DELAY + slot * j
            if horizon < submit_e:
                break
            start_e = submit_e + slot * 0.2
            end_e = SUBMIT_DELAY + slot * (j + 1)
            if j == last and self.outcome in ("hang", "unknown", "cancel"):
                end_e = math.inf
            if j == last and self._natural_final == "FAILED":
                outcome = ("FAILED", 1)
            else:
                outcome = ("COMPLETED", 0)
            index = cached + j
            task = TaskState(index, spec, self.task_hash(index), "SUBMITTED", self._real(submit_e))
            if horizon >= start_e:
                task.status, task.start = "RUNNING", self._real(start_e)
            if horizon >= end_e:
                task.status, task.exit = outcome
                task.complete = self._real(end_e)
            tasks.append(task)
        return tasks

    def _settle_tasks(
        self,
        tasks: list[TaskState],
        status: str,
        forced: tuple[str, float] | None,
        failed: TaskState | None,
    ) -> TaskState | None:
        """Give tasks still in flight when the run ended their final status."""
        at = forced[1] if forced is not None else self._real(self._end or 0.0)
        for task in tasks:
            if task.status not in _IN_FLIGHT:
                continue
            if status == "SUCCEEDED":
                task.status, task.exit = "COMPLETED", 0
            elif status == "FAILED" and failed is None:
                task.status, task.exit = "FAILED", 1
                failed = task
            else:
                task.status = "ABORTED"
            task.start = task.start or at
            task.complete = at
        return failed

    def _failure_text(self, task: TaskState | None) -> tuple[str, str]:
        if task is None:
            message = "Workflow execution failed"
            return message, message
        message = f"Process `{task.spec.name}` terminated with an error exit status (1)"
        report = "\n".join(
            [
                f"Error executing process > '{task.spec.name}'",
                "",
                "Caused by:",
                f"  {message}",
                "",
                "Command exit status:",
                "  1",
                "",
                "Work dir:",
                f"  {self.task_workdir(task.index)}",
            ]
        )
        return message, report

    def _log(self, horizon: float, state: RunState) -> list[str]:
        revision = self.revision or "main"
        lines = [
            f"N E X T F L O W  ~  version {NEXTFLOW_VERSION}",
            f"Launching `{self.repository}` [{self.run_name}] DSL2 - revision: "
            f"{self.commit_id[:10]} [{revision}]",
        ]
        if horizon >= SUBMIT_DELAY:
            lines.append(f"executor >  awsbatch ({len(self.tasks)})")
        for task in state.tasks:
            verb = "Cached" if task.status == "CACHED" else "Submitted"
            lines.append(f"[{task.hash}] {verb} process > {task.spec.name}")
        if state.status == "SUCCEEDED":
            succeeded = sum(1 for t in state.tasks if t.status == "COMPLETED")
            lines += [
                "",
                f"Completed at: {_clock(state.complete)}",
                f"Duration    : {_duration(state.start, state.complete)}",
                "CPU hours   : (a few seconds)",
                f"Succeeded   : {succeeded}",
            ]
            if self.cached:
                lines.append(f"Cached      : {min(self.cached, len(self.tasks))}")
        elif state.status == "FAILED":
            _, report = self._failure_text(state.failed_task)
            lines += ["", *("ERROR ~ " + report).splitlines()]
            lines += [
                "",
                "Tip: when you have fixed the problem you can continue the execution adding "
                "the option `-resume` to the run command line",
            ]
        elif state.status == "CANCELLED":
            aborted = sum(1 for t in state.tasks if t.status == "ABORTED")
            lines += [
                f"WARN: Killing running tasks ({aborted})",
                "Execution cancelled -- Finishing pending tasks before exit",
            ]
        return lines


def _clock(moment: float | None) -> str:
    if moment is None:
        return "-"
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%d-%b-%Y %H:%M:%S")


def _duration(start: float | None, complete: float | None) -> str:
    if start is None or complete is None:
        return "0ms"
    millis = int((complete - start) * 1000)
    return f"{millis / 1000:.1f}s" if millis >= 1000 else f"{millis}ms"
