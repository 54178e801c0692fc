"""The client operations that are neither about one run (``_runs.py``) nor look-ups
(``_lookups.py``): service info, listings, launching and any endpoint. Each operation is
written once, where it is implemented: signature, documentation and the flow doing it.

``TowerClient`` and ``AsyncTowerClient`` turn every operation into a method of the same
name, signature and documentation (``ctx`` becomes ``self``): the sync client runs the flow
with blocking I/O, the async client with ``await``. A listing becomes an iterator (``for`` /
``async for``) fetching pages as you go. Nothing here does I/O.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from . import _datasets as datasets
from . import _endpoints as ep
from . import _launch as launching
from . import _lookups as lookups
from ._exceptions import TowerConfigError
from ._flows import Flow, FlowContext, Listing
from ._launch_options import LaunchOptions
from ._models import Label, Workflow
from ._resources import ComputeEnv, Pipeline, RunHandle, ServiceInfo

__all__ = [
    "ensure_run", "find_workflow", "launch", "list_compute_envs", "list_labels",
    "list_pipelines", "list_workflows", "relaunch", "request", "service_info",
]  # fmt: skip

_DATASET_ARGUMENTS = (("dataset", None), ("dataset_param", "input"))

# --- identity, workspaces, launchpad ------------------------------------------------------------


def service_info(ctx: FlowContext, /) -> Flow[ServiceInfo]:
    """Tower version and limits (``GET /service-info``; works without a valid token)."""
    return ServiceInfo.model_validate((yield ep.service_info()) or {})


def list_pipelines(ctx: FlowContext, /, search: str | None = None) -> Listing[Pipeline]:
    """Launchpad pipelines (``search``: part of the name or repository), page by page."""
    return lookups.listing(ctx, ep.list_pipelines, "pipelines", Pipeline.model_validate, search)


def list_compute_envs(ctx: FlowContext, /, status: str | None = None) -> Flow[list[ComputeEnv]]:
    """Compute environments of the workspace (``status`` e.g. ``"AVAILABLE"``)."""
    ws = yield from lookups.workspace_id(ctx)
    data = yield ep.list_compute_envs(ws, status=status)
    return [ComputeEnv.model_validate(env) for env in (data or {}).get("computeEnvs") or []]


def list_labels(ctx: FlowContext, /, search: str | None = None) -> Listing[Label]:
    """Labels of the workspace (``search``: part of the name), page by page."""
    return lookups.listing(ctx, ep.list_labels, "labels", Label.model_validate, search)


# --- launching ----------------------------------------------------------------------------------


def launch(
    ctx: FlowContext,
    /,
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
    dataset: Any = None,
    dataset_param: str = "input",
    **extra_launch_fields: Any,
) -> Flow[str]:
    """Launch a pipeline; returns the new workflow id.

    ``pipeline`` is a launchpad name or id (its saved launch is the base, overrides go on top;
    pipelines shared by other workspaces too), a repository URL, or GitHub's ``owner/repo``
    (a launchpad pipeline of that exact name if there is one, else the repository); a
    repository runs in the primary compute environment and its work dir unless given.
    ``params`` is a dict or a ``.json`` / ``.yaml`` file, merged over the saved params
    (``params_mode="replace"`` replaces them). ``labels`` are names (``"name"`` or
    ``"key=value"``) or ids; missing ones are created only with ``create_labels=True``.
    Other ``WorkflowLaunchRequest`` fields pass through, e.g. ``headJobCpus=4`` or
    ``head_job_cpus=4``. ``dataset`` (a :class:`DatasetUpload`, a dataset name or id, a
    ``DatasetVersion`` or a URL) sets ``params[dataset_param]`` to the version URL, uploading
    or reusing the content first. Bad input raises :class:`TowerConfigError` before any call.
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
    datasets.check_dataset_arguments(dataset, dataset_param)
    opts = yield from datasets.with_dataset(ctx, opts, dataset, dataset_param)
    return (yield from launching.launch(ctx, pipeline, opts))


