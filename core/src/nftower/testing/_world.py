"""The emulated Tower's state: seeded entities, runs, and the operations that change them.

All methods are called with the world lock held by the caller (``with world.lock:``); the
HTTP handlers and the :class:`~nftower.testing.TowerEmulator` methods both do so.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from ._errors import bad_request, forbidden, not_found, random_id, unknown_run
from ._labels import get_or_create
from ._launch import (
    Problems,
    check_repository,
    check_run_name,
    outcome_controls,
    parse_params,
    read_launch_request,
)
from ._names import random_run_name
from ._runs import Run, RunState
from ._seed import (
    USER_EMAIL,
    USER_ID,
    USER_NAME,
    ComputeEnv,
    Label,
    Org,
    Pipeline,
    SavedLaunch,
    SeedData,
    Workspace,
    demo_world,
    project_name,
    reported_work_dir,
    repository_url,
    task_plan,
)

Context = int | None
"""A workspace id, or ``None`` for the user's personal context."""

_COMMIT = re.compile(r"^[0-9a-f]{40}$")


class World:
    """Entities and runs of one emulator instance (see docs/emulator.md, *Seeded world*)."""

    def __init__(
        self,
        *,
        speed: float,
        seed: bool = True,
        clock: Callable[[], float] = time.time,
        unknown_run_status: int = 403,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        unknown_run("", unknown_run_status)  # checks the status
        #: what an unknown, deleted or hidden run id answers (403 as Tower, or 404)
        self.unknown_run_status = unknown_run_status
        self.lock = threading.RLock()
        self.speed = speed
        self.clock = clock
        self.user_id, self.user_name, self.user_email = USER_ID, USER_NAME, USER_EMAIL
        data = demo_world() if seed else SeedData()
        self.orgs: dict[int, Org] = {o.id: o for o in data.orgs}
        self.workspaces: dict[int, Workspace] = {w.id: w for w in data.workspaces}
        self.compute_envs: dict[str, ComputeEnv] = {c.id: c for c in data.compute_envs}
        self.labels: dict[int, Label] = {label.id: label for label in data.labels}
        self.launches: dict[str, SavedLaunch] = {s.id: s for s in data.launches}
        self.pipelines: dict[int, Pipeline] = {p.id: p for p in data.pipelines}
        self.runs: dict[str, Run] = {}
        self._seq = itertools.count(1)
        self._label_ids = itertools.count(200001)

    # -- contexts and lookups ------------------------------------------------------------
    def context(self, workspace_id: int | None) -> Context:
        """Check that the user may work in ``workspace_id`` (``None`` = personal)."""
        if workspace_id is not None and workspace_id not in self.workspaces:
            raise forbidden(f"Workspace {workspace_id} not found or not accessible")
        return workspace_id

    def compute_envs_in(self, ctx: Context) -> list[ComputeEnv]:
        return [c for c in self.compute_envs.values() if c.workspace_id == ctx]

    def labels_in(self, ctx: Context) -> list[Label]:
        return sorted(
            (label for label in self.labels.values() if label.workspace_id == ctx),
            key=lambda label: (label.name, label.value or ""),
        )

    def pipelines_in(self, ctx: Context, visibility: str = "private") -> list[Pipeline]:
        """The launchpad of ``ctx``: its own pipelines (``private``), those shared with it by
        other workspaces (``shared``), or both (``all``)."""
        sources = {"private": {ctx}, "shared": self.sharing_with(ctx)}.get(visibility)
        if visibility == "all":
            sources = {ctx, *self.sharing_with(ctx)}
        if sources is None:
            raise bad_request(f"Invalid visibility '{visibility}': expected private, shared or all")
        found = (p for p in self.pipelines.values() if p.workspace_id in sources)
        return sorted(found, key=lambda p: (p.name, p.id))

    def sharing_with(self, ctx: Context) -> set[int | None]:
        """Workspaces whose pipelines ``ctx`` sees as shared: the other workspaces of its
        organization whose visibility is SHARED (a personal context sees none)."""
        if ctx is None:
            return set()
        org = self.workspaces[ctx].org_id
        return {
            w.id
            for w in self.workspaces.values()
            if w.org_id == org and w.id != ctx and w.visibility == "SHARED"
        }

    def compute_env(self, ctx: Context, ce_id: str) -> ComputeEnv:
        ce = self.compute_envs.get(ce_id)
        if ce is None:
            raise not_found(f"Compute environment '{ce_id}' not found")
        if ce.workspace_id != ctx:
            raise forbidden()
        return ce

    def pipeline(
        self, ctx: Context, pipeline_id: int, source: int | None = None, *, launching: bool = False
    ) -> Pipeline:
        """A pipeline of ``ctx``, or one shared with it; reading a shared pipeline's launch
        (``launching``) needs its workspace as ``sourceWorkspaceId``, as tw sends it."""
        pipeline = self.pipelines.get(pipeline_id)
        if pipeline is None:
            raise not_found(f"Pipeline {pipeline_id} not found")
        self.source_workspace(ctx, source)
        if pipeline.workspace_id == ctx and source is None:
            return pipeline
        shared = pipeline.workspace_id in self.sharing_with(ctx)
        if shared and (source == pipeline.workspace_id or (source is None and not launching)):
            return pipeline
        raise forbidden()

    def source_workspace(self, ctx: Context, source: int | None) -> None:
        """A ``sourceWorkspaceId`` must be a workspace that shares its pipelines with ``ctx``."""
        if source is not None and source not in self.sharing_with(ctx):
            raise forbidden(f"Workspace {source} does not share its pipelines with this workspace")

    def run(self, ctx: Context, workflow_id: str) -> Run:
        run = self.runs.get(workflow_id)
        if run is None or run.deleted or run.workspace_id != ctx:
            raise unknown_run(workflow_id, self.unknown_run_status)
        return run

    def runs_in(self, ctx: Context) -> list[Run]:
        """Runs of a context, newest first."""
        runs = [r for r in self.runs.values() if r.workspace_id == ctx and not r.deleted]
        return sorted(runs, key=lambda r: r.seq, reverse=True)

    def label_names(self, run: Run) -> list[str]:
        names = []
        for label_id in run.label_ids:
            label = self.labels.get(label_id)
            if label is not None:
                names.append(f"{label.name}={label.value}" if label.resource else label.name)
                if label.resource:
                    names.append(label.name)
        return names

    def add_pipeline(
        self, name: str, repository: str, ctx: Context, launch: dict[str, Any]
    ) -> Pipeline:
        """Add a launchpad pipeline to ``ctx``: its saved launch uses the primary compute
        environment, with ``launch``'s fields over it. Two may have the same name."""
        ce = next((c for c in self.compute_envs_in(ctx) if c.primary), None)
        if ce is None:
            raise bad_request("Missing compute environment: the workspace has no primary one")
        fields = {"pipeline": repository, "computeEnvId": ce.id, "workDir": ce.work_dir, **launch}
        pipeline_id = max([*self.pipelines, 211144565412000]) + 1
        saved = SavedLaunch(random_id(22), ctx, fields, pipeline_id)
        self.launches[saved.id] = saved
        pipeline = Pipeline(pipeline_id, name, "", repository, ctx, saved.id)
        self.pipelines[pipeline.id] = pipeline
        return pipeline

    # -- launching -----------------------------------------------------------------------
    def launch(self, ctx: Context, body: Any, source: int | None = None) -> Run:
        """Validate a ``SubmitWorkflowLaunchRequest`` and create the run (400 on bad input);
        ``source`` is the ``sourceWorkspaceId`` of a pipeline shared from another workspace."""
        self.source_workspace(ctx, source)
        now = self.clock()
        problems = Problems()
        req = read_launch_request(body, problems)
        check_repository(req.get("pipeline"), problems)
        check_run_name(req.get("runName"), problems)
        params = parse_params(req.get("paramsText"), problems)
        outcome, duration = outcome_controls(params, problems)
        ce = self._launch_compute_env(ctx, req.get("computeEnvId"), problems)
        for label_id in req.get("labelIds", []):
            label = self.labels.get(label_id)
            if label is None or label.workspace_id != ctx:
                problems.add("invalid_label", f"Label {label_id} not found")
        base = self.launches.get(req["id"]) if isinstance(req.get("id"), str) else None
        if "id" in req and (base is None or base.workspace_id not in (ctx, source)):
            problems.add("invalid_launch", f"Launch '{req['id']}' not found")
        cached = self._resume_cache(ctx, req, problems, now)
        problems.raise_if_any()
        assert ce is not None
        repository = repository_url(str(req["pipeline"]))
        revision = str(req.get("revision") or "")
        session = str(req["sessionId"]) if req.get("resume") else str(uuid.uuid4())
        fields = dict(req)
        fields.update(
            computeEnvId=ce.id,
            workDir=req.get("workDir") or ce.work_dir,
            runName=req.get("runName") or random_run_name(),
            sessionId=session,
            resume=bool(req.get("resume")),
        )
        launch = SavedLaunch(random_id(22), ctx, fields, base.pipeline_id if base else None)
        self.launches[launch.id] = launch
        run = Run(
            id=random_id(14),
            workspace_id=ctx,
            run_name=fields["runName"],
            session_id=session,
            launch_id=launch.id,
            launch=fields,
            repository=repository,
            project_name=project_name(repository),
            revision=revision,
            commit_id=revision if _COMMIT.match(revision) else _commit(repository, revision),
            params=params,
            outcome=outcome,
            duration=duration,
            speed=self.speed,
            submitted=now,
            tasks=task_plan(repository),
            owner_id=self.user_id,
            user_name=self.user_name,
            pipeline_id=launch.pipeline_id,
            resumed=bool(req.get("resume")),
            cached=cached,
            label_ids=list(dict.fromkeys(req.get("labelIds", []))),
            seq=next(self._seq),
        )
        self.runs[run.id] = run
        return run

    def _launch_compute_env(
        self, ctx: Context, ce_id: Any, problems: Problems
    ) -> ComputeEnv | None:
        if ce_id is None:
            primary = next((c for c in self.compute_envs_in(ctx) if c.primary), None)
            if primary is None:
                problems.add("missing_compute_env", "Missing compute environment")
            return primary
        ce = self.compute_envs.get(str(ce_id))
        if ce is None or ce.workspace_id != ctx:
            problems.add("invalid_compute_env", f"Compute environment '{ce_id}' not found")
            return None
        if ce.status != "AVAILABLE":
            problems.add(
                "compute_env_not_available",
                f"Compute environment '{ce.name}' is not available (status {ce.status})",
            )
        return ce

    def _resume_cache(
        self, ctx: Context, req: dict[str, Any], problems: Problems, now: float
    ) -> int:
        """For a resume, the number of tasks the previous run of the session completed."""
        if not req.get("resume"):
            return 0
        session = req.get("sessionId")
        if not session:
            problems.add("missing_session", "Missing session ID: a resumed launch needs sessionId")
            return 0
        previous = next((r for r in self.runs_in(ctx) if r.session_id == session), None)
        if previous is None:
            problems.add("invalid_session", f"Cannot resume: unknown session ID '{session}'")
            return 0
        resume_dir = reported_work_dir(previous.launch.get("workDir"), previous.user_name)
        work_dir = req.get("workDir")
        if work_dir is not None and work_dir != resume_dir:
            problems.add(
                "invalid_work_dir",
                f"Cannot resume workflow '{previous.id}' in workDir '{work_dir}': a resumed run "
                f"works in the resumeDir of the run it resumes, '{resume_dir}'",
            )
        state = previous.state(now)
        if state.start is None:
            problems.add(
                "resume_not_possible",
                f"Cannot resume workflow '{previous.id}': it has no resumeCommitId "
                "(the run never started)",
            )
            return 0
        return sum(1 for t in state.tasks if t.status in ("COMPLETED", "CACHED"))

    # -- changing runs -------------------------------------------------------------------
    def cancel(self, ctx: Context, workflow_id: str) -> None:
        """Cancel an active run; cancelling a finished run changes nothing."""
        run = self.run(ctx, workflow_id)
        now = self.clock()
        state = run.state(now)
        if state.is_active or state.status == "UNKNOWN":
            run.override = ("CANCELLED", now)

    def delete(self, ctx: Context, workflow_id: str, force: bool) -> None:
        run = self.run(ctx, workflow_id)
        if run.state(self.clock()).is_active and not force:
            raise bad_request(
                f"Workflow '{workflow_id}' is active: cancel it first or delete with force=true"
            )
        run.deleted = True

    def set_status(self, workflow_id: str, status: str) -> None:
        """Force a run's status from now on (used by tests and the admin API)."""
        if not isinstance(status, str) or not re.fullmatch(r"[A-Z_]+", status):
            raise bad_request(f"Invalid status {status!r}: expected e.g. FAILED")
        run = self.runs.get(workflow_id)
        if run is None:
            raise not_found(f"Workflow '{workflow_id}' not found")
        run.override = (status, self.clock())

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` emulated seconds pass at once for every existing run."""
        if seconds < 0:
            raise bad_request("Time only moves forward: seconds must not be negative")
        shift = seconds / self.speed
        for run in self.runs.values():
            run.submitted -= shift
            if run.override is not None:
                run.override = (run.override[0], run.override[1] - shift)

    def add_labels(self, ctx: Context, body: Any) -> None:
        """``POST /workflow/labels/add``: attach labels to runs."""
        if not isinstance(body, dict):
            raise bad_request("Missing request body")
        workflow_ids, label_ids = body.get("workflowIds") or [], body.get("labelIds") or []
        if not isinstance(workflow_ids, list) or not isinstance(label_ids, list):
            raise bad_request("workflowIds and labelIds must be lists")
        runs = [self.run(ctx, str(w)) for w in workflow_ids]
        for label_id in label_ids:
            label = self.labels.get(label_id) if isinstance(label_id, int) else None
            if label is None or label.workspace_id != ctx:
                raise bad_request(f"Label {label_id} not found")
        for run in runs:
            run.label_ids = list(dict.fromkeys([*run.label_ids, *label_ids]))

    def create_label(self, ctx: Context, body: Any) -> Label:
        """``POST /labels``: get-or-create (an existing name answers with that label)."""

        def make(name: str, value: str | None, resource: bool, is_default: bool) -> Label:
            label = Label(
                next(self._label_ids), name, value, resource, ctx, is_default, self.clock()
            )
            self.labels[label.id] = label
            return label

        return get_or_create(self.labels_in(ctx), body, make)

    # -- inspection ----------------------------------------------------------------------
    def raw(self, workflow_id: str) -> dict[str, Any]:
        """The emulator's own record of a run (not an API shape)."""
        run = self.runs.get(workflow_id)
        if run is None:
            raise not_found(f"Workflow '{workflow_id}' not found")
        state = run.state(self.clock())
        return {
            "id": run.id,
            "runName": run.run_name,
            "sessionId": run.session_id,
            "launchId": run.launch_id,
            "workspaceId": run.workspace_id,
            "status": state.status,
            "outcome": run.outcome,
            "duration": run.duration,
            "resumed": run.resumed,
            "cachedTasks": run.cached,
            "submitted": run.submitted,
            "override": list(run.override) if run.override else None,
            "deleted": run.deleted,
            "params": dict(run.params),
            "launch": dict(run.launch),
            "labelIds": list(run.label_ids),
            "tasks": [{"name": t.spec.name, "status": t.status} for t in state.tasks],
            "log": list(state.log),
        }

    def state_of(self, run: Run) -> RunState:
        return run.state(self.clock())


def _commit(repository: str, revision: str) -> str:
    return hashlib.sha1(f"{repository}@{revision}".encode()).hexdigest()  # noqa: S324
