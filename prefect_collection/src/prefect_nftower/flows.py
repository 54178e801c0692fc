"""`run_pipeline`: launch a Tower pipeline, wait for it, return the final workflow.

Examples:
    ```python
    from prefect_nftower import TowerCredentials
    from prefect_nftower.flows import run_pipeline

    workflow = run_pipeline(
        TowerCredentials.load("BLOCK_NAME"), "rnaseq", params={"outdir": "s3://bucket/out"}
    )
    print(workflow.status)
    ```
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from prefect import flow

from ._dispatch import dispatching_flow
from ._launching import LAUNCH_OPTIONS
from ._watching import DEFAULT_POLL_INTERVAL, WaitPlan
from .credentials import TowerCredentials
from .hooks import cancel_tower_runs
from .tasks import alaunch_workflow, await_for_workflow, launch_workflow, wait_for_workflow

if TYPE_CHECKING:
    from nftower import Workflow

__all__ = ["arun_pipeline", "run_pipeline"]

_LAUNCH = ("credentials", "pipeline", *LAUNCH_OPTIONS, "run_name")
_WAIT = ("poll_interval", "timeout", "cancel_on_exit")


def _pick(arguments: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The flow's arguments that one of its tasks takes."""
    return {name: arguments[name] for name in names}


def _dataset(dataset: str | None, dataset_param: str) -> dict[str, Any] | None:
    """The launch options passing a dataset (None without one)."""
    return {"dataset": dataset, "dataset_param": dataset_param} if dataset else None


@flow(name="run-tower-pipeline", on_cancellation=[cancel_tower_runs])
async def arun_pipeline(
    credentials: TowerCredentials,
    pipeline: str,
    params: dict[str, Any] | None = None,
    revision: str | None = None,
    config_profiles: list[str] | None = None,
    compute_env: str | None = None,
    work_dir: str | None = None,
    labels: list[str] | None = None,
    run_name: str | None = None,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    timeout: float | None = None,
    cancel_on_exit: bool = True,
    dataset: str | None = None,
    dataset_param: str = "input",
) -> Workflow:
    """Async form of `run_pipeline`."""
    arguments = locals()
    WaitPlan("", poll_interval, timeout)  # bad wait values are refused before the launch
    workflow_id: str = await alaunch_workflow(
        **_pick(arguments, _LAUNCH), launch_options=_dataset(dataset, dataset_param)
    )
    workflow: Workflow = await await_for_workflow(
        credentials, workflow_id, **_pick(arguments, _WAIT)
    )
    return workflow


@dispatching_flow(arun_pipeline, name="run-tower-pipeline", on_cancellation=[cancel_tower_runs])
def run_pipeline(
    credentials: TowerCredentials,
    pipeline: str,
    params: dict[str, Any] | None = None,
    revision: str | None = None,
    config_profiles: list[str] | None = None,
    compute_env: str | None = None,
    work_dir: str | None = None,
    labels: list[str] | None = None,
    run_name: str | None = None,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    timeout: float | None = None,
    cancel_on_exit: bool = True,
    dataset: str | None = None,
    dataset_param: str = "input",
) -> Workflow:
    """Launch a pipeline on Tower, wait for it and return the final workflow.

    One launch per flow run (a retry reattaches), polling in one task run, the Tower run
    cancelled on timeout or flow cancellation (unless `cancel_on_exit=False`), a link,
    progress and summary artifact, and `tower.run.*` events. A run that ends
    FAILED or CANCELLED fails the flow with `nftower.WorkflowFailedError`: status, run
    URL, error message and failed tasks.

    Args:
        credentials: Tower credentials block.
        pipeline: Launchpad pipeline name or id, or a repository URL.
        params: Pipeline parameters, merged over the launchpad's.
        revision: Git revision (branch, tag or commit).
        config_profiles: Nextflow config profiles.
        compute_env: Compute environment name or id.
        work_dir: Nextflow work directory.
        labels: Label names to attach to the run.
        run_name: Readable prefix of the Tower run name.
        poll_interval: Seconds between status checks.
        timeout: Seconds to wait at most (None: no limit); the run is cancelled past it.
        cancel_on_exit: Cancel the Tower run on timeout or cancellation.
        dataset: A dataset name, id or version URL (e.g. what `upload_dataset` returned);
            its version URL becomes the pipeline parameter `dataset_param`.
        dataset_param: The pipeline parameter taking the dataset URL.

    Returns:
        The final `nftower.Workflow`.
    """
    arguments = locals()
    WaitPlan("", poll_interval, timeout)  # bad wait values are refused before the launch
    # inside a sync flow the dispatching tasks run synchronously
    launch = _pick(arguments, _LAUNCH)
    workflow_id = cast(
        str, launch_workflow(**launch, launch_options=_dataset(dataset, dataset_param))
    )
    return cast("Workflow", wait_for_workflow(credentials, workflow_id, **_pick(arguments, _WAIT)))
