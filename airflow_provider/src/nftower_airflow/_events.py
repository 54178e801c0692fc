"""The events ``TowerRunTrigger`` sends and their validation on the worker side."""

from __future__ import annotations

from typing import Any, Literal

from nftower_airflow.exceptions import TowerTriggerEventError

EventStatus = Literal["success", "failed", "cancelled", "timeout", "error"]
EVENT_STATUSES: frozenset[str] = frozenset({"success", "failed", "cancelled", "timeout", "error"})


def make_event(
    status: EventStatus,
    workflow_id: str,
    *,
    workflow_status: str | None = None,
    message: str = "",
    reason: str | None = None,
) -> dict[str, Any]:
    """Build an event payload (plain JSON).

    Example:
        >>> make_event("success", "abc", workflow_status="SUCCEEDED")["status"]
        'success'
    """
    return {
        "status": status,
        "workflow_id": workflow_id,
        "workflow_status": workflow_status,
        "message": message,
        "reason": reason,
    }


def validate_event(event: Any, *, workflow_id: str | None = None) -> dict[str, Any]:
    """Return the event if it is one ``TowerRunTrigger`` sends, else raise a clear error.

    Example:
        >>> validate_event({"status": "success", "workflow_id": "abc"})["workflow_id"]
        'abc'
        >>> validate_event(None)
        Traceback (most recent call last):
        ...
        nftower_airflow.exceptions.TowerTriggerEventError: No event received from TowerRunTrigger...
    """
    if event is None:
        raise TowerTriggerEventError(
            "No event received from TowerRunTrigger; the task cannot tell how the run ended."
        )
    if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
        raise TowerTriggerEventError(
            f"Unexpected event from TowerRunTrigger: {event!r}; "
            f"expected a dict with status in {sorted(EVENT_STATUSES)}."
        )
    if not event.get("workflow_id"):
        if workflow_id is None:
            raise TowerTriggerEventError(f"TowerRunTrigger event without workflow_id: {event!r}")
        event = {**event, "workflow_id": workflow_id}
    return dict(event)


def failure_reason(event: dict[str, Any]) -> str | None:
    """The event's message when it says more than the run's status (UNKNOWN too long, a
    sensor target passed); None for plain FAILED / CANCELLED runs.

    Example:
        >>> failure_reason({"workflow_status": "UNKNOWN", "message": "Stayed UNKNOWN."})
        'Stayed UNKNOWN.'
        >>> failure_reason({"workflow_status": "FAILED", "message": "The run failed."}) is None
        True
    """
    if event.get("workflow_status") in ("FAILED", "CANCELLED"):
        return None
    return str(event.get("message") or "") or None


def target_reached(status: str, target: str) -> bool:
    """True once a run with ``status`` has reached ``target`` (``nftower.status.reached``).

    Example:
        >>> target_reached("SUCCEEDED", "RUNNING"), target_reached("SUBMITTED", "RUNNING")
        (True, False)
    """
    from nftower.status import reached

    return reached(status, target)


def check_target_status(target: str) -> str:
    """Normalise and check a sensor's ``target_status`` before any call (one of
    ``nftower.status.TARGETS``; the module imports nothing, DAG parsing stays cheap)."""
    from nftower.status import check_target

    return check_target(target)
