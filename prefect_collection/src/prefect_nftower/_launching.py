"""Launching without duplicates, shared by the launch task and `TowerPipeline.trigger`.

Inside a flow run every launch gets a deterministic Tower run name built from the flow-run
id and a fingerprint of the launch options, and goes through `ensure_run`: a retry of
the task or of the whole flow run finds the run the previous attempt started and reattaches
(or resumes it, if it failed) instead of starting a second paid run. Outside Prefect runs
it is a plain launch.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ._context import current_flow_run_id, current_flow_run_labels, flow_run_ran_before
from ._guard import aguard
from ._reporting import RunReporter

if TYPE_CHECKING:
    from nftower import RunHandle

    from .credentials import TowerCredentials

__all__ = [
    "LAUNCH_OPTIONS",
    "active_runs",
    "alaunch",
    "deterministic_run_name",
    "follow_run",
    "forget_run",
    "launch_arguments",
    "remember_run",
]

_LOCK = threading.Lock()
_ACTIVE: dict[UUID, dict[str, TowerCredentials]] = {}


def remember_run(workflow_id: str, credentials: TowerCredentials) -> None:
    """Note a run being watched by the current flow run (for its cancellation hook)."""
    flow_run_id = current_flow_run_id()
    if flow_run_id is not None:
        with _LOCK:
            _ACTIVE.setdefault(flow_run_id, {})[workflow_id] = credentials


def follow_run(workflow_id: str, credentials: TowerCredentials, cancel_on_exit: bool) -> None:
    """A wait starts: the hook cancels the run only if the wait would cancel it too."""
    if cancel_on_exit:
        remember_run(workflow_id, credentials)
    else:
        forget_run(workflow_id)


def forget_run(workflow_id: str) -> None:
    """The run finished or was cancelled: the cancellation hook can leave it alone."""
    with _LOCK:
        for runs in _ACTIVE.values():
            runs.pop(workflow_id, None)


def active_runs(flow_run_id: UUID) -> dict[str, TowerCredentials]:
    """Runs started or watched by a flow run and not finished yet (and forget them)."""
    with _LOCK:
        return _ACTIVE.pop(flow_run_id, {})


#: Launch options of the launch task, the flow and the job block, named as `nftower` names them.
LAUNCH_OPTIONS = ("params", "revision", "config_profiles", "compute_env", "work_dir", "labels")


def launch_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The `alaunch` keyword arguments from a task's or block's arguments.

    `pipeline`, `run_name` and `resume_failed` pass through; of the `LAUNCH_OPTIONS`, the
    ones set (None or empty is unset); further `nftower` launch options come from
    `launch_options`.

    Example:
        >>> launch_arguments({"pipeline": "rnaseq", "revision": "3.14.0", "labels": []})
        {'revision': '3.14.0', 'pipeline': 'rnaseq', 'run_name': None, 'resume_failed': True}
    """
    kwargs: dict[str, Any] = dict(arguments.get("launch_options") or {})
    kwargs.update({k: arguments[k] for k in LAUNCH_OPTIONS if _is_set(arguments.get(k))})
    kwargs.update(
        pipeline=arguments["pipeline"],
        run_name=arguments.get("run_name") or None,
        resume_failed=arguments.get("resume_failed", True),
    )
    return kwargs


def _is_set(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def deterministic_run_name(
    pipeline: str, run_name: str | None, kwargs: dict[str, Any]
) -> tuple[str, str] | None:
    """The Tower run name of a launch from the current flow run, and the name earlier
    versions gave it (None outside flow runs).

    The name reads ``<flow name>-<scheduled day>-<pipeline short name>-<hash>``, or
    ``<run_name>-<hash>`` when `run_name` is given; the hash covers the flow-run id and a
    fingerprint of the launch (pipeline and options), which stay the same when a task or the
    flow run is retried. Identical launches in one flow run are one run; give them different
    `run_name`s to start several.
    """
    from nftower import make_run_name, short_run_name

    flow_run_id = current_flow_run_id()
    if flow_run_id is None:
        return None
    fingerprint = _fingerprint(pipeline, run_name, kwargs)
    prefix = run_name or _short_name(pipeline)
    former = make_run_name(flow_run_id, fingerprint, prefix=prefix)
    if run_name:
        parts: tuple[str | None, ...] = (run_name,)
    else:
        flow_name, day = current_flow_run_labels()
        parts = (flow_name, day, prefix)
    return short_run_name(*parts, key=f"{flow_run_id}/{fingerprint}"), former


def _fingerprint(pipeline: str, run_name: str | None, kwargs: dict[str, Any]) -> str:
    text = json.dumps([pipeline, run_name, kwargs], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _short_name(pipeline: str) -> str:
    name = pipeline.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    return name if name[:1].isalpha() else f"pipeline-{name}"


async def alaunch(
    credentials: TowerCredentials,
    pipeline: str,
    *,
    run_name: str | None = None,
    resume_failed: bool = True,
    **options: Any,
) -> tuple[RunHandle, RunReporter]:
    """Launch (or reattach to) the run of the current Prefect run and report it.

    Sync callers run it with `run_sync`.
    """
    from nftower import RunHandle

    names = deterministic_run_name(pipeline, run_name, options)
    await aguard(credentials)
    async with credentials.get_async_client() as client:
        if names is None:
            workflow_id = await client.launch(pipeline, run_name=run_name, **options)
            handle = RunHandle(workflow_id=workflow_id, run_name=run_name or "", action="launched")
        else:
            name, former = names
            handle = await client.ensure_run(
                pipeline,
                run_name=name,
                resume_failed=resume_failed,
                former_names=[former] if flow_run_ran_before() else [],
                **options,
            )
        link = client.run_url(handle) if handle.action == "launched" else None
        if link is not None and handle.repository:
            reporter = RunReporter.for_launch(handle, link, client.config.workspace_name)
        else:
            workflow = await client.get_workflow(handle.workflow_id)
            reporter = RunReporter.for_workflow(workflow, client.run_url(workflow))
    remember_run(handle.workflow_id, credentials)
    await reporter.alaunched(handle.action)
    return handle, reporter
