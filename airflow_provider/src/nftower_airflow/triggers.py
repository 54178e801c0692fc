"""TowerRunTrigger: watches one Tower run from the triggerer; fires exactly one terminal event."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from nftower_airflow._events import EventStatus, check_target_status, make_event
from nftower_airflow._progress import ProgressLog, read_progress
from nftower_airflow._runs import TowerHookMixin, acancel_quietly

if TYPE_CHECKING:
    from nftower import FollowOutcome


class TowerRunTrigger(TowerHookMixin, BaseTrigger):
    """Poll a Tower run until it reaches ``target_status``, fails, or a deadline passes.

    Runs in the triggerer with the async ``nftower`` client only (the connection is read with
    ``get_async_connection``). Events (plain dicts): ``status`` is ``success``, ``failed``,
    ``cancelled``, ``timeout`` or ``error``; also ``workflow_id``, ``workflow_status``,
    ``message`` and ``reason`` (``"timeout"`` or ``"execution_timeout"`` for timeouts).

    Example:
        >>> trigger = TowerRunTrigger(workflow_id="4Bi5xBK6E2Nbhj", poll_interval=30)
        >>> trigger.serialize()[0]
        'nftower_airflow.triggers.TowerRunTrigger'

    :param workflow_id: the run to watch.
    :param tower_conn_id: Airflow connection id (type ``tower``).
    :param workspace: overrides the connection's workspace.
    :param poll_interval: seconds between status checks.
    :param end_time: epoch seconds after which a ``timeout`` event (reason ``timeout``) fires.
    :param execution_deadline: epoch seconds of the task's ``execution_timeout`` (reason
        ``execution_timeout``).
    :param target_status: ``SUCCEEDED`` (default), ``RUNNING`` or ``SUBMITTED``.
    :param unknown_timeout: seconds a run may stay ``UNKNOWN`` before it counts as failed.
    :param cancel_on_kill: cancel the run when a user kills the deferred task (Airflow 3.3+).
    :param log_progress: log each change of the run's task counts while it is RUNNING (reads
        ``GET /workflow/{id}/progress`` once per poll interval; see ``_progress``).
    """

    def __init__(
        self,
        workflow_id: str,
        tower_conn_id: str = "tower_default",
        workspace: str | int | None = None,
        poll_interval: float = 60.0,
        end_time: float | None = None,
        execution_deadline: float | None = None,
        target_status: str = "SUCCEEDED",
        unknown_timeout: float = 3600.0,
        cancel_on_kill: bool = False,
        log_progress: bool = True,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.workflow_id = str(workflow_id)
        self.tower_conn_id = tower_conn_id
        self.workspace = workspace
        self.poll_interval = float(poll_interval)
        self.end_time = end_time
        self.execution_deadline = execution_deadline
        self.target_status = check_target_status(target_status)
        self.unknown_timeout = float(unknown_timeout)
        self.cancel_on_kill = cancel_on_kill
        self.log_progress = log_progress
        self._cancel_requested = False

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "workflow_id": self.workflow_id,
                "tower_conn_id": self.tower_conn_id,
                "workspace": self.workspace,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "execution_deadline": self.execution_deadline,
                "target_status": self.target_status,
                "unknown_timeout": self.unknown_timeout,
                "cancel_on_kill": self.cancel_on_kill,
                "log_progress": self.log_progress,
            },
        )

    def _event(self, status: EventStatus, **fields: Any) -> TriggerEvent:
        payload = make_event(status, self.workflow_id, **fields)
        return TriggerEvent(payload)  # type: ignore[no-untyped-call]

    def _deadline(self) -> tuple[float, str] | None:
        """The first deadline (epoch seconds) and its event reason, if there is one."""
        deadlines = [(self.execution_deadline, "execution_timeout"), (self.end_time, "timeout")]
        given = [(at, reason) for at, reason in deadlines if at is not None]
        return min(given, key=lambda deadline: deadline[0]) if given else None

    def _timeout_event(self, reason: str) -> TriggerEvent:
        if reason == "execution_timeout":
            message = f"Run {self.workflow_id} still going at the task's execution_timeout."
        else:
            message = f"Run {self.workflow_id} still going after the wait timeout."
        return self._event("timeout", reason=reason, message=message)

    def _outcome_event(self, outcome: FollowOutcome, reason: str) -> TriggerEvent:
        """The event of how following the run ended (the rule is the core's)."""
        from nftower.status import Ending, name

        status = name(outcome.status)
        if outcome.kind is Ending.SUCCEEDED:
            return self._event("success", workflow_status=status)
        if outcome.kind is Ending.FAILED:
            return self._event("failed", workflow_status=status, message="The run failed.")
        if outcome.kind is Ending.CANCELLED:
            return self._event(
                "cancelled", workflow_status=status, message="The run was cancelled."
            )
        if outcome.kind is Ending.UNKNOWN:
            return self._event("failed", workflow_status=status, message=f"{outcome.explain()}.")
        return self._timeout_event(reason)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Follow the run through the process-wide ``nftower.monitor.WorkflowMonitor``.

        Every trigger of the same API URL, token and workspace in this triggerer shares one
        poller: one batched status cycle per poll interval (list pages plus a describe for each
        run that moved on) under the token's rate limit, instead of one call per run. When the
        wait ends is the core's rule (``monitor.follow``); this only turns its outcome into one
        event. The poller retries failed cycles and gives up after a few consecutive failures;
        that error becomes an ``error`` event. So does a run that cannot be found
        (``nftower.RunNotFoundError``: a wrong id, or a run deleted or hidden while watched,
        told apart from a bad token): its message names the run, and only this trigger ends.
        """
        from nftower import AsyncTowerClient, TowerError
        from nftower.monitor import WorkflowMonitor

        deadline = self._deadline()
        if deadline is not None and time.time() >= deadline[0]:
            yield self._timeout_event(deadline[1])
            return
        try:
            config = await self.hook.aget_config()
        except TowerError as err:
            yield self._event("error", message=str(err))
            return
        progress = ProgressLog(self.workflow_id, self.log)
        monitor = WorkflowMonitor.shared(config, poll_interval=self.poll_interval)
        async with AsyncTowerClient(config=config) as client:
            reader = (
                asyncio.ensure_future(read_progress(client, progress, self.poll_interval))
                if self.log_progress
                else None
            )
            try:
                outcome = await monitor.follow(
                    self.workflow_id,
                    timeout=None if deadline is None else max(deadline[0] - time.time(), 1e-3),
                    unknown_timeout=self.unknown_timeout,
                    on_change=progress,
                    target=self.target_status,
                )
            except TowerError as err:
                yield self._event("error", message=str(err), workflow_status=progress.status)
                return
            finally:
                if reader is not None:
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
        yield self._outcome_event(outcome, deadline[1] if deadline else "timeout")

    async def on_kill(self) -> None:
        """Cancel the run when a user kills the deferred task (Airflow 3.3+).

        Once per trigger, best-effort and bounded (``_runs.CANCEL_DEADLINE``); cancelling a run
        that already ended changes nothing, so a second trigger's ``on_kill`` (reassignment) is
        harmless too.
        """
        if not self.cancel_on_kill or self._cancel_requested:
            return
        self._cancel_requested = True
        from nftower import TowerError

        try:
            config = await self.hook.aget_config()
        except TowerError as err:
            self.log.warning("Could not cancel Tower run %s: %s", self.workflow_id, err)
            return
        await acancel_quietly(config, self.workflow_id, self.log)
