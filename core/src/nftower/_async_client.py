"""The asynchronous client: the operations of :mod:`nftower._operations` run with ``await``.

The twin of ``TowerClient`` with the same methods and arguments; only the I/O differs
(``async with limiter.aslot()``, ``asyncio.sleep``, awaitable ``on_change`` callbacks).
"""

from __future__ import annotations

import asyncio
import inspect
from asyncio import sleep
from collections.abc import AsyncIterator, Callable, Coroutine
from time import perf_counter
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import httpx

from . import _datasets as datasets
from . import _lookups as lookups
from . import _operations as ops
from . import _outputs as outputs
from . import _run_files as run_files
from . import _runs as runs
from ._base_client import BaseTowerClient, IOStep, Send, as_method
from ._exceptions import TowerError
from ._flows import Emit, Flow, FlowContext, Listing, Notify, Shared, Sleep
from ._streaming import astream_body

__all__ = ["AsyncTowerClient"]

P = ParamSpec("P")
T = TypeVar("T")


def _awaitable(
    operation: Callable[Concatenate[FlowContext, P], Flow[T]],
) -> Callable[Concatenate[AsyncTowerClient, P], Coroutine[Any, Any, T]]:
    async def method(self: AsyncTowerClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await self._drive(operation(self._ctx, *args, **kwargs))
        except TowerError as error:  # raised from here: the user's traceback stays short
            raise error.with_traceback(None) from error.__cause__

    return as_method(method, operation, awaited=True)


def _iterating(
    operation: Callable[Concatenate[FlowContext, P], Listing[T]],
) -> Callable[Concatenate[AsyncTowerClient, P], AsyncIterator[T]]:
    async def method(
        self: AsyncTowerClient, /, *args: P.args, **kwargs: P.kwargs
    ) -> AsyncIterator[T]:
        try:
            async for item in self._iterate(operation(self._ctx, *args, **kwargs)):
                yield item
        except TowerError as error:
            raise error.with_traceback(None) from error.__cause__

    return as_method(method, operation, awaited=True)


class AsyncTowerClient(BaseTowerClient[httpx.AsyncBaseTransport, httpx.AsyncClient]):
    """Asynchronous Tower / Seqera Platform client: :class:`TowerClient`'s methods, awaited
    (listings with ``async for``).

    Example (against the bundled emulator):
        >>> import asyncio
        >>> from nftower.testing import TowerEmulator
        >>> async def main(emu):
        ...     async with AsyncTowerClient(emu.url, emu.token, emu.workspace_id) as tower:
        ...         run_id = await tower.launch("hello")
        ...         return (await tower.wait(run_id, poll_interval=0.1)).status.value
        >>> with TowerEmulator(speed=50) as emu:
        ...     asyncio.run(main(emu))
        'SUCCEEDED'
    """

    __module__ = "nftower"  # shown (and pickled) as nftower.AsyncTowerClient

    def _open(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
        return httpx.AsyncClient(**self._http_options(), transport=transport)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncTowerClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- the I/O ---------------------------------------------------------------------------------

    async def _io(self, step: IOStep) -> Any:
        if isinstance(step, Sleep):
            await sleep(step.seconds)
        elif isinstance(step, Notify):
            result = step.callback(step.workflow)
            if inspect.isawaitable(result):
                await result
        elif isinstance(step, Shared):
            return await asyncio.to_thread(step.action, self._records())
        elif isinstance(step, Send):
            async with self._limiter.aslot():  # the call counts as in flight until it returns
                started = perf_counter()
                try:
                    response = await self._http.send(step.request, stream=step.sink is not None)
                except httpx.HTTPError as exc:
                    return exc, perf_counter() - started
            if step.sink is not None:
                try:
                    await astream_body(response, step.sink)
                except httpx.HTTPError as exc:
                    return exc, perf_counter() - started
            return response, perf_counter() - started
        return None

    async def _iterate(self, flow: Listing[T]) -> AsyncIterator[T]:
        steps = self._steps(flow)
        reply: Any = None
        try:
            while True:
                try:
                    step = steps.send(reply)
                except StopIteration:
                    return
                if isinstance(step, Emit):
                    reply = None
                    yield step.item
                else:
                    reply = await self._io(step)
        finally:
            steps.close()

    async def _drive(self, flow: Flow[T]) -> T:
        steps = self._steps(flow)
        reply: Any = None
        try:
            while True:
                try:
                    step = steps.send(reply)
                except StopIteration as stop:
                    return cast(T, stop.value)
                reply = await self._io(step)
        finally:
            # a step that raised or was cancelled ends the flow now (its lease given back),
            # not whenever the exception holding this frame is collected
            steps.close()

    # --- operations: nftower._lookups, _operations and _runs (see docs/design.md) ------------

    service_info = _awaitable(ops.service_info)
    user_info = _awaitable(lookups.user_info)
    list_workspaces = _awaitable(lookups.list_workspaces)
    workspace_id = _awaitable(lookups.workspace_id)
    list_pipelines = _iterating(ops.list_pipelines)
    get_pipeline = _awaitable(lookups.get_pipeline)
    list_compute_envs = _awaitable(ops.list_compute_envs)
    list_labels = _iterating(ops.list_labels)
    launch = _awaitable(ops.launch)
    ensure_run = _awaitable(ops.ensure_run)
    relaunch = _awaitable(ops.relaunch)
    get_workflow = _awaitable(runs.get_workflow)
    find_workflow = _awaitable(ops.find_workflow)
    list_workflows = _iterating(ops.list_workflows)
    get_progress = _awaitable(runs.get_progress)
    list_tasks = _awaitable(runs.list_tasks)
    get_log = _awaitable(runs.get_log)
    cancel = _awaitable(runs.cancel)
    follow = _awaitable(runs.follow)
    wait = _awaitable(runs.wait)
    failure_report = _awaitable(runs.failure_report)
    request = _awaitable(ops.request)

    # --- datasets and run files (see nftower._datasets, nftower._run_files) ---------------------

    list_datasets = _iterating(datasets.list_datasets)
    get_dataset = _awaitable(datasets.get_dataset)
    create_dataset = _awaitable(datasets.create_dataset)
    get_or_create_dataset = _awaitable(datasets.get_or_create_dataset)
    list_dataset_versions = _awaitable(datasets.list_dataset_versions)
    upload_dataset_version = _awaitable(datasets.upload_dataset_version)
    dataset_url = _awaitable(datasets.dataset_url)
    download_run_file = _awaitable(run_files.download_run_file)
    download_task_file = _awaitable(run_files.download_task_file)
    run_outputs = _awaitable(outputs.run_outputs)
