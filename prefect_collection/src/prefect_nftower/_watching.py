"""Waiting for a Tower run inside one Prefect task run, through the process's shared poller.

Status comes from `nftower.monitor.WorkflowMonitor`: all waits of a process on one API URL,
token and workspace share one poller, which checks every watched run with a few list calls
per cycle instead of one describe per run (a mapped wait over 50 runs costs about what one
wait costs). Each status change is logged and emitted once. While the run is RUNNING, its
progress artifact is refreshed from `GET /workflow/{id}/progress` at most once per
`poll_interval`, and slower when many waits share the process, so that progress reads of
all of them stay under `PROGRESS_CALLS_PER_SECOND`.

UNKNOWN is not terminal, but after `unknown_timeout` seconds it counts as final: the
`nftower.WorkflowFailedError` then starts with the core's sentence for it (the status, how
long, `unknown_timeout`). Past `timeout` the wait raises `nftower.WaitTimeoutError`. A run that
cannot be found (`nftower.RunNotFoundError`: deleted, or not visible to the token, which
Tower answers 403 like a bad token) raises that error, naming the run, once the shared poller
has looked for it a few times in a row. When the wait ends any other way than
a finished run or a Tower API error (a timeout, a task or flow cancellation, a termination
signal), the Tower run is cancelled unless `cancel_on_exit=False`; after an API error the
run keeps going, so a retry can reattach to it.

The wait is written once, as a coroutine; the sync forms run it on an event loop of their
own (`run_sync`), so sync and async waits behave the same.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ._context import run_logger
from ._guard import aguard
from ._launching import follow_run, forget_run
from ._reporting import RunReporter, counts_line, percent_done

if TYPE_CHECKING:
    from nftower import AsyncTowerClient, FollowOutcome, Workflow
    from nftower.monitor import WorkflowMonitor

    from .credentials import TowerCredentials

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_UNKNOWN_TIMEOUT",
    "PROGRESS_CALLS_PER_SECOND",
    "WaitPlan",
    "active_waits",
    "await_run",
    "progress_interval",
    "run_sync",
]

T = TypeVar("T")

DEFAULT_POLL_INTERVAL = 30.0
DEFAULT_UNKNOWN_TIMEOUT = 3600.0
#: Budget for progress reads of all waits of one process (status checks are shared anyway).
PROGRESS_CALLS_PER_SECOND = 1.0

_waits_lock = threading.Lock()
_waits = 0


@dataclass(frozen=True)
class WaitPlan:
    """What one wait asks for; bad values raise `nftower.TowerConfigError` before any call."""

    workflow_id: str
    poll_interval: float = DEFAULT_POLL_INTERVAL
    timeout: float | None = None
    unknown_timeout: float = DEFAULT_UNKNOWN_TIMEOUT
    cancel_on_exit: bool = True
    raise_on_failure: bool = True

    def __post_init__(self) -> None:
        from nftower import FollowRules, TowerConfigError

        FollowRules(self.poll_interval, self.timeout, self.unknown_timeout)  # nan, inf: refused
        if self.poll_interval <= 0:
            raise TowerConfigError(f"poll_interval must be > 0 seconds, got {self.poll_interval}")
        if self.timeout is not None and self.timeout <= 0:
            raise TowerConfigError(f"timeout must be > 0 seconds or None, got {self.timeout}")
        if self.unknown_timeout <= 0:
            raise TowerConfigError(
                f"unknown_timeout must be > 0 seconds, got {self.unknown_timeout}"
            )


def active_waits() -> int:
    """How many waits are following a run in this process right now."""
    return _waits


def progress_interval(poll_interval: float) -> float:
    """Seconds between two progress reads of one wait, given how many waits share the process.

    Example:
        >>> progress_interval(30.0)  # a lone wait reads progress once per poll interval
        30.0
    """
    return max(poll_interval, active_waits() / PROGRESS_CALLS_PER_SECOND)


@contextmanager
def _counted() -> Iterator[None]:
    global _waits
    with _waits_lock:
        _waits += 1
    try:
        yield
    finally:
        with _waits_lock:
            _waits -= 1


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from sync code, on an event loop of its own.

    In a thread without a running loop (a sync task, flow or script) the loop runs right
    here, so signals and Prefect's timeouts interrupt it and the coroutine's `finally`
    blocks run; otherwise in a helper thread with the same context variables.
    """
    if not _loop_running():  # outside the except block: no chained "no running event loop"
        return asyncio.run(coroutine)
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefect-nftower") as pool:
        return pool.submit(context.run, asyncio.run, coroutine).result()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def await_run(
    credentials: TowerCredentials, plan: WaitPlan, reporter: RunReporter | None = None
) -> Workflow:
    """Wait until the run is final, report it, and return it.

    Raises `nftower.WorkflowFailedError` for a run that did not succeed (when
    `plan.raise_on_failure`), `nftower.WaitTimeoutError` past `plan.timeout`.
    """
    from nftower import AsyncTowerClient, WorkflowStatus
    from nftower.monitor import WorkflowMonitor
    from nftower.status import Ending

    await aguard(credentials)
    config = credentials.get_config()
    monitor = WorkflowMonitor.shared(config, poll_interval=plan.poll_interval)
    async with AsyncTowerClient(config=config) as client:
        first = await client.get_workflow(plan.workflow_id)
        reporter = reporter or RunReporter.for_workflow(first, client.run_url(first))
        await reporter.achanged(first)
        follow_run(plan.workflow_id, credentials, plan.cancel_on_exit)
        workflow, reason = first, None
        if first.status is None or not first.status.is_terminal:
            outcome = await _follow(client, monitor, plan, reporter)
            workflow = outcome.workflow or first
            reason = outcome.explain() if outcome.kind is Ending.UNKNOWN else None
        forget_run(plan.workflow_id)
        succeeded = workflow.status is WorkflowStatus.SUCCEEDED
        report = None if succeeded else await client.failure_report(workflow)
    await reporter.afinished(workflow, report)  # the full report: once in the log, and artifact
    if report is not None and plan.raise_on_failure:
        # Prefect repeats an exception's message in several records (task, flow, states):
        # one line and the run page there
        error = report.to_error(brief=True)
        if reason:  # UNKNOWN too long: the core's sentence first
            error.message = f"{reason}; {error.message}"
            error.args = (error.message,)
        raise error
    return workflow


