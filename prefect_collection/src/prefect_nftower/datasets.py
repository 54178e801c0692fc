"""Prefect tasks for datasets and a run's results: upload a samplesheet, save the run's files
(with a table artifact of their sizes), and record the run's output directory as assets.

Examples:
    Upload tonight's samplesheet and launch the pipeline on it:
    ```python
    from prefect import flow
    from prefect_nftower import TowerCredentials
    from prefect_nftower.datasets import upload_dataset
    from prefect_nftower.flows import run_pipeline

    @flow
    def nightly():
        credentials = TowerCredentials.load("BLOCK_NAME")
        url = upload_dataset(credentials, "nightly", "samplesheet.csv")
        return run_pipeline(credentials, "rnaseq", dataset=url)
    ```
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from ._context import in_run_context, run_logger
from ._dispatch import dispatching_task
from ._guard import aguard
from ._watching import run_sync
from .credentials import TowerCredentials

if TYPE_CHECKING:
    from nftower import Workflow

__all__ = [
    "amaterialize_outputs",
    "asave_run_files",
    "aupload_dataset",
    "materialize_outputs",
    "save_run_files",
    "upload_dataset",
]

#: The run files `save_run_files` fetches, by kind.
RUN_FILES = {"log": "nf-{id}.log", "txt": "nf-{id}.txt", "timeline": "timeline-{id}.html"}
OUTPUTS_EVENT = "tower.run.outputs"


# upload ----------------------------------------------------------------------------------


@task(name="upload_dataset", cache_policy=NO_CACHE, retries=0)
async def aupload_dataset(
    credentials: TowerCredentials,
    dataset: str,
    data: Any,
    header: bool = True,
    file_name: str | None = None,
    description: str | None = None,
) -> str:
    """Async form of `upload_dataset`."""
    await aguard(credentials)
    async with credentials.get_async_client() as client:
        found = await client.get_or_create_dataset(dataset, description)
        version = await client.upload_dataset_version(
            found, data, header=header, file_name=file_name
        )
    run_logger().info(
        "Dataset %s version %s (%s): %s",
        found.name,
        version.version,
        version.file_name,
        version.url,
    )
    return str(version.url)


@dispatching_task(aupload_dataset, name="upload_dataset", cache_policy=NO_CACHE, retries=0)
def upload_dataset(
    credentials: TowerCredentials,
    dataset: str,
    data: Any,
    header: bool = True,
    file_name: str | None = None,
    description: str | None = None,
) -> str:
    """Upload a samplesheet as a new version of a Tower dataset; return the version URL.

    The dataset is created when missing. A retried task finds the version with the same
    content and returns it: nothing is uploaded twice.

    Args:
        credentials: Tower credentials block.
        dataset: Dataset name.
        data: A path, bytes, a text or binary stream, or a DataFrame (`to_csv()`).
        header: The first row is a header.
        file_name: The version's file name (`.csv` or `.tsv`; default: the path's name,
            else `samplesheet.csv`).
        description: Description of a dataset created here.

    Returns:
        The version's URL, for a pipeline's `input` parameter (`run_pipeline(dataset=...)`).
    """
    return run_sync(aupload_dataset.fn(credentials, dataset, data, header, file_name, description))


# run files ---------------------------------------------------------------------------------


@task(name="save_run_files", cache_policy=NO_CACHE, retries=0)
async def asave_run_files(
    credentials: TowerCredentials,
    workflow_id: str,
    directory: str | os.PathLike[str],
    files: list[str] | None = None,
) -> dict[str, int]:
    """Async form of `save_run_files`."""
    from nftower import BadRequestError, NotFoundError

    kinds = files or list(RUN_FILES)
    unknown = sorted(set(kinds) - set(RUN_FILES))
    if unknown:
        raise ValueError(f"files must be some of {sorted(RUN_FILES)}, got {kinds}")
    os.makedirs(directory, exist_ok=True)
    target = Path(directory)
    saved: dict[str, int] = {}
    await aguard(credentials)
    async with credentials.get_async_client() as client:
        for kind in kinds:
            name = RUN_FILES[kind].format(id=workflow_id)
            try:
                saved[name] = await client.download_run_file(workflow_id, name, target / name)
            except (NotFoundError, BadRequestError) as err:
                run_logger().warning("Skipped %s: %s", name, err)
    if in_run_context():
        from prefect.artifacts import acreate_table_artifact

        rows = [{"file": n, "bytes": size, "path": str(target / n)} for n, size in saved.items()]
        await acreate_table_artifact(
            table=rows, key=f"tower-files-{workflow_id.lower()}", description="Tower run files"
        )
    return saved


@dispatching_task(asave_run_files, name="save_run_files", cache_policy=NO_CACHE, retries=0)
def save_run_files(
    credentials: TowerCredentials,
    workflow_id: str,
    directory: str | os.PathLike[str],
    files: list[str] | None = None,
) -> dict[str, int]:
    """Save a run's files (`log`, `txt`, `timeline`; default all) to `directory`, streamed in
    chunks, and list them with their sizes in a table artifact. Files Tower does not have
    (gone, or a run launched from the Nextflow CLI) are logged and skipped.

    Args:
        credentials: Tower credentials block.
        workflow_id: The run.
        directory: Where to write the files (created when missing).
        files: Kinds to fetch: `log` (`nf-<id>.log`), `txt`, `timeline`.

    Returns:
        File name -> bytes written.
    """
    return run_sync(asave_run_files.fn(credentials, workflow_id, directory, files))


# outputs as assets ---------------------------------------------------------------------------


def _emit_outputs_event(workflow_id: str, locations: list[str], work_dir: str | None) -> None:
    from prefect.events import emit_event

    emit_event(
        event=OUTPUTS_EVENT,
        resource={"prefect.resource.id": f"tower.run.{workflow_id}"},
        payload={"workflow_id": workflow_id, "outputs": locations, "work_dir": work_dir},
    )


@task(name="materialize_outputs", cache_policy=NO_CACHE, retries=0)
async def amaterialize_outputs(
    credentials: TowerCredentials, workflow: str | Workflow
) -> list[str]:
    """Async form of `materialize_outputs`."""
    await aguard(credentials)
    async with credentials.get_async_client() as client:
        outputs = await client.run_outputs(workflow)
        described = await client.get_workflow(outputs.workflow_id or "")
        run_url = client.run_url(described)
    locations = [loc for loc in outputs.locations if "://" in loc]
    workflow_id = outputs.workflow_id or ""
    if not locations:
        run_logger().info("Run %s names no output location with a scheme", workflow_id)
        return []
    try:
        from prefect.assets import add_asset_metadata, materialize
    except ImportError:  # a Prefect without the asset API
        _emit_outputs_event(workflow_id, locations, outputs.work_dir)
        return locations
    metadata = {"tower_workflow_id": workflow_id, "tower_run_url": run_url}

    def record() -> None:
        for location in locations:
            add_asset_metadata(location, {**metadata, "tower_work_dir": outputs.work_dir})

    materialize(*locations, by="nextflow-tower")(record)()
    run_logger().info("Materialized %s", ", ".join(locations))
    return locations


@dispatching_task(
    amaterialize_outputs, name="materialize_outputs", cache_policy=NO_CACHE, retries=0
)
def materialize_outputs(credentials: TowerCredentials, workflow: str | Workflow) -> list[str]:
    """Record the run's output locations (its `outdir`-like params) as Prefect assets
    materialized by the run, with its id and URL as metadata; Prefect versions without the
    asset API get a `tower.run.outputs` event instead.

    Args:
        credentials: Tower credentials block.
        workflow: The run (a workflow id or a `Workflow`).

    Returns:
        The asset keys (output locations with a scheme, e.g. `s3://bucket/results`).
    """
    return run_sync(amaterialize_outputs.fn(credentials, workflow))
