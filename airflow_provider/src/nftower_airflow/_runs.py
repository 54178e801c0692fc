"""Run helpers shared by the operator and the sensor: failure reports, cancel, XCom, deadlines."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from nftower_airflow.exceptions import TowerRunFailedError
from nftower_airflow.links import RUN_URL_KEY, WORKFLOW_ID_KEY

if TYPE_CHECKING:
    from nftower import TowerClient, TowerConfig, Workflow


class TaskLog(Protocol):
    """The logger methods used here (stdlib and Airflow's structlog loggers both fit)."""

    def info(self, msg: Any, /, *args: Any) -> Any: ...
    def warning(self, msg: Any, /, *args: Any) -> Any: ...
    def error(self, msg: Any, /, *args: Any) -> Any: ...


#: bound for the best-effort cancel in ``on_kill`` and after timeouts (seconds per request)
CANCEL_TIMEOUT = 10.0


def status_text(status: Any) -> str:
    """``WorkflowStatus`` (or None) as its plain string value."""
    if status is None:
        return "UNKNOWN"
    return str(getattr(status, "value", status))


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


def push_run(context: Any, workflow_id: str, run_url: str | None) -> None:
    """Push ``workflow_id`` and ``run_url`` to XCom (read by the extra link and downstream)."""
    ti = context["ti"]
    ti.xcom_push(key=WORKFLOW_ID_KEY, value=workflow_id)
    if run_url:
        ti.xcom_push(key=RUN_URL_KEY, value=run_url)


def execution_deadline(context: Any, execution_timeout: timedelta | None) -> float | None:
    """Epoch seconds at which the task's ``execution_timeout`` expires (None if unset)."""
    if execution_timeout is None:
        return None
    start = getattr(context.get("ti"), "start_date", None)
    started = start.timestamp() if start is not None else time.time()
    return started + execution_timeout.total_seconds()


def raise_for_failure(client: TowerClient, workflow: Workflow, log: TaskLog) -> NoReturn:
    """Log why the run failed (reason, failed tasks, Nextflow log tail), then raise.

    The exception text names the status, the run URL, the error message, the exit status and
    the failed tasks (name, exit code, work dir).
    """
    report = client.failure_report(workflow)
    log.error("Tower run failed:\n%s", report.summary())
    # the exception repeats the summary without the log tail already in the task log
    error = report.model_copy(update={"log_tail": []}).to_error()
    raise TowerRunFailedError(str(error), error=error) from error


def cancel_quietly(config: TowerConfig, workflow_id: str, log: TaskLog) -> bool:
    """Cancel a run, bounded and best-effort; True if Tower accepted the cancel."""
    from nftower import TowerClient, TowerError

    short = config.replace(timeout=CANCEL_TIMEOUT, max_retries=1)
    try:
        with TowerClient(config=short) as client:
            client.cancel(workflow_id)
    except TowerError as err:
        log.warning("Could not cancel Tower run %s: %s", workflow_id, err)
        return False
    log.info("Cancelled Tower run %s", workflow_id)
    return True
