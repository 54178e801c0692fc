"""Helpers reading the Prefect run context: flow-run ids, run loggers, deterministic names."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from prefect.context import FlowRunContext, TaskRunContext

__all__ = [
    "current_flow_run_id",
    "current_flow_run_labels",
    "flow_run_ran_before",
    "in_run_context",
    "run_logger",
]


def _task_run_context() -> TaskRunContext | None:
    from prefect.context import TaskRunContext

    return TaskRunContext.get()


def _flow_run_context() -> FlowRunContext | None:
    from prefect.context import FlowRunContext

    return FlowRunContext.get()


def in_run_context() -> bool:
    """True inside a Prefect flow run or task run."""
    return _task_run_context() is not None or _flow_run_context() is not None


def current_flow_run_id() -> UUID | None:
    """The id of the flow run this code belongs to (through its task run if needed)."""
    task_ctx = _task_run_context()
    if task_ctx is not None and task_ctx.task_run.flow_run_id is not None:
        return task_ctx.task_run.flow_run_id
    flow_ctx = _flow_run_context()
    if flow_ctx is not None and flow_ctx.flow_run is not None:
        return flow_ctx.flow_run.id
    return None


def flow_run_ran_before() -> bool:
    """Whether the current flow run ran before this attempt: its ``run_count`` (the attempt's
    number, read when the attempt starts) is over 1, as after a flow retry or a flow run
    started again (``prefect flow-run retry``, a crashed run). True without a flow-run
    context: the safe side for the look-ups it decides.
    """
    flow_ctx = _flow_run_context()
    flow_run = flow_ctx.flow_run if flow_ctx is not None else None
    count = getattr(flow_run, "run_count", None)
    return not (isinstance(count, int) and count <= 1)


def current_flow_run_labels() -> tuple[str | None, str | None]:
    """The current flow's name and the day its run was scheduled for (``YYYY-MM-DD``), as far
    as the run context tells them (``None`` for what it does not)."""
    flow_ctx = _flow_run_context()
    if flow_ctx is None:
        return None, None
    flow = getattr(flow_ctx, "flow", None)
    flow_run = flow_ctx.flow_run
    when = getattr(flow_run, "expected_start_time", None) if flow_run is not None else None
    day = when.strftime("%Y-%m-%d") if when is not None else None
    return getattr(flow, "name", None), day


def run_logger(fallback: str = "prefect_nftower") -> logging.Logger | logging.LoggerAdapter[Any]:
    """The Prefect run logger inside a run, a module logger elsewhere."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(fallback)
