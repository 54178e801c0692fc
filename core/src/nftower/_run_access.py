"""Calls on one run, and the question a 403 on them raises: is the run gone or hidden, or is
the token bad?

Tower answers 403 to a bad token and also to a run id that is unknown, deleted or not visible
in the workspace (tw prints "Unknown. Check that the provided identifier is correct." for every
403 on a run). :func:`on_run` sends a call (or runs a flow) on one run; on a 403 it checks the
token once with ``GET /user-info``:

- the token is good: :class:`~nftower.RunNotFoundError`, naming the run and the workspace,
  with the status, the operation, Tower's message and its Error ID;
- the token is bad (``GET /user-info`` is refused too): the original
  :class:`~nftower.AuthenticationError`.

A 404 on a run is a :class:`~nftower.RunNotFoundError` at once. Any other failure of the token
check (a transport error, a 5xx) is raised as it is: the question stays open, and a wait counts
it as one failed status check.

Example (a flow driven by hand):
    >>> from nftower import TowerConfig
    >>> from nftower._api_errors import api_error
    >>> ctx = FlowContext(TowerConfig(token="t0ken-of-a-test-user", workspace=7))
    >>> flow = on_run(ctx, 7, "4Bi5", ep.describe_workflow(7, "4Bi5"))
    >>> next(flow).operation
    'GET /workflow/{workflowId}'
    >>> flow.throw(api_error(403, "GET /workflow/{workflowId}", "Operation not allowed")).operation
    'GET /user-info'
    >>> try:
    ...     flow.send({"user": {"id": 1, "userName": "ada"}})
    ... except Exception as error:
    ...     print(type(error).__name__, error)
    RunNotFoundError 403 GET /workflow/{workflowId}: Run '4Bi5' is unknown or not visible in
    workspace 7: ... Server said: Operation not allowed
"""

from __future__ import annotations

from typing import Any, TypeVar, overload

from . import _endpoints as ep
from ._api_errors import server_said
from ._endpoints import Call
from ._exceptions import AuthenticationError, NotFoundError, TowerAPIError
from ._flows import Flow, FlowContext
from ._run_errors import RunNotFoundError

__all__ = ["on_run", "run_not_found"]

T = TypeVar("T")


@overload
def on_run(
    ctx: FlowContext, ws: int | None, workflow_id: str, step: Call, *, run_404: bool = True
) -> Flow[Any]: ...


@overload
def on_run(
    ctx: FlowContext, ws: int | None, workflow_id: str, step: Flow[T], *, run_404: bool = True
) -> Flow[T]: ...


def on_run(
    ctx: FlowContext,
    ws: int | None,
    workflow_id: str,
    step: Call | Flow[T],
    *,
    run_404: bool = True,
) -> Flow[Any]:
    """Send ``step`` (a call, or a flow of calls, on run ``workflow_id``); a 404, or a 403 with
    a good token, becomes :class:`~nftower.RunNotFoundError`. ``run_404=False`` leaves a 404
    alone, for calls whose 404 means something else (a run file that is gone)."""
    flow: Flow[Any] = _send(step) if isinstance(step, Call) else step
    try:
        return (yield from flow)
    except RunNotFoundError:
        raise
    except NotFoundError as missing:
        if not run_404:
            raise
        raise run_not_found(ctx, ws, workflow_id, missing) from None
    except AuthenticationError as denied:
        if denied.status_code != 403:
            raise
        try:
            yield ep.user_info()
        except AuthenticationError:
            raise denied from None
        raise run_not_found(ctx, ws, workflow_id, denied) from None


def run_not_found(
    ctx: FlowContext, ws: int | None, workflow_id: str, error: TowerAPIError
) -> RunNotFoundError:
    """The :class:`~nftower.RunNotFoundError` for ``error`` (a 403 or 404 on the run)."""
    name = ctx.config.workspace_name
    if ws is None:
        where = "the personal workspace"
    elif name is not None:
        where = f"'{'/'.join(name)}' (id {ws})"
    else:
        where = str(ws)
    why = (
        "no run has this id there, it was deleted, or this token may not see it"
        + (" (the token itself is valid)" if error.status_code == 403 else "")
        + "; check the run id and the workspace"
    )
    return RunNotFoundError(
        f"Run '{workflow_id}' is unknown or not visible in workspace {where}: {why}. "
        f"Server said: {server_said(error)}",
        status_code=error.status_code,
        operation=error.operation,
        error_id=error.error_id,
        workflow_id=workflow_id,
    )


def _send(call: Call) -> Flow[Any]:
    return (yield call)
