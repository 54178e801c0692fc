"""Launching: options checked up front, the launch request merged over a saved launch,
relaunch / resume, and ``ensure_run`` (the one place that prevents duplicate launches).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any, Literal, TypeVar

from . import _endpoints as ep
from . import status as run_status
from ._exceptions import LaunchOutcomeUnknownError, TowerConfigError, TowerError
from ._flows import Flow, FlowContext
from ._launch_options import LaunchOptions
from ._launch_request import (
    apply_options,
    build_request,
    copy_launch,
    resolve_labels,
    use_compute_env,
)
from ._lookups import attempt_number, created_at, find_runs, workspace_id
from ._models import Workflow
from ._resources import ComputeEnv, RunHandle
from ._run_access import on_run
from ._run_lease import Lease, holding_lease, launch_grace
from ._runname import RELAUNCH_SUFFIX_ROOM, check_run_name

__all__ = ["LaunchOptions", "build_request", "ensure_run", "launch", "relaunch"]

logger = logging.getLogger("nftower")
T = TypeVar("T")

# --- submitting ----------------------------------------------------------------------------------


def _submit(ws: int | None, request: dict[str, Any], source_ws: int | None = None) -> Flow[str]:
    data = yield ep.launch(ws, request, source_workspace_id=source_ws)
    workflow_id = (data or {}).get("workflowId") if isinstance(data, dict) else None
    if not isinstance(workflow_id, str) or not workflow_id:
        raise LaunchOutcomeUnknownError(
            "Tower accepted the launch but returned no workflowId; the run has probably started: "
            f"look for run {request.get('runName')!r} before launching again",
            operation=ep.LAUNCH_OPERATION,
            run_name=request.get("runName"),
        )
    return workflow_id


def launch(ctx: FlowContext, pipeline: str | int, opts: LaunchOptions) -> Flow[str]:
    """Launch ``pipeline`` (launchpad name / id or repository URL); returns the workflow id."""
    workflow_id, _ = yield from _launch(ctx, pipeline, opts)
    return workflow_id


def _launch(ctx: FlowContext, pipeline: str | int, opts: LaunchOptions) -> Flow[tuple[str, str]]:
    """:func:`launch`, also returning the repository the request launched."""
    if (
        isinstance(pipeline, bool)
        or not isinstance(pipeline, (str, int))
        or not str(pipeline).strip()
    ):
        raise TowerConfigError(
            f"pipeline must be a launchpad name, id or repository URL, got {pipeline!r}"
        )
    ws = yield from workspace_id(ctx)
    request, source_ws = yield from build_request(
        ctx, ws, str(pipeline).strip() if isinstance(pipeline, str) else pipeline, opts
    )
    workflow_id = yield from _submit(ws, request, source_ws)
    logger.info("Launched run %s (%s) of %s", request.get("runName") or "?", workflow_id, pipeline)
    return workflow_id, str(request.get("pipeline") or "")


def relaunch(
    ctx: FlowContext, workflow_id: str, *, resume: bool, opts: LaunchOptions
) -> Flow[tuple[str, bool]]:
    """Launch a run again from its own launch; with Nextflow resume when possible.

    Returns the new workflow id and whether it resumes the old session.
    """
    if resume and opts.work_dir is not None:
        raise TowerConfigError(
            "work_dir cannot be changed when resuming: a resumed run works in the resumeDir "
            "of the run it resumes; pass resume=False to relaunch into another work directory"
        )
    ws = yield from workspace_id(ctx)
    wf = Workflow.model_validate(
        (yield from on_run(ctx, ws, workflow_id, ep.describe_workflow(ws, workflow_id))) or {}
    )
    saved = ((yield ep.describe_workflow_launch(ws, workflow_id)) or {}).get("launch") or {}
    request = copy_launch(saved)
    env = ComputeEnv.model_validate(saved.get("computeEnv") or {})
    if opts.compute_env is not None or not env.id:
        yield from use_compute_env(ctx, ws, request, opts.compute_env)
    else:
        request["computeEnvId"] = env.id
    if wf.launch_id:
        request["id"] = wf.launch_id
    resumed = False
    if resume and saved.get("resumeCommitId"):
        request.update(
            sessionId=wf.session_id or saved.get("sessionId"),
            resume=True,
            revision=saved["resumeCommitId"],
            workDir=saved.get("resumeDir") or request.get("workDir"),
        )
        resumed = True
    else:
        if resume:
            logger.warning(
                "Run %s (%s) cannot be resumed (Tower reports no resumeCommitId, e.g. it never "
                "started): relaunching it from scratch",
                wf.run_name or "?",
                workflow_id,
            )
        request.pop("sessionId", None)
        request["resume"] = False
    label_ids = yield from resolve_labels(ctx, ws, opts)
    new_id = yield from _submit(ws, apply_options(request, opts, label_ids))
    logger.info("%s run %s as %s", "Resumed" if resumed else "Relaunched", workflow_id, new_id)
    return new_id, resumed


def ensure_run(
    ctx: FlowContext,
    pipeline: str | int,
    *,
    run_name: str,
    resume_failed: bool,
    opts: LaunchOptions,
    former_names: tuple[str, ...] = (),
) -> Flow[RunHandle]:
    """Reattach to, resume, relaunch or launch the run called ``run_name``; never a duplicate.

    Holds the lease on the run name meanwhile, and waits for a launch still in flight (see
    :mod:`nftower._run_lease`). With no run of that name, a run found under one of
    ``former_names`` (the same run named by an earlier naming scheme) is taken instead.
    """
    check_run_name(run_name, room=RELAUNCH_SUFFIX_ROOM)
    ws = yield from workspace_id(ctx)
    lease = Lease(ctx, ws, run_name)
    ensure = _ensure(
        ctx, lease, pipeline, run_name, resume_failed=resume_failed, opts=opts, former=former_names
    )
    return (yield from holding_lease(lease, ensure))


def _ensure(
    ctx: FlowContext,
    lease: Lease,
    pipeline: str | int,
    run_name: str,
    *,
    resume_failed: bool,
    opts: LaunchOptions,
    former: tuple[str, ...],
) -> Flow[RunHandle]:
    runs = yield from _runs_after_flight(ctx, lease, run_name)
    for name in former if not runs else ():
        runs = yield from find_runs(ctx, name, attempts=True)
        if runs:
            logger.info("Found run %s under its former name %s", run_name, name)
            run_name = name
            break
    if runs:
        newest = max(
            runs, key=lambda r: (attempt_number(r.run_name or "", run_name), created_at(r))
        )
        status = newest.status
        if not run_status.needs_relaunch(status):
            shown = run_status.name(status)
            logger.info("Reattaching to run %s (%s), %s", newest.run_name, newest.id, shown)
            if not (run_status.is_active(status) or run_status.is_terminal(status)):
                logger.warning(
                    "Run %s is %s: its head job may still be running, so it is followed, "
                    "never launched again",
                    newest.run_name,
                    shown,
                )
            return RunHandle(
                workflow_id=newest.id or "",
                run_name=newest.run_name or run_name,
                action="reattached",
            )
        attempt = max(attempt_number(r.run_name or "", run_name) for r in runs) + 1
        new_name = f"{run_name}-r{attempt}"
        new_opts = opts.with_run_name(new_name)
        action: Literal["resumed", "relaunched"] = "relaunched"
        if resume_failed:
            if new_opts.work_dir is not None:
                logger.info("Resuming in the resumeDir of run %s, not work_dir", newest.id)
                new_opts = dataclasses.replace(new_opts, work_dir=None)
            outcome = yield from _or_find(
                ctx, lease, new_name, relaunch(ctx, newest.id or "", resume=True, opts=new_opts)
            )
            if isinstance(outcome, tuple):
                new_id, resumed = outcome
                action = "resumed" if resumed else "relaunched"
            else:
                new_id, action = outcome, "resumed"
        else:
            new_id = yield from _or_find(ctx, lease, new_name, launch(ctx, pipeline, new_opts))
        return RunHandle(workflow_id=new_id, run_name=new_name, action=action)
    launched = yield from _or_find(
        ctx, lease, run_name, _launch(ctx, pipeline, opts.with_run_name(run_name))
    )
    new_id, repository = launched if isinstance(launched, tuple) else (launched, "")
    return RunHandle(
        workflow_id=new_id, run_name=run_name, action="launched", repository=repository or None
    )


def _runs_after_flight(ctx: FlowContext, lease: Lease, run_name: str) -> Flow[list[Workflow]]:
    """The runs of ``run_name``, once a launch still in flight for it has shown up or its
    grace is over."""
    flight = yield from lease.in_flight()
    runs = yield from find_runs(ctx, run_name, attempts=True)
    if flight is None:
        return runs
    launched, since = flight
    if not any(run.run_name == launched for run in runs):
        logger.warning(
            "A launch of run %s has been in flight since %s without an answer: looking for the "
            "run for up to %.0f s after it before launching again",
            launched,
            time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(since)),
            launch_grace(),
        )

        def find() -> Flow[list[Workflow]]:
            found = yield from find_runs(ctx, run_name, attempts=True)
            return found if any(run.run_name == launched for run in found) else []

        shown = yield from lease.look_for(launched, since, find)
        if shown:
            logger.info("Run %s of the launch in flight has appeared: following it", launched)
            runs = shown
        else:
            logger.warning("Run %s never appeared: launching it again", launched)
    yield from lease.landed()
    return runs


def _or_find(ctx: FlowContext, lease: Lease, run_name: str, submit: Flow[T]) -> Flow[T | str]:
    """Run ``submit`` with the launch recorded in flight; if its outcome is unknown, look for
    ``run_name`` for up to the launch grace."""
    yield from lease.launching(run_name)
    since = time.time()
    try:
        result = yield from submit
    except LaunchOutcomeUnknownError as unknown:
        found: list[Workflow] = []
        try:
            logger.warning(
                "The outcome of the launch of run %s is unknown (%s): looking for the run for "
                "up to %.0f s",
                run_name,
                unknown,
                launch_grace(),
            )
            found = yield from lease.look_for(
                run_name, since, lambda: find_runs(ctx, run_name, attempts=False)
            )
        except TowerError:
            raise unknown from None
        if not found:
            raise
        yield from lease.landed()
        logger.warning("The launch outcome was unknown, but run %s exists: following it", run_name)
        return max(found, key=created_at).id or ""
    except GeneratorExit:
        raise
    except BaseException:
        yield from lease.landed()  # Tower refused the launch: nothing in flight
        raise
    yield from lease.landed()
    return result
