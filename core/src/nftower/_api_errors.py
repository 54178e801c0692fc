"""From an HTTP error answer to the matching :class:`~nftower.TowerAPIError`: the status
table, the Error ID found at the end of Tower's messages, and the words for access errors."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._exceptions import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TowerAPIError,
)

__all__ = [
    "AUTH_HINT",
    "ERROR_CLASSES",
    "api_error",
    "describe_settings",
    "parse_error_id",
    "server_said",
]

_ERROR_ID = re.compile(r"\s*[-:,;(]?\s*Error ID:\s*(?P<id>[A-Za-z0-9_-]+)\)?\s*\.?\s*$")

AUTH_HINT = (
    "the access token is invalid or expired, or this endpoint is not available for this "
    "token / workspace (check the token, TOWER_WORKSPACE_ID and TOWER_API_ENDPOINT)"
)


_DENIED = "Access denied: "
_SAID = ". Server said: "


def _auth_hint(settings: str) -> str:
    """The access-denied hint naming where the settings come from (``settings_hint``).

    Example:
        >>> _auth_hint("connection 'tower_default' fields Password, Workspace and API URL")
        "the access token is invalid or expired, or this endpoint is not available for this token / workspace (check connection 'tower_default' fields Password, Workspace and API URL)"
    """  # noqa: E501
    return (
        "the access token is invalid or expired, or this endpoint is not available for this "
        f"token / workspace (check {settings})"
    )


def server_said(error: TowerAPIError) -> str:
    """Tower's own message in ``error``, without the access hint a 401 / 403 carries.

    Example:
        >>> server_said(api_error(403, "GET /workflow/{workflowId}", "Operation not allowed"))
        'Operation not allowed'
    """
    if error.message.startswith(_DENIED):
        return error.message.split(_SAID, 1)[-1]
    return error.message


def describe_settings(owner: str, fields: Sequence[tuple[str, str, bool]]) -> str:
    """Where the settings came from, for ``TowerConfig(settings_hint=...)``: ``owner``'s fields
    that set them, then the variables the others fall back to. ``fields`` holds
    ``(label, variable, set by owner)`` for the token, the workspace and the API URL.

    Example:
        >>> describe_settings("connection 'tower'", [
        ...     ("Password", "TOWER_ACCESS_TOKEN", True),
        ...     ("Workspace", "TOWER_WORKSPACE_ID", False),
        ...     ("API URL", "TOWER_API_ENDPOINT", True),
        ... ])
        "connection 'tower' fields Password and API URL, and TOWER_WORKSPACE_ID"
    """
    here = [label for label, _, is_set in fields if is_set]
    others = [variable for _, variable, is_set in fields if not is_set]
    parts = [f"{owner} field{'s' if len(here) > 1 else ''} {_and(here)}"] if here else []
    if others:
        parts.append(_and(others))
    return ", and ".join(parts)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def parse_error_id(message: str | None) -> tuple[str, str | None]:
    """Split ``"... - Error ID: <id>"`` into ``(message without the id, id)``.

    Example:
        >>> parse_error_id("Unexpected error - Error ID: 54apnFENQxbvCr23JaIjLb")
        ('Unexpected error', '54apnFENQxbvCr23JaIjLb')
        >>> parse_error_id("Plain message")
        ('Plain message', None)
    """
    if not message:
        return "", None
    match = _ERROR_ID.search(message)
    if not match:
        return message.strip(), None
    return message[: match.start()].strip(), match["id"]


ERROR_CLASSES: dict[int, type[TowerAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def api_error(
    status_code: int,
    operation: str,
    server_message: str | None,
    *,
    retry_after: float | None = None,
    settings_hint: str | None = None,
) -> TowerAPIError:
    """Build the most specific :class:`TowerAPIError` for an HTTP error status.

    Example:
        >>> err = api_error(404, "GET /workflow/{workflowId}", "Not found - Error ID: abc123")
        >>> type(err).__name__, err.error_id
        ('NotFoundError', 'abc123')
        >>> str(err)
        '404 GET /workflow/{workflowId}: Not found (Error ID: abc123)'
    """
    message, error_id = parse_error_id(server_message)
    if status_code >= 500:
        cls: type[TowerAPIError] = ServerError
    else:
        cls = ERROR_CLASSES.get(status_code, TowerAPIError)
    if not message:
        message = f"HTTP {status_code} with no error message"
    if cls is AuthenticationError:
        hint = AUTH_HINT if settings_hint is None else _auth_hint(settings_hint)
        message = f"{_DENIED}{hint}{_SAID}{message}"
    elif cls is RateLimitError and retry_after is not None:
        message = f"{message} (retry after {retry_after:g} s)"
    return cls(
        message,
        status_code=status_code,
        operation=operation,
        error_id=error_id,
        retry_after=retry_after,
    )