def ensure_run(
    ctx: FlowContext,
    /,
    pipeline: str | int,
    *,
    run_name: str,
    resume_failed: bool = True,
    former_names: Sequence[str] = (),
    **launch_kwargs: Any,
) -> Flow[RunHandle]:
    """Make sure a run called ``run_name`` exists, without ever launching a duplicate.

    Looks up runs named ``run_name`` or ``run_name-rN``. The newest active or SUCCEEDED one
    is reattached; a FAILED / CANCELLED / UNKNOWN one is relaunched as ``run_name-r{N+1}``,
    with Nextflow resume when ``resume_failed`` (fresh when Tower cannot resume it); with none,
    ``pipeline`` is launched as ``run_name``. ``launch_kwargs`` are :meth:`launch`'s options.

    ``former_names``: names the same run had under an earlier naming scheme. When no run is
    called ``run_name``, a run found under one of them (or its ``-rN``) is the run, and keeps
    that name, so a run started before a naming change is reattached, not launched twice.
    """
    if isinstance(former_names, str):
        raise TowerConfigError("former_names must be a list of run names, not one string")
    dataset, dataset_param = (launch_kwargs.pop(k, d) for k, d in _DATASET_ARGUMENTS)
    opts = LaunchOptions.build(**launch_kwargs)
    datasets.check_dataset_arguments(dataset, dataset_param)
    opts = yield from datasets.with_dataset(ctx, opts, dataset, dataset_param)
    return (
        yield from launching.ensure_run(
            ctx,
            pipeline,
            run_name=run_name,
            resume_failed=resume_failed,
            opts=opts,
            former_names=tuple(name for name in former_names if name and name != run_name),
        )
    )


def relaunch(
    ctx: FlowContext,
    /,
    workflow_id: str,
    *,
    resume: bool = True,
    run_name: str | None = None,
    **overrides: Any,
) -> Flow[str]:
    """Launch a run again from its own launch; returns the new workflow id.

    With ``resume=True`` Nextflow resumes the old session (cached tasks are reused); when
    Tower cannot resume the run it is relaunched from scratch (logged). ``overrides`` are
    :meth:`launch`'s options.
    """
    opts = LaunchOptions.build(run_name=run_name, **overrides)
    new_id, _ = yield from launching.relaunch(ctx, workflow_id, resume=resume, opts=opts)
    return new_id


# --- runs ---------------------------------------------------------------------------------------


def find_workflow(ctx: FlowContext, /, run_name: str) -> Flow[Workflow | None]:
    """The newest run named exactly ``run_name``, or ``None``."""
    runs_named = yield from lookups.find_runs(ctx, run_name, attempts=False)
    return max(runs_named, key=lookups.created_at) if runs_named else None


def list_workflows(ctx: FlowContext, /, search: str | None = None) -> Listing[Workflow]:
    """Runs of the workspace, newest first, page by page.

    ``search`` takes free text and ``key:value`` filters, e.g. ``"status:failed"``.
    """
    return lookups.listing(ctx, ep.list_workflows, "workflows", Workflow.model_validate, search)


def request(
    ctx: FlowContext,
    /,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
) -> Flow[Any]:
    """Call any endpoint through the same rate limiter, retries and errors; parsed JSON.

    ``path`` is an API path such as ``"/workflow/4Bi5xBK6E2Nbhj/metrics"``; the query goes in
    ``params`` (the configured workspace is not added: pass ``workspaceId`` yourself).
    """
    if not isinstance(method, str) or not method.strip().isalpha():
        raise TowerConfigError(f"method must be an HTTP method such as 'GET', got {method!r}")
    if not isinstance(path, str) or not path.strip() or "://" in path or "?" in path:
        raise TowerConfigError(
            f"path must be an API path such as '/workflow/abc' (query in params=), got {path!r}"
        )
    return (yield ep.raw(method.strip(), path.strip(), params=params, json=json))
