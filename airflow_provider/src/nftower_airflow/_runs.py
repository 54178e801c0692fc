"""Helpers shared by the operator, the sensor and the trigger: the hook, failure reports,
cancel, XCom, deadlines. Importing this module imports no ``nftower`` code (cheap DAG parsing).
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from nftower_airflow.exceptions import TowerRunFailedError
from nftower_airflow.links import RUN_URL_KEY, WORKFLOW_ID_KEY

if TYPE_CHECKING:
    from nftower import TowerClient, TowerConfig, Workflow

    from nftower_airflow.hooks import TowerHook


class TaskLog(Protocol):
    """The logger methods used here (stdlib and Airflow's structlog loggers both fit)."""

    def info(self, msg: Any, /, *args: Any) -> Any: ...
    def warning(self, msg: Any, /, *args: Any) -> Any: ...
    def error(self, msg: Any, /, *args: Any) -> Any: ...


#: the best-effort cancel (``on_kill``, timeouts): seconds per request, and at most one retry
CANCEL_TIMEOUT = 10.0
CANCEL_RETRIES = 1
#: hard bound of the cancel in the triggerer (below ``[triggerer] on_kill_timeout``, 30 s)
CANCEL_DEADLINE = 25.0


class TowerHookMixin:
    """``self.hook``: a ``TowerHook`` for ``tower_conn_id`` and ``workspace``, built on first use
    (never at DAG parse time)."""

    tower_conn_id: str
    workspace: str | int | None

    @cached_property
    def hook(self) -> TowerHook:
        """The hook for this task's connection and workspace."""
        from nftower_airflow.hooks import TowerHook

        return TowerHook(self.tower_conn_id, workspace=self.workspace)


def status_text(status: Any) -> str:
    """``WorkflowStatus`` (or None) as its plain string value (``nftower.status.name``)."""
    from nftower.status import name

    return name(status)


def seconds(value: float | timedelta | None) -> float | None:
    """Accept seconds or a ``timedelta`` (None stays None).

    Example:
        >>> seconds(timedelta(minutes=2)), seconds(5), seconds(None)
        (120.0, 5.0, None)
    """
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def check_wait_values(poll_interval: float, unknown_timeout: float) -> None:
    """Refuse NaN, infinite or negative wait values when the DAG is parsed
    (``nftower.TowerConfigError``), without loading the client.

    Example:
        >>> check_wait_values(60, 3600)
        >>> check_wait_values(float("nan"), 3600)
        Traceback (most recent call last):
        ...
        nftower.TowerConfigError: poll_interval must be a finite number of seconds, got nan
    """
    from nftower import TowerConfigError
    from nftower.status import check_seconds

    try:
        check_seconds("poll_interval", poll_interval)
        check_seconds("unknown_timeout", unknown_timeout, allow_zero=True)
    except ValueError as exc:
        raise TowerConfigError(str(exc)) from None


def push_run(context: Any, workflow_id: str, run_url: str | None) -> None:
    """Push ``workflow_id`` and ``run_url`` to XCom (read by the extra link and downstream)."""
    ti = context["ti"]
    ti.xcom_push(key=WORKFLOW_ID_KEY, value=workflow_id)
    if run_url:
        ti.xcom_push(key=RUN_URL_KEY, value=run_url)


def pull_run_url(context: Any, task_id: str) -> str | None:
    """The ``run_url`` this task instance (map index included) pushed earlier, if any."""
    ti = context["ti"]
    map_index = getattr(ti, "map_index", -1)
    url = ti.xcom_pull(
        task_ids=task_id,
        key=RUN_URL_KEY,
        map_indexes=map_index if map_index is not None and map_index >= 0 else None,
    )
    return str(url) if url else None


def execution_deadline(context: Any, execution_timeout: timedelta | None) -> float | None:
    """Epoch seconds at which the task's ``execution_timeout`` expires (None if unset)."""
    if execution_timeout is None:
        return None
    start = getattr(context.get("ti"), "start_date", None)
    started = start.timestamp() if start is not None else time.time()
    return started + execution_timeout.total_seconds()


def raise_for_failure(
    client: TowerClient, workflow: Workflow, log: TaskLog, *, reason: str | None = None
) -> NoReturn:
    """Log why the run failed (reason, failed tasks, Nextflow log tail), then raise.

    The exception text names the status, the run URL, the error message, the exit status and
    the failed tasks (name, exit code, work dir); ``reason`` (e.g. "stayed UNKNOWN for 3600 s")
    comes first when given.
    """
    report = client.failure_report(workflow)
    lead = f"{reason}\n" if reason else ""
    log.error("Tower run failed:\n%s%s", lead, report.summary())
    # the exception repeats the summary without the log tail already in the task log
    error = report.model_copy(update={"log_tail": []}).to_error()
    raise TowerRunFailedError(f"{lead}{error}", error=error) from error


def _bounded(config: TowerConfig) -> TowerConfig:
    return config.replace(timeout=CANCEL_TIMEOUT, max_retries=CANCEL_RETRIES)


def cancel_quietly(config: TowerConfig, workflow_id: str, log: TaskLog) -> bool:
    """Cancel a run, bounded and best-effort; True if Tower accepted the cancel."""
    from nftower import TowerClient, TowerError

    try:
        with TowerClient(config=_bounded(config)) as client:
            client.cancel(workflow_id)
    except TowerError as err:
        log.warning("Could not cancel Tower run %s: %s", workflow_id, err)
        return False
    log.info("Cancelled Tower run %s", workflow_id)
    return True


async def acancel_quietly(config: TowerConfig, workflow_id: str, log: TaskLog) -> bool:
    """``cancel_quietly`` for the event loop, never longer than ``CANCEL_DEADLINE`` seconds."""
    from nftower import AsyncTowerClient, TowerError

    try:
        async with AsyncTowerClient(config=_bounded(config)) as client:
            await asyncio.wait_for(client.cancel(workflow_id), CANCEL_DEADLINE)
    except (TowerError, asyncio.TimeoutError) as err:
        why = str(err) or f"no answer within {CANCEL_DEADLINE:g} s"
        log.warning("Could not cancel Tower run %s: %s", workflow_id, why)
        return False
    log.info("Cancelled Tower run %s", workflow_id)
    return True
