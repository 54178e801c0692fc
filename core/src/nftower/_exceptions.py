"""Errors raised by nftower.

Every error says what failed in words a person can act on; API errors carry the HTTP status, the
operation (``"GET /workflow/{workflowId}"``), the server's message and its Error ID. No error ever
contains the access token. All errors pickle (Prefect stores them in states, Airflow ships them
between processes).

```
TowerError                         base; .message, .operation
├── TowerConfigError (ValueError)  bad input or missing token, raised before any call
├── TowerAPIError                  HTTP error: .status_code, .error_id, .message, .operation
│   ├── BadRequestError            400
│   ├── AuthenticationError        401 / 403
│   ├── NotFoundError              404
│   │   └── RunNotFoundError       run unknown / not visible: 404, or 403 with a good token
│   ├── ConflictError              409
│   ├── RateLimitError             429 (.retry_after)
│   ├── RedirectError              3xx: not the API (web UI, login page, http->https)
│   └── ServerError                5xx
├── TowerConnectionError           transport error (.request_sent)
│   ├── InvalidResponseError       a 2xx answer that is no API answer (empty, HTML, bad JSON)
│   ├── TowerTimeoutError          request timeout
│   └── TowerTLSError              the server's certificate failed the check (never retried)
├── LaunchOutcomeUnknownError      launch POST may or may not have reached Tower (.run_name)
├── WaitTimeoutError               wait() passed its timeout (.workflow_id, .last_status)
└── WorkflowFailedError            run ended FAILED / CANCELLED / UNKNOWN too long
```

``RedirectError``, ``InvalidResponseError`` and ``TowerTLSError`` live in ``_answer_errors.py``,
``RunNotFoundError`` in ``_run_errors.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._models import Task

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "LaunchOutcomeUnknownError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "TowerAPIError",
    "TowerConfigError",
    "TowerConnectionError",
    "TowerError",
    "TowerTimeoutError",
    "WaitTimeoutError",
    "WorkflowFailedError",
]


class TowerError(Exception):
    """Base class of every nftower error (``.message``, ``.operation``).

    Example:
        >>> import nftower
        >>> try:
        ...     nftower.TowerClient(api_url="https://tower.example.org/api", token="")
        ... except nftower.TowerError as error:
        ...     print(type(error).__name__, "-", error.message[:24])
        TowerConfigError - No Tower access token: p
    """

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation

    def _state(self) -> dict[str, Any]:
        return {"operation": self.operation}

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self._state()))

    def __str__(self) -> str:
        return f"{self.operation}: {self.message}" if self.operation else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


def _rebuild(cls: type[TowerError], message: str, state: dict[str, Any]) -> TowerError:
    return cls(message, **state)


class TowerConfigError(TowerError, ValueError):
    """Bad input or configuration (for example a missing token), raised before any call.

    It is also a :class:`ValueError`.

    Example:
        >>> import nftower
        >>> try:
        ...     nftower.TowerConfig(token="tower-access-token", workspace="no workspace")
        ... except ValueError as error:
        ...     print(error)
        workspace must be a numeric workspace id or 'org/workspace' (for example
        'acme/production'), got 'no workspace'
    """


class TowerAPIError(TowerError):
    """Tower answered with an HTTP error (``.status_code``, ``.error_id``, ``.operation``).

    The subclasses below name the common statuses; other 4xx statuses are this class.

    Example:
        >>> from nftower._api_errors import api_error
        >>> error = api_error(405, "PUT /workflow", "Method not allowed - Error ID: 5aR")
        >>> type(error).__name__, error.status_code, error.error_id
        ('TowerAPIError', 405, '5aR')
        >>> print(error)
        405 PUT /workflow: Method not allowed (Error ID: 5aR)
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        operation: str | None = None,
        error_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, operation=operation)
        self.status_code = status_code
        self.error_id = error_id
        self.retry_after = retry_after

    def _state(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "status_code": self.status_code,
            "error_id": self.error_id,
            "retry_after": self.retry_after,
        }

    def __str__(self) -> str:
        head = " ".join(str(p) for p in (self.status_code, self.operation) if p is not None)
        text = f"{head}: {self.message}" if head else self.message
        return f"{text} (Error ID: {self.error_id})" if self.error_id else text


class BadRequestError(TowerAPIError):
    """400: Tower rejected the request (invalid input).

    Example:
        >>> from nftower._api_errors import api_error
        >>> print(api_error(400, "POST /workflow/launch", "Invalid run name - Error ID: 7Fq"))
        400 POST /workflow/launch: Invalid run name (Error ID: 7Fq)
    """


class AuthenticationError(TowerAPIError):
    """401 / 403: token invalid or expired, or the endpoint is not available for it.

    Example:
        >>> from nftower._api_errors import api_error
        >>> print(api_error(403, "GET /user-info", "Forbidden - Error ID: 9xQ"))
        403 GET /user-info: Access denied: the access token is invalid or expired, or this
        endpoint is not available ... Server said: Forbidden (Error ID: 9xQ)
    """


class NotFoundError(TowerAPIError):
    """404 (or no exact match for a name): the object does not exist or is not visible.

    Example:
        >>> from nftower._api_errors import api_error
        >>> error = api_error(404, "GET /workflow/{workflowId}", "Not found - Error ID: 1Zk")
        >>> type(error).__name__, error.operation
        ('NotFoundError', 'GET /workflow/{workflowId}')
    """