async def _follow(
    client: AsyncTowerClient, monitor: WorkflowMonitor, plan: WaitPlan, reporter: RunReporter
) -> FollowOutcome:
    """Status changes from the shared monitor until the run is final; cancel on interruption.

    When the wait ends is the core's rule (`monitor.follow`); a passed deadline becomes
    `nftower.WaitTimeoutError`, every other outcome is returned (with its run)."""
    from nftower import WaitTimeoutError
    from nftower.status import Ending

    error: BaseException | None = None
    progress = asyncio.create_task(_refresh_progress(client, plan, reporter))
    try:
        with _counted():
            outcome = await monitor.follow(
                plan.workflow_id,
                timeout=plan.timeout,
                unknown_timeout=plan.unknown_timeout,
                on_change=reporter.achanged,
            )
        if outcome.kind is Ending.DEADLINE or outcome.workflow is None:
            error = WaitTimeoutError(
                f"Tower run {plan.workflow_id} still {reporter.last_status} after "
                f"{plan.timeout:g} s",
                operation="wait",
                workflow_id=plan.workflow_id,
                last_status=reporter.last_status,
            )
            raise error
        return outcome
    except BaseException as exc:
        error = exc
        raise
    finally:
        progress.cancel()
        if error is not None and plan.cancel_on_exit and _should_cancel(error):
            await _cancel(client, plan.workflow_id, error)


async def _refresh_progress(
    client: AsyncTowerClient, plan: WaitPlan, reporter: RunReporter
) -> None:
    """Read the progress of a RUNNING run at the pace `progress_interval` allows."""
    from nftower import TowerError

    loop = asyncio.get_running_loop()
    due = loop.time() + progress_interval(plan.poll_interval)
    while True:
        await asyncio.sleep(plan.poll_interval)
        if loop.time() < due or reporter.last_status != "RUNNING":
            continue
        try:
            progress = await client.get_progress(plan.workflow_id)
        except TowerError as exc:  # progress is a nicety: the status poller decides
            run_logger().debug("Could not read the progress of %s: %s", plan.workflow_id, exc)
        else:
            if reporter.last_status == "RUNNING":  # not stale: the run did not end meanwhile
                await reporter.aprogress(percent_done(progress), counts_line(progress, "RUNNING"))
        due = loop.time() + progress_interval(plan.poll_interval)


def _should_cancel(exc: BaseException) -> bool:
    from nftower import TowerError, WaitTimeoutError

    return isinstance(exc, WaitTimeoutError) or not isinstance(exc, TowerError)


async def _cancel(client: AsyncTowerClient, workflow_id: str, reason: BaseException) -> None:
    """Cancel the run, shielded from the cancellation that is ending the wait."""
    import anyio

    why = type(reason).__name__ + (f": {reason}" if str(reason) else "")
    run_logger().warning("Cancelling Tower run %s (wait ended by %s)", workflow_id, why)
    try:
        with anyio.CancelScope(shield=True):
            await asyncio.shield(client.cancel(workflow_id))
        forget_run(workflow_id)
    except Exception as exc:
        run_logger().error("Could not cancel Tower run %s: %s", workflow_id, exc)
