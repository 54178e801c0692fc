"""The asynchronous client: the twin of ``TowerClient`` with the same methods and arguments.

Only the transport and the driver differ (``await limiter.aacquire()``, ``asyncio.sleep``,
awaitable ``on_change`` callbacks); the operations themselves are the same flows.
"""

from __future__ import annotations

import inspect
import os
from asyncio import sleep
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from time import perf_counter
from types import TracebackType
from typing import Any, Literal, TypeVar, cast

import httpx

from . import _flows as flows
from . import _launch
from . import _runs as runs
from ._base_client import BaseTowerClient
from ._config import TowerConfig
from ._endpoints import Call
from ._exceptions import TowerError
from ._flows import Emit, Flow, Notify, Sleep
from ._launch import LaunchOptions
from ._models import (
    Label,
    Progress,
    Task,
    TaskStatus,
    Workflow,
)
from ._reports import FailureReport, run_url
from ._resources import (
    ComputeEnv,
    Pipeline,
    RunHandle,
    ServiceInfo,
    UserInfo,
    Workspace,
)

__all__ = ["AsyncTowerClient"]

T = TypeVar("T")


class AsyncTowerClient(BaseTowerClient):
    """Asynchronous Tower / Seqera Platform client; see :class:`TowerClient` for every method.

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

    def __init__(
        self,
        api_url: str | None = None,
        token: str | None = None,
        workspace: int | str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        rate_limit: int = 20,
        rate_limit_window: float = 1.0,
        rate_limit_backend: str | None = None,
        accept_version: str = "1",
        ui_url: str | None = None,
        user_agent: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        config: TowerConfig | None = None,
    ) -> None:
        self._setup(
            config,
            api_url=api_url,
            token=token,
            workspace=workspace,
            timeout=timeout,
            max_retries=max_retries,
            rate_limit=rate_limit,
            rate_limit_window=rate_limit_window,
            rate_limit_backend=rate_limit_backend,
            accept_version=accept_version,
            ui_url=ui_url,
            user_agent=user_agent,
        )
        self._http = httpx.AsyncClient(
            base_url=self._config.api_url,
            headers=self._headers(),
            timeout=self._config.timeout,
            transport=transport,
        )

    # --- lifecycle ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool."""
        await cast(httpx.AsyncClient, self._http).aclose()

    async def __aenter__(self) -> AsyncTowerClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- transport and drivers -----------------------------------------------------------------

    async def _send(self, call: Call) -> Any:
        """One call: limiter -> request -> response -> retry decision (each attempt limited)."""
        http = cast(httpx.AsyncClient, self._http)
        attempt = 0
        while True:
            attempt += 1
            request = self.build_request(call)
            started = perf_counter()
            try:
                async with self._limiter.aslot():  # the call counts as in flight until it returns
                    started = perf_counter()
                    response = await http.send(request)
            except httpx.HTTPError as exc:
                error = self._transport_error(call, exc, perf_counter() - started, attempt)
            else:
                try:
                    elapsed = perf_counter() - started
                    return self._handle_response(call, response, elapsed, attempt)
                except TowerError as exc:
                    error = exc
            delay = self._retry_delay(call, attempt, error)
            if delay is None:
                raise self._final_error(call, error)
            await sleep(delay)

    async def _step(self, step: Any) -> Any:
        if isinstance(step, Sleep):
            await sleep(step.seconds)
            return None
        if isinstance(step, Notify):
            result = step.callback(step.workflow)
            if inspect.isawaitable(result):
                await result
            return None
        return await self._send(step)

    async def _iterate(self, flow: Flow[Any]) -> AsyncIterator[Any]:
        value: Any = None
        error: TowerError | None = None
        while True:
            try:
                step = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration:
                return
            value, error = None, None
            if isinstance(step, Emit):
                yield step.item
                continue
            try:
                value = await self._step(step)
            except TowerError as exc:
                if not isinstance(step, Call):
                    raise
                error = exc

    async def _drive(self, flow: Flow[T]) -> T:
        value: Any = None
        error: TowerError | None = None
        while True:
            try:
                step = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return cast(T, stop.value)
            value, error = None, None
            try:
                value = await self._step(step)
            except TowerError as exc:
                if not isinstance(step, Call):
                    raise
                error = exc

    # --- identity, workspaces, launchpad ---------------------------------------------------------

    async def service_info(self) -> ServiceInfo:
        """See :meth:`TowerClient.service_info`."""
        return await self._drive(flows.service_info(self._ctx))

    async def user_info(self) -> UserInfo:
        """See :meth:`TowerClient.user_info`."""
        return await self._drive(flows.user_info(self._ctx))

    async def list_workspaces(self) -> list[Workspace]:
        """See :meth:`TowerClient.list_workspaces`."""
        return await self._drive(flows.list_workspaces(self._ctx))

    async def workspace_id(self) -> int | None:
        """See :meth:`TowerClient.workspace_id`."""
        return await self._drive(flows.workspace_id(self._ctx))

    async def list_pipelines(self, search: str | None = None) -> AsyncIterator[Pipeline]:
        """See :meth:`TowerClient.list_pipelines` (use ``async for``)."""
        async for item in self._iterate(flows.list_pipelines(self._ctx, search)):
            yield item

    async def get_pipeline(self, name_or_id: str | int) -> Pipeline:
        """See :meth:`TowerClient.get_pipeline`."""
        return await self._drive(flows.get_pipeline(self._ctx, name_or_id))

    async def list_compute_envs(self, status: str | None = None) -> list[ComputeEnv]:
        """See :meth:`TowerClient.list_compute_envs`."""
        return await self._drive(flows.list_compute_envs(self._ctx, status))

    async def list_labels(self, search: str | None = None) -> AsyncIterator[Label]:
        """See :meth:`TowerClient.list_labels` (use ``async for``)."""
        async for item in self._iterate(flows.list_labels(self._ctx, search)):
            yield item

    # --- launching -------------------------------------------------------------------------------

    async def launch(
        self,
        pipeline: str | int,
        *,
        params: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        params_mode: Literal["merge", "replace"] = "merge",
        run_name: str | None = None,
        revision: str | None = None,
        compute_env: str | None = None,
        work_dir: str | None = None,
        config_profiles: Sequence[str] | None = None,
        config_text: str | None = None,
        labels: Sequence[str | int] | None = None,
        create_labels: bool = False,
        pre_run_script: str | None = None,
        post_run_script: str | None = None,
        pull_latest: bool | None = None,
        stub_run: bool | None = None,
        **extra_launch_fields: Any,
    ) -> str:
        """See :meth:`TowerClient.launch`."""
        opts = LaunchOptions.build(
            params=params, params_mode=params_mode, run_name=run_name, revision=revision,
            compute_env=compute_env, work_dir=work_dir, config_profiles=config_profiles,
            config_text=config_text, labels=labels, create_labels=create_labels,
            pre_run_script=pre_run_script, post_run_script=post_run_script,
            pull_latest=pull_latest, stub_run=stub_run, **extra_launch_fields,
        )  # fmt: skip
        return await self._drive(_launch.launch(self._ctx, pipeline, opts))

    async def ensure_run(
        self,
        pipeline: str | int,
        *,
        run_name: str,
        resume_failed: bool = True,
        **launch_kwargs: Any,
    ) -> RunHandle:
        """See :meth:`TowerClient.ensure_run`."""
        opts = LaunchOptions.build(**launch_kwargs)
        return await self._drive(
            _launch.ensure_run(
                self._ctx, pipeline, run_name=run_name, resume_failed=resume_failed, opts=opts
            )
        )

    async def relaunch(
        self,
        workflow_id: str,
        *,
        resume: bool = True,
        run_name: str | None = None,
        **overrides: Any,
    ) -> str:
        """See :meth:`TowerClient.relaunch`."""
        opts = LaunchOptions.build(run_name=run_name, **overrides)
        flow = _launch.relaunch(self._ctx, workflow_id, resume=resume, opts=opts)
        new_id, _ = await self._drive(flow)
        return new_id

    # --- runs ------------------------------------------------------------------------------------

    async def get_workflow(self, workflow_id: str) -> Workflow:
        """See :meth:`TowerClient.get_workflow`."""
        return await self._drive(runs.get_workflow(self._ctx, workflow_id))

    async def find_workflow(self, run_name: str) -> Workflow | None:
        """See :meth:`TowerClient.find_workflow`."""
        return await self._drive(flows.find_workflow(self._ctx, run_name))

    async def list_workflows(self, search: str | None = None) -> AsyncIterator[Workflow]:
        """See :meth:`TowerClient.list_workflows` (use ``async for``)."""
        async for item in self._iterate(flows.list_workflows(self._ctx, search)):
            yield item

    async def get_progress(self, workflow_id: str) -> Progress:
        """See :meth:`TowerClient.get_progress`."""
        return await self._drive(runs.get_progress(self._ctx, workflow_id))

    async def list_tasks(
        self, workflow_id: str, status: str | TaskStatus | None = None
    ) -> list[Task]:
        """See :meth:`TowerClient.list_tasks`."""
        return await self._drive(runs.list_tasks(self._ctx, workflow_id, status))

    async def get_log(self, workflow_id: str, tail: int | None = 100) -> list[str]:
        """See :meth:`TowerClient.get_log`."""
        return await self._drive(runs.get_log(self._ctx, workflow_id, tail))

    async def cancel(self, workflow_id: str, force: bool = False) -> None:
        """See :meth:`TowerClient.cancel`."""
        await self._drive(runs.cancel(self._ctx, workflow_id, force))

    async def wait(
        self,
        workflow_id: str,
        *,
        poll_interval: float = 30.0,
        timeout: float | None = None,
        unknown_timeout: float = 3600.0,
        on_change: Callable[[Workflow], Any] | None = None,
    ) -> Workflow:
        """See :meth:`TowerClient.wait`; ``on_change`` may also be an async function."""
        return await self._drive(
            runs.wait(
                self._ctx,
                workflow_id,
                poll_interval=poll_interval,
                timeout=timeout,
                unknown_timeout=unknown_timeout,
                on_change=on_change,
            )
        )

    async def failure_report(self, workflow_id_or_workflow: str | Workflow) -> FailureReport:
        """See :meth:`TowerClient.failure_report`."""
        return await self._drive(runs.failure_report(self._ctx, workflow_id_or_workflow))

    def run_url(self, workflow: Workflow) -> str | None:
        """See :meth:`TowerClient.run_url` (no I/O, so not a coroutine)."""
        return run_url(self._config.web_url, workflow)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """See :meth:`TowerClient.request`."""
        return await self._drive(flows.request(self._ctx, method, path, params, json))
