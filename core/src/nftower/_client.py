"""The synchronous client. Its async twin, with the same methods, is in ``_async_client.py``.

Each public method is one line: it builds a flow (``_flows`` / ``_launch``) and drives it. The
driver answers each yielded :class:`~nftower._endpoints.Call` with :meth:`TowerClient._send`:
rate limiter, request, response handling, retry decision, sleep.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from time import perf_counter, sleep
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

__all__ = ["TowerClient"]

T = TypeVar("T")


class TowerClient(BaseTowerClient):
    """Synchronous Tower / Seqera Platform client.

    Arguments default to ``TOWER_API_ENDPOINT``, ``TOWER_ACCESS_TOKEN`` and ``TOWER_WORKSPACE_ID``;
    ``workspace`` is an id or ``"org/workspace"``. ``config=`` takes a ready
    :class:`TowerConfig` (other arguments that differ from their defaults override it).

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
        transport: httpx.BaseTransport | None = None,
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
        self._http = httpx.Client(
            base_url=self._config.api_url,
            headers=self._headers(),
            timeout=self._config.timeout,
            transport=transport,
        )

    # --- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool."""
        cast(httpx.Client, self._http).close()

    def __enter__(self) -> TowerClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- transport and drivers -----------------------------------------------------------------

    def _send(self, call: Call) -> Any:
        """One call: limiter -> request -> response -> retry decision (each attempt limited)."""
        http = cast(httpx.Client, self._http)
        attempt = 0
        while True:
            attempt += 1
            request = self.build_request(call)
            started = perf_counter()
            try:
                with self._limiter.slot():  # the call counts as in flight until it returns
                    started = perf_counter()
                    response = http.send(request)
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
            sleep(delay)

    def _iterate(self, flow: Flow[Any]) -> Generator[Any, None, Any]:
        value: Any = None
        error: TowerError | None = None
        while True:
            try:
                step = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            if isinstance(step, Emit):
                yield step.item
            elif isinstance(step, Sleep):
                sleep(step.seconds)
            elif isinstance(step, Notify):
                step.callback(step.workflow)
            else:
                try:
                    value = self._send(step)
                except TowerError as exc:
                    error = exc

    def _drive(self, flow: Flow[T]) -> T:
        steps = self._iterate(flow)
        while True:
            try:
                next(steps)
            except StopIteration as stop:
                return cast(T, stop.value)

    # --- identity, workspaces, launchpad ---------------------------------------------------------

    def service_info(self) -> ServiceInfo:
        """Tower version and limits (``GET /service-info``; works without a valid token)."""
        return self._drive(flows.service_info(self._ctx))

    def user_info(self) -> UserInfo:
        """The token's user (``GET /user-info``): a cheap credentials check."""
        return self._drive(flows.user_info(self._ctx))

    def list_workspaces(self) -> list[Workspace]:
        """The workspaces of the token's user."""
        return self._drive(flows.list_workspaces(self._ctx))

    def workspace_id(self) -> int | None:
        """The configured workspace id (``"org/workspace"`` resolved once); ``None`` = personal."""
        return self._drive(flows.workspace_id(self._ctx))

    def list_pipelines(self, search: str | None = None) -> Iterator[Pipeline]:
        """Launchpad pipelines, fetched page by page as you iterate."""
        return self._iterate(flows.list_pipelines(self._ctx, search))

    def get_pipeline(self, name_or_id: str | int) -> Pipeline:
        """A launchpad pipeline by id or exact name; :class:`NotFoundError` if there is none."""
        return self._drive(flows.get_pipeline(self._ctx, name_or_id))

    def list_compute_envs(self, status: str | None = None) -> list[ComputeEnv]:
        """Compute environments of the workspace (``status`` e.g. ``"AVAILABLE"``)."""
        return self._drive(flows.list_compute_envs(self._ctx, status))

    def list_labels(self, search: str | None = None) -> Iterator[Label]:
        """Labels of the workspace, fetched page by page as you iterate."""
        return self._iterate(flows.list_labels(self._ctx, search))

    # --- launching -------------------------------------------------------------------------------

    def launch(
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
        """Launch a pipeline; returns the new workflow id.

        ``pipeline`` is a launchpad name or id (its saved launch is the base, overrides go on top)
        or a repository URL (primary compute environment and its work dir unless given).
        ``params`` is a dict or a ``.json`` / ``.yaml`` file, merged over the saved params
        (``params_mode="replace"`` replaces them). ``labels`` are names (``"name"`` or
        ``"key=value"``) or ids; missing ones are created only with ``create_labels=True``.
        Other ``WorkflowLaunchRequest`` fields pass through, e.g. ``headJobCpus=4`` or
        ``head_job_cpus=4``. Bad input raises :class:`TowerConfigError` before any call.
        The launch is never retried once the request may have reached Tower: then
        :class:`LaunchOutcomeUnknownError` says how to check. Prefer :meth:`ensure_run` in
        schedulers.
        """
        opts = LaunchOptions.build(
            params=params, params_mode=params_mode, run_name=run_name, revision=revision,
            compute_env=compute_env, work_dir=work_dir, config_profiles=config_profiles,
            config_text=config_text, labels=labels, create_labels=create_labels,
            pre_run_script=pre_run_script, post_run_script=post_run_script,
            pull_latest=pull_latest, stub_run=stub_run, **extra_launch_fields,
        )  # fmt: skip
        return self._drive(_launch.launch(self._ctx, pipeline, opts))

    def ensure_run(
        self,
        pipeline: str | int,
        *,
        run_name: str,
        resume_failed: bool = True,
        **launch_kwargs: Any,
    ) -> RunHandle:
        """Make sure a run called ``run_name`` exists, without ever launching a duplicate.

        Looks up runs named ``run_name`` or ``run_name-rN``. The newest active or SUCCEEDED one
        is reattached; a FAILED / CANCELLED / UNKNOWN one is relaunched as ``run_name-r{N+1}``,
        with Nextflow resume when ``resume_failed`` (fresh when Tower cannot resume it); with none,
        ``pipeline`` is launched as ``run_name``. ``launch_kwargs`` are :meth:`launch`'s options.
        """
        opts = LaunchOptions.build(**launch_kwargs)
        return self._drive(
            _launch.ensure_run(
                self._ctx, pipeline, run_name=run_name, resume_failed=resume_failed, opts=opts
            )
        )

    def relaunch(
        self,
        workflow_id: str,
        *,
        resume: bool = True,
        run_name: str | None = None,
        **overrides: Any,
    ) -> str:
        """Launch a run again from its own launch; returns the new workflow id.

        With ``resume=True`` Nextflow resumes the old session (cached tasks are reused); when
        Tower cannot resume the run it is relaunched from scratch (logged). ``overrides`` are
        :meth:`launch`'s options.
        """
        opts = LaunchOptions.build(run_name=run_name, **overrides)
        new_id, _ = self._drive(_launch.relaunch(self._ctx, workflow_id, resume=resume, opts=opts))
        return new_id

    # --- runs ------------------------------------------------------------------------------------

    def get_workflow(self, workflow_id: str) -> Workflow:
        """A run with its progress, labels, job info and org / workspace names."""
        return self._drive(runs.get_workflow(self._ctx, workflow_id))

    def find_workflow(self, run_name: str) -> Workflow | None:
        """The newest run named exactly ``run_name``, or ``None``."""
        return self._drive(flows.find_workflow(self._ctx, run_name))

    def list_workflows(self, search: str | None = None) -> Iterator[Workflow]:
        """Runs of the workspace, fetched page by page as you iterate.

        ``search`` takes free text and ``key:value`` filters, e.g. ``"status:failed"``.
        """
        return self._iterate(flows.list_workflows(self._ctx, search))

    def get_progress(self, workflow_id: str) -> Progress:
        """Task counts of a run, overall and per process."""
        return self._drive(runs.get_progress(self._ctx, workflow_id))

    def list_tasks(self, workflow_id: str, status: str | TaskStatus | None = None) -> list[Task]:
        """All tasks of a run (every page), optionally only those with ``status``."""
        return self._drive(runs.list_tasks(self._ctx, workflow_id, status))

    def get_log(self, workflow_id: str, tail: int | None = 100) -> list[str]:
        """The last ``tail`` lines of the run's Nextflow log (``None``: every line)."""
        return self._drive(runs.get_log(self._ctx, workflow_id, tail))

    def cancel(self, workflow_id: str, force: bool = False) -> None:
        """Cancel a run (``force``: in Tower even if the compute environment cannot)."""
        self._drive(runs.cancel(self._ctx, workflow_id, force))

    def wait(
        self,
        workflow_id: str,
        *,
        poll_interval: float = 30.0,
        timeout: float | None = None,
        unknown_timeout: float = 3600.0,
        on_change: Callable[[Workflow], Any] | None = None,
    ) -> Workflow:
        """Poll until the run is SUCCEEDED, FAILED or CANCELLED and return it.

        ``on_change(workflow)`` is called on every status change. A few failed status checks in
        a row are tolerated. Raises :class:`WaitTimeoutError` after ``timeout`` seconds, and
        :class:`WorkflowFailedError` if the run stays UNKNOWN for ``unknown_timeout`` seconds.
        A FAILED run is returned, not raised: see :meth:`failure_report`.
        """
        return self._drive(
            runs.wait(
                self._ctx,
                workflow_id,
                poll_interval=poll_interval,
                timeout=timeout,
                unknown_timeout=unknown_timeout,
                on_change=on_change,
            )
        )

    def failure_report(self, workflow_id_or_workflow: str | Workflow) -> FailureReport:
        """Why a run failed (error, exit status, failed tasks, log tail, run URL)."""
        return self._drive(runs.failure_report(self._ctx, workflow_id_or_workflow))

    def run_url(self, workflow: Workflow) -> str | None:
        """The run page in the web UI (``None`` if the workflow lacks org and user names)."""
        return run_url(self._config.web_url, workflow)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Call any endpoint through the same rate limiter, retries and errors; parsed JSON."""
        return self._drive(flows.request(self._ctx, method, path, params, json))
