"""One name for the sync and the async form of a task or flow, that stays a real Task / Flow.

Calling `launch_workflow(...)` runs the sync task in sync code and returns the async twin's
coroutine in async code (an async flow or task, or a running event loop): Prefect's
`async_dispatch` makes that choice, and `_sync=True` / `_sync=False` forces a side. A plain
`async_dispatch` function would hide the Prefect object, though; here the public name is the
sync `Task` / `Flow` itself, so `.submit()`, `.map()`, `.with_options()`, `.serve()`,
`.deploy()` and deployment entrypoints such as `prefect_nftower.flows:run_pipeline` work as
for any task or flow (all on the sync form; `.aio` is the async one).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from prefect import Flow, Task
from prefect._internal.compatibility.async_dispatch import async_dispatch

__all__ = ["DispatchingFlow", "DispatchingTask", "dispatching_flow", "dispatching_task"]

P = ParamSpec("P")
R = TypeVar("R")
D = TypeVar("D", "DispatchingTask[Any, Any]", "DispatchingFlow[Any, Any]")


class DispatchingTask(Task[P, R]):
    """A sync task that hands a call made from async code to its async twin `aio`."""

    aio: Task[P, Coroutine[Any, Any, R]]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return async_dispatch(self.aio)(super().__call__)(*args, **kwargs)


class DispatchingFlow(Flow[P, R]):
    """A sync flow that hands a call made from async code to its async twin `aio`."""

    aio: Flow[P, Coroutine[Any, Any, R]]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return async_dispatch(self.aio)(super().__call__)(*args, **kwargs)


def dispatching_task(
    aio: Task[P, Coroutine[Any, Any, R]], **options: Any
) -> Callable[[Callable[P, R]], DispatchingTask[P, R]]:
    """Like `@task(**options)`, for the sync form of the async task `aio`."""

    def decorate(fn: Callable[P, R]) -> DispatchingTask[P, R]:
        return _paired(DispatchingTask(fn=fn, **options), aio)

    return decorate


def dispatching_flow(
    aio: Flow[P, Coroutine[Any, Any, R]], **options: Any
) -> Callable[[Callable[P, R]], DispatchingFlow[P, R]]:
    """Like `@flow(**options)`, for the sync form of the async flow `aio`."""

    def decorate(fn: Callable[P, R]) -> DispatchingFlow[P, R]:
        return _paired(DispatchingFlow(fn=fn, **options), aio)

    return decorate


def _paired(made: D, aio: Any) -> D:
    made.aio = aio
    return made
