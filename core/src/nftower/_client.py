"""The synchronous client: the operations of :mod:`nftower._operations` run with blocking I/O.

Everything but the I/O is shared with ``AsyncTowerClient`` (``_base_client.py``): a method
drives its operation's flow, and this module only sends requests in a rate-limit slot, sleeps
and calls callbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from time import perf_counter, sleep
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
from ._streaming import stream_body

__all__ = ["TowerClient"]

P = ParamSpec("P")
T = TypeVar("T")


def _blocking(
    operation: Callable[Concatenate[FlowContext, P], Flow[T]],
) -> Callable[Concatenate[TowerClient, P], T]:
    def method(self: TowerClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return self._drive(operation(self._ctx, *args, **kwargs))
        except TowerError as error:  # raised from here: the user's traceback stays short
            raise error.with_traceback(None) from error.__cause__

    return as_method(method, operation, awaited=False)


def _iterating(
    operation: Callable[Concatenate[FlowContext, P], Listing[T]],
) -> Callable[Concatenate[TowerClient, P], Iterator[T]]:
    def method(self: TowerClient, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return _raised_here(self._iterate(operation(self._ctx, *args, **kwargs)))

    return as_method(method, operation, awaited=False)


def _raised_here(items: Iterator[T]) -> Iterator[T]:
    """``items``, with a :class:`TowerError` raised from here (the user's traceback stays
    short)."""
    try:
        yield from items
    except TowerError as error:
        raise error.with_traceback(None) from error.__cause__


class TowerClient(BaseTowerClient[httpx.BaseTransport, httpx.Client]):
    """Synchronous Tower / Seqera Platform client.

    Arguments default to ``TOWER_API_ENDPOINT``, ``TOWER_ACCESS_TOKEN`` and ``TOWER_WORKSPACE_ID``;
    ``workspace`` is an id or ``"org/workspace"``. ``config=`` takes a ready
    :class:`TowerConfig`; every other argument given wins over it (options left out are
    ``NOT_GIVEN``: the config's value, else :class:`TowerConfig`'s default).

    Example (against the bundled emulator):
        >>> from nftower.testing import TowerEmulator
        >>> with TowerEmulator(speed=50) as emu, TowerClient(
        ...     emu.url, emu.token, "demo-org/demo-workspace"
        ... ) as tower:
        ...     run_id = tower.launch("hello", params={"greeting": "hi"})
        ...     tower.wait(run_id, poll_interval=0.1).status.value
        'SUCCEEDED'
    """

    __module__ = "nftower"  # shown (and pickled) as nftower.TowerClient

    def _open(self, transport: httpx.BaseTransport | None) -> httpx.Client:
        return httpx.Client(**self._http_options(), transport=transport)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> TowerClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the I/O ---------------------------------------------------------------------------------

    def _io(self, step: IOStep) -> Any:
        if isinstance(step, Sleep):
            sleep(step.seconds)
        elif isinstance(step, Notify):
            step.callback(step.workflow)
        elif isinstance(step, Shared):
            return step.action(self._records())
        elif isinstance(step, Send):
            with self._limiter.slot():  # the call counts as in flight until it returns
                started = perf_counter()
                try:
                    response = self._http.send(step.request, stream=step.sink is not None)
                except httpx.HTTPError as exc:
                    return exc, perf_counter() - started
            if step.sink is not None:
                try:
                    stream_body(response, step.sink)
                except httpx.HTTPError as exc:
                    return exc, perf_counter() - started
            return response, perf_counter() - started
        return None

    def _run(self, flow: Flow[T]) -> Generator[Any, None, T]:
        steps = self._steps(flow)
        reply: Any = None
        try:
            while True:
                try:
                    step = steps.send(reply)
                except StopIteration as stop:
                    return cast(T, stop.value)
                if isinstance(step, Emit):
                    reply = None
                    yield step.item
                else:
                    reply = self._io(step)
        finally:
            steps.close()  # as in the async driver: a failed step ends the flow at once

    def _iterate(self, flow: Listing[T]) -> Iterator[T]:
        yield from self._run(flow)

    def _drive(self, flow: Flow[T]) -> T:
        run = self._run(flow)
        while True:
            try:
                next(run)
            except StopIteration as stop:
                return cast(T, stop.value)

    # --- operations: nftower._lookups, _operations and _runs (see docs/design.md) ------------

    service_info = _blocking(ops.service_info)
    user_info = _blocking(lookups.user_info)
    list_workspaces = _blocking(lookups.list_workspaces)
    workspace_id = _blocking(lookups.workspace_id)
    list_pipelines = _iterating(ops.list_pipelines)
    get_pipeline = _blocking(lookups.get_pipeline)
    list_compute_envs = _blocking(ops.list_compute_envs)
    list_labels = _iterating(ops.list_labels)
    launch = _blocking(ops.launch)
    ensure_run = _blocking(ops.ensure_run)
    relaunch = _blocking(ops.relaunch)
    get_workflow = _blocking(runs.get_workflow)
    find_workflow = _blocking(ops.find_workflow)
    list_workflows = _iterating(ops.list_workflows)
    get_progress = _blocking(runs.get_progress)
    list_tasks = _blocking(runs.list_tasks)
    get_log = _blocking(runs.get_log)
    cancel = _blocking(runs.cancel)
    follow = _blocking(runs.follow)
    wait = _blocking(runs.wait)
    failure_report = _blocking(runs.failure_report)
    request = _blocking(ops.request)

    # --- datasets and run files (see nftower._datasets, nftower._run_files) ---------------------

    list_datasets = _iterating(datasets.list_datasets)
    get_dataset = _blocking(datasets.get_dataset)
    create_dataset = _blocking(datasets.create_dataset)
    get_or_create_dataset = _blocking(datasets.get_or_create_dataset)
    list_dataset_versions = _blocking(datasets.list_dataset_versions)
    upload_dataset_version = _blocking(datasets.upload_dataset_version)
    dataset_url = _blocking(datasets.dataset_url)
    download_run_file = _blocking(run_files.download_run_file)
    download_task_file = _blocking(run_files.download_task_file)
    run_outputs = _blocking(outputs.run_outputs)
