"""Prefect tasks for Tower: launch, get, wait, cancel, and any other endpoint.

Every task has a sync and an async form: `launch_workflow` runs synchronously in a sync
flow and returns a coroutine in an async one (`alaunch_workflow` is the async form).

Examples:
    Launch the `rnaseq` launchpad pipeline and wait for it:
    ```python
    from prefect import flow
    from prefect_nftower import TowerCredentials
    from prefect_nftower.tasks import launch_workflow, wait_for_workflow

    @flow
    def nightly():
        credentials = TowerCredentials.load("BLOCK_NAME")
        workflow_id = launch_workflow(credentials, "rnaseq", params={"outdir": "s3://bucket/out"})
        return wait_for_workflow(credentials, workflow_id, poll_interval=60)
    ```
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from ._caching import LAUNCH_CACHE_POLICY
from ._context import run_logger
from ._dispatch import dispatching_task
from ._guard import aguard
from ._launching import alaunch, launch_arguments
from ._watching import DEFAULT_POLL_INTERVAL, DEFAULT_UNKNOWN_TIMEOUT, WaitPlan, await_run, run_sync
from .credentials import TowerCredentials

if TYPE_CHECKING:
    from collections.abc import Iterator

    from nftower import Workflow

__all__ = [
    "acall_tower_endpoint",
    "acancel_workflow",
    "aget_workflow",
    "alaunch_workflow",
    "await_for_workflow",
    "call_tower_endpoint",
    "cancel_workflow",
    "get_workflow",
    "launch_workflow",
    "wait_for_workflow",
]


@contextmanager
def _logged_errors(operation: str) -> Iterator[None]:
    """Log Tower errors (status, operation, message, Error ID; never the token); a failed run
    is not logged again here: its report is already in the log."""
    from nftower import TowerError, WorkflowFailedError

    try:
        yield
    except WorkflowFailedError:
        raise
    except TowerError as exc:
        run_logger().error("Tower %s failed: %s", operation, exc)
        raise


# launch -------------------------------------------------------------------------------


@task(name="launch_workflow", cache_policy=LAUNCH_CACHE_POLICY, persist_result=True, retries=0)
async def alaunch_workflow(
    credentials: TowerCredentials,
    pipeline: str,
    params: dict[str, Any] | str | None = None,
    revision: str | None = None,
    config_profiles: list[str] | None = None,
    compute_env: str | None = None,
    work_dir: str | None = None,
    labels: list[str] | None = None,
    run_name: str | None = None,
    resume_failed: bool = True,
    launch_options: dict[str, Any] | None = None,
) -> str:
    """Async form of `launch_workflow`."""
    with _logged_errors("launch"):
        handle, _ = await alaunch(credentials, **launch_arguments(locals()))
    return handle.workflow_id


@dispatching_task(
    alaunch_workflow,
    name="launch_workflow",
    cache_policy=LAUNCH_CACHE_POLICY,
    persist_result=True,
    retries=0,
)
def launch_workflow(
    credentials: TowerCredentials,
    pipeline: str,
    params: dict[str, Any] | str | None = None,
    revision: str | None = None,
    config_profiles: list[str] | None = None,
    compute_env: str | None = None,
    work_dir: str | None = None,
    labels: list[str] | None = None,
    run_name: str | None = None,
    resume_failed: bool = True,
    launch_options: dict[str, Any] | None = None,
) -> str:
    """Launch a pipeline on Tower once per flow run and return the workflow id.

    The result is cached per flow run and the Tower run gets a deterministic name, so a
    task or flow retry reattaches to the run already started (a FAILED one is resumed
    with `resume_failed=True`) instead of launching again. There are no blind retries.
    A link artifact with the run page and a `tower.run.launched` event follow.

    Args:
        credentials: Tower credentials block.
        pipeline: Launchpad pipeline name or id, or a repository URL.
        params: Pipeline parameters (merged over the launchpad's), or a JSON/YAML file path.
        revision: Git revision (branch, tag or commit).
        config_profiles: Nextflow config profiles.
        compute_env: Compute environment name or id (default: the launchpad's or primary).
        work_dir: Nextflow work directory.
        labels: Label names to attach to the run.
        run_name: Readable prefix of the Tower run name.
        resume_failed: On a retry after the run FAILED, resume it rather than start fresh.
        launch_options: Further `nftower` launch options (e.g. `pre_run_script`).

    Returns:
        The Tower workflow id.

    Examples:
        ```python
        from prefect import flow
        from prefect_nftower import TowerCredentials
        from prefect_nftower.tasks import launch_workflow

        @flow
        def start():
            return launch_workflow(TowerCredentials.load("BLOCK_NAME"), "rnaseq")
        ```
    """
    return run_sync(alaunch_workflow.fn(**locals()))


# get ----------------------------------------------------------------------------------


@task(name="get_workflow", cache_policy=NO_CACHE)
async def aget_workflow(credentials: TowerCredentials, workflow_id: str) -> Workflow:
    """Async form of `get_workflow`."""
    with _logged_errors("get_workflow"):
        await aguard(credentials)
        async with credentials.get_async_client() as client:
            return await client.get_workflow(workflow_id)


@dispatching_task(aget_workflow, name="get_workflow", cache_policy=NO_CACHE)
def get_workflow(credentials: TowerCredentials, workflow_id: str) -> Workflow:
    """Read a Tower run's details (status, progress, error message); never cached.

    Examples:
        ```python
        workflow = get_workflow(TowerCredentials.load("BLOCK_NAME"), "4Bi5xBK6E2Nbhj")
        print(workflow.status)
        ```
    """
    return run_sync(aget_workflow.fn(**locals()))


# wait ---------------------------------------------------------------------------------


@task(name="wait_for_workflow", cache_policy=NO_CACHE)
async def await_for_workflow(
    credentials: TowerCredentials,
    workflow_id: str,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    timeout: float | None = None,
    cancel_on_exit: bool = True,
    raise_on_failure: bool = True,
    unknown_timeout: float = DEFAULT_UNKNOWN_TIMEOUT,
) -> Workflow:
    """Async form of `wait_for_workflow`."""
    plan = WaitPlan(
        workflow_id, poll_interval, timeout, unknown_timeout, cancel_on_exit, raise_on_failure
    )
    with _logged_errors("wait"):
        return await await_run(credentials, plan)


@dispatching_task(await_for_workflow, name="wait_for_workflow", cache_policy=NO_CACHE)
def wait_for_workflow(
    credentials: TowerCredentials,
    workflow_id: str,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    timeout: float | None = None,
    cancel_on_exit: bool = True,
    raise_on_failure: bool = True,
    unknown_timeout: float = DEFAULT_UNKNOWN_TIMEOUT,
) -> Workflow:
    """Wait in this one task run for a Tower run to finish and return its final details.

    Status checks go through the process's shared poller (`nftower.monitor`, one per API
    URL, token and workspace), so many concurrent waits cost about what one costs. Logs only
    status changes; emits `tower.run.<status>` events, keeps a progress
    artifact current and writes a markdown summary at the end. A run that ends FAILED or
    CANCELLED (or UNKNOWN for `unknown_timeout` seconds) raises
    `nftower.WorkflowFailedError` with status, run URL, error message and failed tasks,
    unless `raise_on_failure=False`. Past `timeout` it raises `nftower.WaitTimeoutError`.
    On a timeout, a cancellation or a termination signal the Tower run is cancelled too
    (opt out with `cancel_on_exit=False`); after a Tower API error it keeps running, so a
    retry can reattach.

    Args:
        credentials: Tower credentials block.
        workflow_id: Tower workflow id, e.g. from `launch_workflow`.
        poll_interval: Seconds between status checks (the shared poller uses the shortest
            interval any of its waits asks for).
        timeout: Seconds to wait at most (None: no limit).
        cancel_on_exit: Cancel the Tower run when the wait is interrupted.
        raise_on_failure: Raise when the run did not succeed.
        unknown_timeout: Seconds of UNKNOWN status after which the run counts as failed.

    Returns:
        The final `nftower.Workflow`.
    """
    return run_sync(await_for_workflow.fn(**locals()))


# cancel -------------------------------------------------------------------------------


@task(name="cancel_workflow", cache_policy=NO_CACHE)
async def acancel_workflow(
    credentials: TowerCredentials, workflow_id: str, force: bool = False
) -> None:
    """Async form of `cancel_workflow`."""
    with _logged_errors("cancel"):
        await aguard(credentials)
        async with credentials.get_async_client() as client:
            await client.cancel(workflow_id, force=force)
    run_logger().info("Cancelled Tower run %s", workflow_id)


@dispatching_task(acancel_workflow, name="cancel_workflow", cache_policy=NO_CACHE)
def cancel_workflow(credentials: TowerCredentials, workflow_id: str, force: bool = False) -> None:
    """Cancel a Tower run.

    Examples:
        ```python
        cancel_workflow(TowerCredentials.load("BLOCK_NAME"), "4Bi5xBK6E2Nbhj")
        ```
    """
    run_sync(acancel_workflow.fn(**locals()))


# any endpoint -------------------------------------------------------------------------


@task(name="call_tower_endpoint", cache_policy=NO_CACHE)
async def acall_tower_endpoint(
    credentials: TowerCredentials,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    json: Any = None,
) -> Any:
    """Async form of `call_tower_endpoint`."""
    with _logged_errors(f"{method.upper()} {path}"):
        await aguard(credentials)
        async with credentials.get_async_client() as client:
            return await client.request(method, path, params=params, json=json)


@dispatching_task(acall_tower_endpoint, name="call_tower_endpoint", cache_policy=NO_CACHE)
def call_tower_endpoint(
    credentials: TowerCredentials,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    json: Any = None,
) -> Any:
    """Call any Tower API endpoint through the same limiter, retries and error handling.

    Args:
        credentials: Tower credentials block.
        method: HTTP method, e.g. "GET".
        path: API path, e.g. "/workflow/{id}/metrics".
        params: Query parameters (the configured workspace is not added: pass
            `workspaceId` yourself).
        json: JSON body.

    Returns:
        The parsed JSON response.

    Examples:
        ```python
        metrics = call_tower_endpoint(
            TowerCredentials.load("BLOCK_NAME"), "GET", "/workflow/4Bi5xBK6E2Nbhj/metrics"
        )
        ```
    """
    return run_sync(acall_tower_endpoint.fn(**locals()))
