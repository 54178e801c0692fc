"""Cache policy of the launch task: one Tower launch per task call per flow run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prefect.cache_policies import INPUTS, RUN_ID, CachePolicy

if TYPE_CHECKING:
    from prefect.context import TaskRunContext

__all__ = ["LAUNCH_CACHE_POLICY"]


@dataclass
class _TaskCall(CachePolicy):
    """The task's call counter within its flow run (the same again on a flow-run retry).

    Two launches with identical inputs in one flow run are two runs; a retry of either
    finds its own cached result.
    """

    def compute_key(
        self,
        task_ctx: TaskRunContext,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        if not task_ctx:
            return None
        return f"{task_ctx.task.name}:{task_ctx.task_run.dynamic_key}"


# The credentials are left out of the key: the token is never hashed into a cache key,
# and rotating it does not launch again.
LAUNCH_CACHE_POLICY = (INPUTS - "credentials") + RUN_ID + _TaskCall()
