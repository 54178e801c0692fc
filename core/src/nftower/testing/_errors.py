"""Error bodies, identifiers and timestamps shared by the emulator modules."""

from __future__ import annotations

import math
import random
import string
from datetime import datetime, timezone
from typing import Any

_ALPHANUMERIC = string.ascii_letters + string.digits
INTERNAL_ERROR = "Oops... Unable to process request"
_rng = random.SystemRandom()


def random_id(length: int) -> str:
    """Return a random base-62 identifier, the alphabet Tower uses for its ids.

    >>> len(random_id(22))
    22
    """
    return "".join(_rng.choice(_ALPHANUMERIC) for _ in range(length))


def random_hex(length: int) -> str:
    """Return ``length`` random lowercase hexadecimal digits."""
    return "".join(_rng.choice("0123456789abcdef") for _ in range(length))


def error_id() -> str:
    """A fresh 22-character Error ID, as found at the end of every Tower error message."""
    return random_id(22)


def error_body(message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The ``ErrorResponse`` body of a refused request, as Tower writes it: the message alone
    (validation, permission and not-found errors carry no Error ID).

    With ``errors`` it is a ``WorkflowLaunchValidationErrorResponse`` (several failures).

    >>> error_body("Invalid run name")
    {'message': 'Invalid run name'}
    """
    body: dict[str, Any] = {"message": message}
    if errors:
        body["errors"] = errors
    return body


def internal_error_body() -> dict[str, Any]:
    """The body of an unexpected server error: Tower's fixed text and a fresh Error ID.

    >>> internal_error_body()["message"][:44]
    'Oops... Unable to process request - Error ID'
    """
    return {"message": f"{INTERNAL_ERROR} - Error ID: {error_id()}"}


def rate_limited_body(wait: float) -> dict[str, Any]:
    """The body of a 429: the whole seconds to wait, rounded down, and no Error ID.

    >>> rate_limited_body(0.4)["message"]
    'Maximum request rate exceeded. Wait 0secs before issuing a new request'
    """
    seconds = max(0, math.floor(wait))
    return {
        "message": f"Maximum request rate exceeded. Wait {seconds}secs before issuing a new request"
    }


class ApiError(Exception):
    """An HTTP error answered with an ``ErrorResponse`` body.

    >>> ApiError(400, "Invalid run name").status
    400
    """

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON body answered for this error (a fresh Error ID each time)."""
        return error_body(self.message, self.errors)


def bad_request(message: str) -> ApiError:
    """A 400 error."""
    return ApiError(400, message)


def forbidden(message: str = "Operation not allowed") -> ApiError:
    """A 403 error."""
    return ApiError(403, message)


def not_found(message: str) -> ApiError:
    """A 404 error."""
    return ApiError(404, message)


UNKNOWN_RUN_STATUSES = (403, 404)


def unknown_run(workflow_id: str, status: int = 403) -> ApiError:
    """The answer for a run id that is unknown, deleted or of another workspace.

    Real Tower answers 403 with the same body as a bad token (tw reports every 403 on a run
    as "Unknown. Check that the provided identifier is correct."); ``status=404`` answers a
    plain not-found instead. Neither carries an Error ID.

    >>> unknown_run("4Bi5").body(), unknown_run("4Bi5", 404).body()
    ({'message': 'Operation not allowed'}, {'message': "Workflow '4Bi5' not found"})
    """
    if status not in UNKNOWN_RUN_STATUSES:
        raise ValueError(f"unknown_run_status must be 403 or 404, got {status!r}")
    return forbidden() if status == 403 else not_found(f"Workflow '{workflow_id}' not found")


def iso(timestamp: float | None) -> str | None:
    """Format an epoch timestamp the way Tower documents it: ``YYYY-MM-DDTHH:MM:SSZ`` (UTC,
    whole seconds, fractions dropped).

    >>> iso(0)
    '1970-01-01T00:00:00Z'
    >>> iso(1.999)
    '1970-01-01T00:00:01Z'
    """
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(math.floor(timestamp), tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_retry_after(seconds: float) -> str:
    """Render a ``Retry-After`` value: whole seconds when integral, else a decimal.

    >>> format_retry_after(1.0), format_retry_after(0.25)
    ('1', '0.25')
    """
    if float(seconds).is_integer():
        return str(int(seconds))
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def ceil_seconds(seconds: float) -> int:
    """Round a wait up to whole seconds, at least one.

    >>> ceil_seconds(0.2), ceil_seconds(1.0), ceil_seconds(1.01)
    (1, 1, 2)
    """
    return max(1, math.ceil(seconds - 1e-9))
