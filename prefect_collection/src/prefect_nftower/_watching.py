"""Waiting for a Tower run inside one Prefect task run.

The loop polls `get_workflow` (never cached), logs and emits only status changes, feeds
the progress artifact, and ends on a terminal status. UNKNOWN is not terminal, but after
`unknown_timeout` seconds it counts as final. Past `timeout` it raises
`nftower.WaitTimeoutError`. When the wait ends any other way than a finished run or a Tower
API error (a timeout, a task or flow cancellation, a termination signal), the Tower run is
cancelled unless `cancel_on_exit=False`; after an API error the run keeps going, so a retry
can reattach to it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._context import run_logger
from ._launching import forget_run

if TYPE_CHECKING:
    from nftower import AsyncTowerClient, FailureReport, TowerClient, Workflow

    from ._reporting import RunReporter

__all__ = ["DEFAULT_POLL_INTERVAL", "DEFAULT_UNKNOWN_TIMEOUT", "WaitPlan", "await_run", "wait_run"]

DEFAULT_POLL_INTERVAL = 30.0
DEFAULT_UNKNOWN_TIMEOUT = 3600.0


@dataclass
class WaitPlan:
    """Timing of one wait: poll interval, overall timeout, patience with UNKNOWN."""

    workflow_id: str
    poll_interval: float = DEFAULT_POLL_INTERVAL
    timeout: float | None = None
    unknown_timeout: float = DEFAULT_UNKNOWN_TIMEOUT
    started: float = field(default_factory=time.monotonic)
    unknown_since: float | None = None
    last_status: str | None = None

    def __post_init__(self) -> None:
        from nftower import TowerConfigError

        if self.poll_interval <= 0:
            raise TowerConfigError(f"poll_interval must be > 0 seconds, got {self.poll_interval}")
        if self.timeout is not None and self.timeout <= 0:
            raise TowerConfigError(f"timeout must be > 0 seconds or None, got {self.timeout}")

    def is_final(self, workflow: Workflow) -> bool:
        """Terminal, or UNKNOWN for longer than `unknown_timeout`."""
        from nftower import WorkflowStatus

        status = workflow.status
        self.last_status = status.value if status is not None else None
        if status is not None and status.is_terminal:
            return True
        if status is not WorkflowStatus.UNKNOWN:
            self.unknown_since = None
            return False
        now = time.monotonic()
        if self.unknown_since is None:
            self.unknown_since = now
        return now - self.unknown_since >= self.unknown_timeout

    def next_sleep(self) -> float:
        """Seconds until the next poll; raises `WaitTimeoutError` past the timeout."""
        from nftower import WaitTimeoutError

        if self.timeout is None:
            return self.poll_interval
        remaining = self.timeout - (time.monotonic() - self.started)
        if remaining <= 0:
            raise WaitTimeoutError(
                f"Tower run {self.workflow_id} still {self.last_status} after {self.timeout:g} s",
                operation="wait",
                workflow_id=self.workflow_id,
                last_status=self.last_status,
            )
        return min(self.poll_interval, remaining)


def _should_cancel(exc: BaseException | None) -> bool:
    from nftower import TowerError, WaitTimeoutError

    if exc is None:
        return False
    return isinstance(exc, WaitTimeoutError) or not isinstance(exc, TowerError)


def _cancel_reason(exc: BaseException) -> str:
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")


def wait_run(
    client: TowerClient,
    plan: WaitPlan,
    reporter: RunReporter,
    *,
    cancel_on_exit: bool = True,
) -> Workflow:
    """Poll until the run is final; cancel it if the wait is interrupted."""
    error: BaseException | None = None
    try:
        while True:
            workflow = client.get_workflow(plan.workflow_id)
            reporter.observe(workflow)
            if plan.is_final(workflow):
                forget_run(plan.workflow_id)
                return workflow
            time.sleep(plan.next_sleep())
    except BaseException as exc:
        error = exc
        raise
    finally:
        if cancel_on_exit and error is not None and _should_cancel(error):
            run_logger().warning(
                "Cancelling Tower run %s (wait ended by %s)",
                plan.workflow_id,
                _cancel_reason(error),
            )
            try:
                client.cancel(plan.workflow_id)
                forget_run(plan.workflow_id)
            except Exception as cancel_error:
                run_logger().error(
                    "Could not cancel Tower run %s: %s", plan.workflow_id, cancel_error
                )


async def await_run(
    client: AsyncTowerClient,
    plan: WaitPlan,
    reporter: RunReporter,
    *,
    cancel_on_exit: bool = True,
) -> Workflow:
    """Async twin of `wait_run`."""
    error: BaseException | None = None
    try:
        while True:
            workflow = await client.get_workflow(plan.workflow_id)
            await reporter.aobserve(workflow)
            if plan.is_final(workflow):
                forget_run(plan.workflow_id)
                return workflow
            await asyncio.sleep(plan.next_sleep())
    except BaseException as exc:
        error = exc
        raise
    finally:
        if cancel_on_exit and error is not None and _should_cancel(error):
            run_logger().warning(
                "Cancelling Tower run %s (wait ended by %s)",
                plan.workflow_id,
                _cancel_reason(error),
            )
            try:
                await asyncio.shield(client.cancel(plan.workflow_id))
                forget_run(plan.workflow_id)
            except Exception as cancel_error:
                run_logger().error(
                    "Could not cancel Tower run %s: %s", plan.workflow_id, cancel_error
                )


def failure_of(client: TowerClient, workflow: Workflow) -> FailureReport | None:
    """The failure report of a run that did not succeed (None when it succeeded)."""
    from nftower import WorkflowStatus

    if workflow.status is WorkflowStatus.SUCCEEDED:
        return None
    return client.failure_report(workflow)


async def afailure_of(client: AsyncTowerClient, workflow: Workflow) -> FailureReport | None:
    """Async twin of `failure_of`."""
    from nftower import WorkflowStatus

    if workflow.status is WorkflowStatus.SUCCEEDED:
        return None
    return await client.failure_report(workflow)