class ConflictError(TowerAPIError):
    """409: the request conflicts with the current state (for example a duplicate name).

    Example:
        >>> from nftower._api_errors import api_error
        >>> type(api_error(409, "POST /labels", "Duplicate name - Error ID: 2Bc")).__name__
        'ConflictError'
    """


class RateLimitError(TowerAPIError):
    """429: over the per-token request rate; ``.retry_after`` is the server's hint in seconds.

    Example:
        >>> from nftower._api_errors import api_error
        >>> error = api_error(429, "GET /workflow", "Slow down - Error ID: 8Yt", retry_after=2)
        >>> error.retry_after, str(error)
        (2, '429 GET /workflow: Slow down (retry after 2 s) (Error ID: 8Yt)')
    """


class ServerError(TowerAPIError):
    """5xx: Tower (or a proxy in front of it) failed.

    Example:
        >>> from nftower._api_errors import api_error
        >>> type(api_error(503, "GET /workflow", None)).__name__
        'ServerError'
    """


class TowerConnectionError(TowerError):
    """The HTTP exchange failed below HTTP (refused, reset, dropped, invalid response).

    ``request_sent`` is ``False`` only when the request provably never left the client
    (connection refused or not obtained), so even a non-idempotent call can be retried.

    Example:
        >>> import nftower
        >>> token = "tower-access-token"
        >>> with nftower.TowerClient("http://127.0.0.1:9", token, max_retries=0) as tower:
        ...     try:
        ...         tower.service_info()
        ...     except nftower.TowerConnectionError as error:
        ...         print(error.operation, error.request_sent)
        GET /service-info False
    """

    def __init__(
        self, message: str, *, operation: str | None = None, request_sent: bool = True
    ) -> None:
        super().__init__(message, operation=operation)
        self.request_sent = request_sent

    def _state(self) -> dict[str, Any]:
        return {"operation": self.operation, "request_sent": self.request_sent}


class TowerTimeoutError(TowerConnectionError):
    """The request timed out (connect, read, write or connection-pool timeout).

    A :class:`TowerConnectionError`, retried like one.

    Example:
        >>> import nftower
        >>> issubclass(nftower.TowerTimeoutError, nftower.TowerConnectionError)
        True
    """


class LaunchOutcomeUnknownError(TowerError):
    """A launch request may or may not have started a run; it is never retried blindly.

    ``run_name`` is the run name that was sent (if any): look it up before launching again,
    e.g. ``client.find_workflow(run_name)``.

    Example:
        >>> import nftower
        >>> error = nftower.LaunchOutcomeUnknownError("answer lost", run_name="nightly-2024-06-01")
        >>> error.run_name
        'nightly-2024-06-01'
    """

    def __init__(
        self, message: str, *, operation: str | None = None, run_name: str | None = None
    ) -> None:
        super().__init__(message, operation=operation)
        self.run_name = run_name

    def _state(self) -> dict[str, Any]:
        return {"operation": self.operation, "run_name": self.run_name}


class WaitTimeoutError(TowerError):
    """``wait()`` passed its timeout before the run finished (the run keeps going).

    Example:
        >>> import nftower
        >>> error = nftower.WaitTimeoutError("too slow", workflow_id="4Bi5", last_status="RUNNING")
        >>> error.workflow_id, error.last_status
        ('4Bi5', 'RUNNING')
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        workflow_id: str | None = None,
        last_status: str | None = None,
    ) -> None:
        super().__init__(message, operation=operation)
        self.workflow_id = workflow_id
        self.last_status = last_status

    def _state(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "workflow_id": self.workflow_id,
            "last_status": self.last_status,
        }


class WorkflowFailedError(TowerError):
    """A run ended FAILED or CANCELLED, or stayed UNKNOWN too long.

    Usually built by :meth:`FailureReport.to_error`; it pickles with its details.

    Example:
        >>> import pickle, nftower
        >>> error = nftower.WorkflowFailedError("Run failed", workflow_id="4Bi5", exit_status=1)
        >>> copy = pickle.loads(pickle.dumps(error))
        >>> type(copy).__name__, copy.workflow_id, copy.exit_status
        ('WorkflowFailedError', '4Bi5', 1)
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        workflow_id: str | None = None,
        status: str | None = None,
        run_url: str | None = None,
        error_message: str | None = None,
        exit_status: int | None = None,
        failed_tasks: Sequence[Task] = (),
    ) -> None:
        super().__init__(message, operation=operation)
        self.workflow_id = workflow_id
        self.status = status
        self.run_url = run_url
        self.error_message = error_message
        self.exit_status = exit_status
        self.failed_tasks = list(failed_tasks)

    def _state(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "workflow_id": self.workflow_id,
            "status": self.status,
            "run_url": self.run_url,
            "error_message": self.error_message,
            "exit_status": self.exit_status,
            "failed_tasks": self.failed_tasks,
        }


# Tracebacks and task logs read ``nftower.RateLimitError``, and pickles refer to that public path.
for _cls in [
    c for c in list(globals().values()) if isinstance(c, type) and issubclass(c, TowerError)
]:
    _cls.__module__ = "nftower"
del _cls
