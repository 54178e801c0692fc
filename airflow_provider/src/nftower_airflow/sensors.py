"""TowerRunSensor: wait for an existing Tower run; fail (never pass) when it fails."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowSensorTimeout,
    BaseSensorOperator,
    conf,
)

from nftower_airflow._events import check_target_status, target_reached, validate_event
from nftower_airflow._runs import raise_for_failure, status_text
from nftower_airflow.exceptions import TowerTriggerEventError
from nftower_airflow.links import TowerRunLink

if TYPE_CHECKING:
    from nftower_airflow.hooks import TowerHook

_FAILED = frozenset({"FAILED", "CANCELLED"})


class TowerRunSensor(BaseSensorOperator):
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

    @cached_property
    def hook(self) -> TowerHook:
        """The hook, built on first use (never at DAG parse time)."""
        from nftower_airflow.hooks import TowerHook

        return TowerHook(self.tower_conn_id, workspace=self.workspace)

    def poke(self, context: Any) -> bool:
        from nftower_airflow._runs import push_run

        workflow_id = str(self.workflow_id)
        if not workflow_id or workflow_id == "None":
            raise ValueError("TowerRunSensor needs a workflow_id; got an empty value")
        with self.hook.get_conn() as client:
            workflow = client.get_workflow(workflow_id)
            status = status_text(workflow.status)
            self.log.info("Run %s is %s", workflow_id, status)
            if target_reached(status, self.target_status):
                push_run(context, workflow_id, client.run_url(workflow))
                return True
            if status in _FAILED or status == "SUCCEEDED":
                push_run(context, workflow_id, client.run_url(workflow))
                raise_for_failure(client, workflow, self.log)
        return False

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):
            return None
        from nftower_airflow.triggers import TowerRunTrigger

        self.defer(
            trigger=TowerRunTrigger(
                workflow_id=str(self.workflow_id),
                tower_conn_id=self.tower_conn_id,
                workspace=self.workspace,
                poll_interval=self.poke_interval,
                end_time=time.time() + _seconds(self.timeout),
                target_status=self.target_status,
                cancel_on_kill=False,
            ),
            method_name="execute_complete",
            timeout=None,
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> None:
        """Resume after the trigger fired: return on success, raise otherwise."""
        event = validate_event(event, workflow_id=str(self.workflow_id))
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
            raise_for_failure(client, workflow, self.log)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
