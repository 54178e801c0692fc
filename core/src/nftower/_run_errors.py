"""The error of a run that is gone or hidden: :class:`RunNotFoundError`, a
:class:`~nftower.NotFoundError` that names the run. It sits in the tree of
:mod:`nftower._exceptions` and pickles like the others; :mod:`nftower._run_access` raises it.
"""

from __future__ import annotations

from typing import Any

from ._exceptions import NotFoundError

__all__ = ["RunNotFoundError"]


class RunNotFoundError(NotFoundError):
    """The run is unknown, deleted, or not visible to this token in this workspace.

    Tower answers 403 for such a run, as it does for a bad token. The client tells the two
    apart by checking the token once (``GET /user-info``): with a good token the 403 becomes
    this error, with a bad one it stays an :class:`~nftower.AuthenticationError`. A 404 on a
    run is this error too. ``.workflow_id`` is the run; the message names it, the workspace,
    and what Tower said.

    Example:
        >>> import pickle, nftower
        >>> error = nftower.RunNotFoundError(
        ...     "Run 'abc' is unknown", status_code=403, operation="GET /workflow/{workflowId}",
        ...     workflow_id="abc",
        ... )
        >>> copy = pickle.loads(pickle.dumps(error))
        >>> isinstance(copy, nftower.NotFoundError), copy.workflow_id, copy.status_code
        (True, 'abc', 403)
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        operation: str | None = None,
        error_id: str | None = None,
        retry_after: float | None = None,
        workflow_id: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status_code=status_code,
            operation=operation,
            error_id=error_id,
            retry_after=retry_after,
        )
        self.workflow_id = workflow_id

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "workflow_id": self.workflow_id}


RunNotFoundError.__module__ = "nftower"
