"""`TowerPipeline` (a job block) and `TowerWorkflowRun` (the run it triggers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect._internal.compatibility.async_dispatch import async_dispatch
from prefect.blocks.abstract import JobBlock, JobRun
from pydantic import Field

from .credentials import TowerCredentials

if TYPE_CHECKING:
    from nftower import Workflow

    from ._reporting import RunReporter

__all__ = ["TowerPipeline", "TowerWorkflowRun"]

_DEFAULT_POLL_INTERVAL = 30.0


class TowerWorkflowRun(JobRun["Workflow"]):
    """A Tower run started by `TowerPipeline.trigger()`.

    Examples:
        ```python
        run = TowerPipeline.load("BLOCK_NAME").trigger()
        print(run.workflow_id, run.run_url)
        run.wait_for_completion()
        workflow = run.fetch_result()
        ```
    """

    def __init__(
        self,
        pipeline: TowerPipeline,
        workflow_id: str,
        *,
        action: str = "launched",
        reporter: RunReporter | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.workflow_id = workflow_id
        self.action = action
        self._reporter = reporter

    @property
    def run_url(self) -> str | None:
        """The Tower run page."""
        return self._reporter.run_url if self._reporter is not None else None

    def __repr__(self) -> str:
        return f"TowerWorkflowRun(workflow_id={self.workflow_id!r}, action={self.action!r})"

    async def await_for_completion(self) -> None:
        """Async form of `wait_for_completion`."""
        from ._watching import WaitPlan, await_run

        block = self.pipeline
        plan = WaitPlan(
            self.workflow_id,
            block.poll_interval,
            block.timeout or None,
            cancel_on_exit=block.cancel_on_exit,
        )
        await await_run(block.credentials, plan, self._reporter)

    @async_dispatch(await_for_completion)
    def wait_for_completion(self) -> None:  # type: ignore[override]
        """Wait until the run finishes; raise `nftower.WorkflowFailedError` unless it succeeded.

        Status checks go through the process's shared poller every `poll_interval` seconds;
        status changes are logged; past `timeout` the Tower run is cancelled (unless
        `cancel_on_exit=False`) and `nftower.WaitTimeoutError` raised.
        """
        from ._watching import run_sync

        run_sync(self.await_for_completion())

    async def afetch_result(self) -> Workflow:
        """Async form of `fetch_result`."""
        async with self.pipeline.credentials.get_async_client() as client:
            return await client.get_workflow(self.workflow_id)

    @async_dispatch(afetch_result)
    def fetch_result(self) -> Workflow:  # type: ignore[override]
        """The run's current (after `wait_for_completion`: final) workflow details."""
        with self.pipeline.credentials.get_client() as client:
            return client.get_workflow(self.workflow_id)

    async def acancel(self, force: bool = False) -> None:
        """Async form of `cancel`."""
        from ._launching import forget_run

        async with self.pipeline.credentials.get_async_client() as client:
            await client.cancel(self.workflow_id, force=force)
        forget_run(self.workflow_id)
        self.logger.info("Cancelled Tower run %s", self.workflow_id)

    @async_dispatch(acancel)
    def cancel(self, force: bool = False) -> None:
        """Cancel the Tower run."""
        from ._launching import forget_run

        with self.pipeline.credentials.get_client() as client:
            client.cancel(self.workflow_id, force=force)
        forget_run(self.workflow_id)
        self.logger.info("Cancelled Tower run %s", self.workflow_id)


class TowerPipeline(JobBlock["Workflow"]):
    """A pipeline on Nextflow Tower / Seqera Platform with its launch options.

    `trigger()` launches it and returns a `TowerWorkflowRun`. Inside a flow run the
    launch gets a deterministic run name, so a retry reattaches to the run already
    started rather than launching twice.

    Examples:
        Launch the stored pipeline and wait for it:
        ```python
        from prefect_nftower import TowerPipeline

        pipeline = TowerPipeline.load("BLOCK_NAME")
        run = pipeline.trigger()
        run.wait_for_completion()
        print(run.fetch_result().status)
        ```
    """

    _block_type_name = "Tower Pipeline"
    _block_type_slug = "tower-pipeline"
    # No logo and no documentation URL: the package publishes neither at an address that
    # can be checked, and Prefect's UI draws a broken image for a logo URL that fails.

    # Plain types with empty defaults (empty = not set): Prefect's form draws an optional
    # type as a type switch ("str | None") that must be clicked before typing.
    credentials: TowerCredentials = Field(description="Tower credentials block.")
    pipeline: str = Field(
        description="Launchpad pipeline name or id, or a pipeline repository URL."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Pipeline parameters, merged over the launchpad's."
    )
    revision: str = Field(default="", description="Git revision: branch, tag or commit.")
    config_profiles: list[str] = Field(
        default_factory=list, description="Nextflow config profiles."
    )
    compute_env: str = Field(
        default="",
        description="Compute environment name or id (empty: the launchpad's, else primary).",
    )
    work_dir: str = Field(default="", description="Nextflow work directory.")
    labels: list[str] = Field(default_factory=list, description="Label names for the run.")
    run_name: str = Field(default="", description="Readable prefix of the Tower run name.")
    poll_interval: float = Field(
        default=_DEFAULT_POLL_INTERVAL, gt=0, description="Seconds between status checks."
    )
    timeout: float = Field(
        default=0,
        ge=0,
        description="Seconds to wait for the run at most (0: no limit).",
    )
    cancel_on_exit: bool = Field(
        default=True,
        description="Cancel the Tower run when waiting times out or is cancelled.",
    )
    dataset: str = Field(
        default="",
        description="Dataset name, id or version URL passed as the dataset parameter.",
    )
    dataset_param: str = Field(
        default="input", description="Pipeline parameter taking the dataset's version URL."
    )

    async def atrigger(self) -> TowerWorkflowRun:
        """Async form of `trigger`."""
        from ._launching import alaunch, launch_arguments

        arguments = dict(self)
        if self.dataset:
            arguments["launch_options"] = {
                "dataset": self.dataset,
                "dataset_param": self.dataset_param,
            }
        handle, reporter = await alaunch(self.credentials, **launch_arguments(arguments))
        return TowerWorkflowRun(self, handle.workflow_id, action=handle.action, reporter=reporter)

    @async_dispatch(atrigger)
    def trigger(self) -> TowerWorkflowRun:  # type: ignore[override]
        """Launch the pipeline (or reattach, inside a retried flow run)."""
        from ._watching import run_sync

        return run_sync(self.atrigger())
