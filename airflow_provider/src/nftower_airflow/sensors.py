"""TowerRunSensor: wait for an existing Tower run; fail (never pass) when it fails."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import (
    AirflowSensorTimeout,
    BaseSensorOperator,
    conf,
)

from nftower_airflow._events import (
    check_target_status,
    failure_reason,
    target_reached,
    validate_event,
)
from nftower_airflow._runs import (
    TowerHookMixin,
    pull_run_url,
    push_run,
    raise_for_failure,
    seconds,
    status_text,
)
from nftower_airflow.exceptions import TowerTriggerEventError
from nftower_airflow.links import TowerRunLink


class TowerRunSensor(TowerHookMixin, BaseSensorOperator):
    """Wait until a Tower run reaches ``target_status``; raise if it fails or is cancelled.

    Works in ``poke`` and ``reschedule`` mode, or deferred (``deferrable=True``) through
    ``TowerRunTrigger``. The sensor does not own the run: it never cancels it.

    Example:
        >>> from nftower_airflow.sensors import TowerRunSensor
        >>> wait = TowerRunSensor(
        ...     task_id="wait_rnaseq",
        ...     workflow_id="{{ ti.xcom_pull(task_ids='launch', key='workflow_id') }}",
        ...     mode="reschedule",
        ...     poke_interval=300,
        ...     timeout=7 * 24 * 3600,
        ... )

    :param workflow_id: the run to wait for (templated).
    :param target_status: ``SUCCEEDED`` (default), ``RUNNING`` or ``SUBMITTED``.
    :param tower_conn_id: Airflow connection id (type ``tower``).
    :param workspace: overrides the connection's workspace.
    :param deferrable: wait in the triggerer.
    """

    template_fields: Sequence[str] = ("workflow_id", "workspace")
    operator_extra_links = (TowerRunLink(),)
    ui_color = "#0dc09d"

    def __init__(
        self,
        *,
        workflow_id: str,
        target_status: str = "SUCCEEDED",
        tower_conn_id: str = "tower_default",
        workspace: str | int | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.workflow_id = workflow_id
        self.target_status = check_target_status(target_status)
        self.tower_conn_id = tower_conn_id
        self.workspace = workspace
        self.deferrable = deferrable
        self.run_url: str | None = None  # read by TowerRunLink when the task instance ends
        self._misses = 0  # pokes in a row that could not find a run seen before

    def poke(self, context: Any) -> bool:
        """Check the run once; ``True`` once it reached ``target_status``.

        A run that cannot be found (``nftower.RunNotFoundError``) raises at once if this task
        instance never saw it, else after ``MAX_POLL_ERRORS`` more pokes in a row could not
        find it (the rule of ``client.follow``); a bad token raises at once.
        """
        workflow_id = str(self.workflow_id)
        if not workflow_id or workflow_id == "None":
            raise ValueError("TowerRunSensor needs a workflow_id; got an empty value")
        from nftower import RunNotFoundError
        from nftower.status import MAX_POLL_ERRORS, is_terminal

        with self.hook.get_conn() as client:
            try:
                workflow = client.get_workflow(workflow_id)
            except RunNotFoundError as err:
                if self.run_url is None or self._misses >= MAX_POLL_ERRORS:
                    raise
                self._misses += 1
                self.log.warning(
                    "Run %s was not found (%d/%d in a row), will look again: %s",
                    workflow_id,
                    self._misses,
                    MAX_POLL_ERRORS,
                    err,
                )
                return False
            self._misses = 0
            status = status_text(workflow.status)
            self.log.info("Run %s is %s", workflow_id, status)
            if self.run_url is None:  # once per try: the link and downstream tasks read it
                self.run_url = client.run_url(workflow)
                push_run(context, workflow_id, self.run_url)
            if target_reached(status, self.target_status):
                return True
            if is_terminal(status):  # FAILED or CANCELLED: the target is out of reach
                raise_for_failure(client, workflow, self.log)
        return False

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):
            return None
        from nftower_airflow.triggers import TowerRunTrigger

        timeout = seconds(self.timeout)
        self.defer(
            trigger=TowerRunTrigger(
                workflow_id=str(self.workflow_id),
                tower_conn_id=self.tower_conn_id,
                workspace=self.workspace,
                poll_interval=self.poke_interval,
                end_time=time.time() + timeout if timeout is not None else None,
                target_status=self.target_status,
                cancel_on_kill=False,
            ),
            method_name="execute_complete",
            timeout=None,
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> None:
        """Resume after the trigger fired: return on success, raise otherwise."""
        event = validate_event(event, workflow_id=str(self.workflow_id))
        self.run_url = pull_run_url(context, self.task_id)
        status = event["status"]
        if status == "success":
            self.log.info("Run %s reached %s", event["workflow_id"], event.get("workflow_status"))
            return
        if status == "timeout":
            raise AirflowSensorTimeout(
                f"Run {event['workflow_id']} did not reach {self.target_status} in time"
            )
        if status == "error":
            raise TowerTriggerEventError(
                f"Watching Tower run {event['workflow_id']} failed: {event.get('message')}"
            )
        with self.hook.get_conn() as client:
            workflow = client.get_workflow(str(event["workflow_id"]))
            raise_for_failure(client, workflow, self.log, reason=failure_reason(event))
