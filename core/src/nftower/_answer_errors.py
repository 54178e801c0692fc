"""The errors for answers that are not the API's and for TLS failures: :class:`RedirectError`
(a 3xx), :class:`InvalidResponseError` (a 2xx that is empty, HTML or bad JSON) and
:class:`TowerTLSError` (a certificate that fails the check). They sit in the tree of
:mod:`nftower._exceptions` and pickle like the others.
"""

from __future__ import annotations

from typing import Any

from ._exceptions import TowerAPIError, TowerConnectionError

__all__ = ["InvalidResponseError", "RedirectError", "TowerTLSError"]


class RedirectError(TowerAPIError):
    """3xx: something other than the Tower API answered (``api_url`` points at the web UI, a
    proxy sends to a login page, or an ``http://`` URL is moved to ``https://``).

    Redirects are never followed, so the access token is never sent to where they point;
    ``.location`` is where the answer pointed, and the message says what to change.

    Example:
        >>> import nftower
        >>> error = nftower.RedirectError("moved", status_code=302, location="https://x/login")
        >>> error.status_code, error.location, isinstance(error, nftower.TowerAPIError)
        (302, 'https://x/login', True)
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        operation: str | None = None,
        error_id: str | None = None,
        retry_after: float | None = None,
        location: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status_code=status_code,
            operation=operation,
            error_id=error_id,
            retry_after=retry_after,
        )
        self.location = location

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "location": self.location}


class InvalidResponseError(TowerConnectionError):
    """A 2xx answer that is not the API's answer: an empty body, an HTML page, JSON that does
    not parse (truncated) or of the wrong shape (a list where an object is expected).

    ``.status_code`` is the HTTP status; the message has a short excerpt of the body.
    ``.retryable`` is ``False`` when retrying cannot help (an empty or HTML answer means
    ``api_url`` points at something other than the API); truncated JSON is retried like a
    dropped connection.

    Example:
        >>> import nftower
        >>> error = nftower.InvalidResponseError("empty", status_code=200, retryable=False)
        >>> error.status_code, error.retryable, error.request_sent
        (200, False, True)
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        request_sent: bool = True,
        status_code: int | None = None,
        retryable: bool = True,
    ) -> None:
        super().__init__(message, operation=operation, request_sent=request_sent)
        self.status_code = status_code
        self.retryable = retryable

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "status_code": self.status_code, "retryable": self.retryable}


class TowerTLSError(TowerConnectionError):
    """The server's TLS certificate failed verification (untrusted CA, wrong host name,
    expired). Never retried: it cannot succeed on a second try. The message names the CAs
    that were used and the ``verify`` options (see :mod:`nftower._tls`).

    Example:
        >>> import nftower
        >>> error = nftower.TowerTLSError("certificate verify failed", request_sent=False)
        >>> isinstance(error, nftower.TowerConnectionError), error.request_sent
        (True, False)
    """


for _cls in (RedirectError, InvalidResponseError, TowerTLSError):
    _cls.__module__ = "nftower"
del _cls
