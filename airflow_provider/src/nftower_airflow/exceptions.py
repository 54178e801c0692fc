"""Airflow-side errors; each keeps the ``nftower`` error it came from (``__cause__``, ``.error``).

API errors from ``nftower`` (``TowerAPIError`` and subclasses) reach task logs unchanged: their text
already reads ``"<status> <operation>: <message> (Error ID: <id>)"`` and never holds the token.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowException


class TowerAirflowError(AirflowException):
    """Base class of the provider's errors."""


class TowerRunFailedError(TowerAirflowError):
    """The Tower run ended FAILED or CANCELLED, or stayed UNKNOWN too long.

    Attributes mirror ``nftower.WorkflowFailedError``: ``workflow_id``, ``status``, ``run_url``,
    ``error_message``, ``exit_status``, ``failed_tasks``; ``error`` is that error itself.
    """

    def __init__(self, message: str, *, error: Any = None) -> None:
        super().__init__(message)
        self.error = error
        self.workflow_id: str | None = getattr(error, "workflow_id", None)
        self.status: str | None = _text(getattr(error, "status", None))
        self.run_url: str | None = getattr(error, "run_url", None)
        self.error_message: str | None = getattr(error, "error_message", None)
        self.exit_status: int | None = getattr(error, "exit_status", None)
        self.failed_tasks: list[Any] = list(getattr(error, "failed_tasks", None) or [])

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_failed, (str(self), self.error))


class TowerRunTimeoutError(TowerAirflowError):
    """Waiting for the run passed ``timeout`` or the task's ``execution_timeout``."""


class TowerTriggerEventError(TowerAirflowError):
    """The trigger sent no event, an unknown event, or an ``error`` event."""


def _rebuild_failed(message: str, error: Any) -> TowerRunFailedError:
    return TowerRunFailedError(message, error=error)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))
