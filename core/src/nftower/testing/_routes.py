"""Handlers of the emulated Tower API operations (official paths, parameters and bodies)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import _run_views as runs_view
from . import _views as view
from ._errors import bad_request, forbidden
from ._names import random_run_name
from ._search import RunFacts, WorkflowQuery
from ._world import Context, World

DEFAULT_PAGE_SIZE = 50
DEFAULT_LOG_BYTES = 64 * 1024
_TASK_SORT_KEYS = ("taskId", "name", "process", "status", "submit", "start", "complete")


def _int(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"Invalid value for query parameter '{name}': {raw!r}") from None


def _bool(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return False
    if raw.lower() not in ("true", "false"):
        raise bad_request(f"Invalid value for query parameter '{name}': {raw!r}")
    return raw.lower() == "true"


def _page(request: Request) -> tuple[int, int]:
    size = _int(request, "max", DEFAULT_PAGE_SIZE)
    offset = _int(request, "offset", 0)
    assert size is not None
    assert offset is not None
    if size < 0 or offset < 0:
        raise bad_request("Query parameters 'max' and 'offset' must not be negative")
    return size, offset


def _attributes(request: Request) -> set[str]:
    values = request.query_params.getlist("attributes")
    return {item.strip() for value in values for item in value.split(",") if item.strip()}


def _json(request: Request) -> Any:
    return request.scope.get("state", {}).get("json")


def _ok(data: Any) -> JSONResponse:
    return JSONResponse(data)


def _no_content() -> Response:
    return Response(status_code=204)


def _encode_cursor(line: int) -> str:
    return base64.urlsafe_b64encode(f"line:{line}".encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind == "line" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise bad_request(f"Invalid log cursor 'next': {token!r}")


class TowerApi:
    """The API operations, bound to one :class:`~nftower.testing._world.World`."""

    def __init__(self, world: World) -> None:
        self.world = world

    def _context(self, request: Request) -> Context:
        return self.world.context(_int(request, "workspaceId"))

    def routes(self) -> list[Route]:
        get, post, delete = ["GET"], ["POST"], ["DELETE"]
        wf = "/workflow/{workflowId}"
        return [
            Route("/service-info", self.service_info, methods=get),
            Route("/user-info", self.user_info, methods=get),
            Route("/user/{userId:int}/workspaces", self.user_workspaces, methods=get),
            Route("/orgs", self.orgs, methods=get),
            Route("/orgs/{orgId:int}/workspaces", self.org_workspaces, methods=get),
            Route("/pipelines", self.list_pipelines, methods=get),
            Route("/pipelines/{pipelineId:int}", self.describe_pipeline, methods=get),
            Route("/pipelines/{pipelineId:int}/launch", self.pipeline_launch, methods=get),
            Route("/compute-envs", self.list_compute_envs, methods=get),
            Route("/compute-envs/{computeEnvId}", self.describe_compute_env, methods=get),
            Route("/labels", self.list_labels, methods=get),
            Route("/labels", self.create_label, methods=post),
            Route("/workflow/launch", self.launch, methods=post),
            Route("/workflow/random-name", self.random_name, methods=get),
            Route("/workflow/labels/add", self.add_labels, methods=post),
            Route("/workflow", self.list_workflows, methods=get),
            Route(wf, self.describe_workflow, methods=get),
            Route(wf, self.delete_workflow, methods=delete),
            Route(wf + "/progress", self.progress, methods=get),
            Route(wf + "/tasks", self.tasks, methods=get),
            Route(wf + "/log", self.log, methods=get),
            Route(wf + "/launch", self.workflow_launch, methods=get),
            Route(wf + "/cancel", self.cancel, methods=post),
        ]

    # -- identity, orgs, workspaces ------------------------------------------------------
    async def service_info(self, request: Request) -> Response:
        return _ok(view.service_info())

    async def user_info(self, request: Request) -> Response:
        with self.world.lock:
            return _ok(view.user_info(self.world))

    async def user_workspaces(self, request: Request) -> Response:
        if request.path_params["userId"] != self.world.user_id:
            raise forbidden()
        with self.world.lock:
            return _ok(view.user_workspaces(self.world))

    async def orgs(self, request: Request) -> Response:
        with self.world.lock:
            return _ok(view.organizations(self.world))

    async def org_workspaces(self, request: Request) -> Response:
        org_id = request.path_params["orgId"]
        with self.world.lock:
            if org_id not in self.world.orgs:
                raise forbidden()
            return _ok(view.org_workspaces(self.world, org_id))

    # -- pipelines, compute environments, labels -----------------------------------------
    async def list_pipelines(self, request: Request) -> Response:
        size, offset = _page(request)
        search = (request.query_params.get("search") or "").lower()
        attributes = _attributes(request)
        visibility = (request.query_params.get("visibility") or "private").lower()
        with self.world.lock:
            ctx = self._context(request)
            found = [
                p
                for p in self.world.pipelines_in(ctx, visibility)
                if search in p.name.lower() or search in p.repository.lower()
            ]
            page = found[offset : offset + size]
            items = [view.pipeline(self.world, p, attributes) for p in page]
            return _ok({"pipelines": items, "totalSize": len(found)})

    async def describe_pipeline(self, request: Request) -> Response:
        with self.world.lock:
            item = self.world.pipeline(self._context(request), request.path_params["pipelineId"])
            return _ok({"pipeline": view.pipeline(self.world, item, _attributes(request))})

    async def pipeline_launch(self, request: Request) -> Response:
        source = _int(request, "sourceWorkspaceId")
        with self.world.lock:
            ctx = self._context(request)
            item = self.world.pipeline(
                ctx, request.path_params["pipelineId"], source, launching=True
            )
            saved = self.world.launches[item.launch_id]
            return _ok({"launch": view.saved_launch(self.world, saved)})

    async def list_compute_envs(self, request: Request) -> Response:
        status = request.query_params.get("status")
        attributes = _attributes(request)
        with self.world.lock:
            envs = self.world.compute_envs_in(self._context(request))
            items = [
                view.compute_env_entry(self.world, ce, attributes)
                for ce in envs
                if not status or ce.status.upper() == status.upper()
            ]
            return _ok({"computeEnvs": items})

    async def describe_compute_env(self, request: Request) -> Response:
        with self.world.lock:
            ctx = self._context(request)
            ce = self.world.compute_env(ctx, request.path_params["computeEnvId"])
            return _ok({"computeEnv": view.compute_env(self.world, ce)})

    async def list_labels(self, request: Request) -> Response:
        size, offset = _page(request)
        search = (request.query_params.get("search") or "").lower()
        kind = request.query_params.get("type") or "all"
        default_only = request.query_params.get("isDefault")
        with self.world.lock:
            found = [
                label
                for label in self.world.labels_in(self._context(request))
                if search in label.name.lower()
                and (kind == "all" or (kind == "resource") == label.resource)
                and (default_only is None or _bool(request, "isDefault") == label.is_default)
            ]
            items = [view.label(label) for label in found[offset : offset + size]]
            return _ok({"labels": items, "totalSize": len(found)})

    async def create_label(self, request: Request) -> Response:
        with self.world.lock:
            label = self.world.create_label(self._context(request), _json(request))
            return _ok(view.created_label(label))

    # -- runs ------------------------------------------------------------------------------
    async def launch(self, request: Request) -> Response:
        with self.world.lock:
            ctx = self._context(request)
            run = self.world.launch(ctx, _json(request), _int(request, "sourceWorkspaceId"))
        request.scope.setdefault("state", {})["workflow_id"] = run.id
        return _ok({"workflowId": run.id})

    async def random_name(self, request: Request) -> Response:
        return _ok({"name": random_run_name()})

    async def add_labels(self, request: Request) -> Response:
        with self.world.lock:
            self.world.add_labels(self._context(request), _json(request))
        return _no_content()

    async def list_workflows(self, request: Request) -> Response:
        size, offset = _page(request)
        query = WorkflowQuery.parse(request.query_params.get("search"))
        attributes = _attributes(request)
        with self.world.lock:
            matches = []
            for run in self.world.runs_in(self._context(request)):
                state = self.world.state_of(run)
                facts = RunFacts(
                    run.id,
                    run.run_name,
                    run.session_id,
                    run.project_name,
                    run.user_name,
                    state.status,
                    run.submitted,
                    self.world.label_names(run),
                    manifest_name=run.project_name,
                )
                if query.matches(facts):
                    matches.append((run, state))
            page = matches[offset : offset + size]
            body: dict[str, Any] = {
                "workflows": [
                    runs_view.workflow_list_element(self.world, run, state, attributes)
                    for run, state in page
                ],
                "hasMore": offset + len(page) < len(matches),
            }
            if _bool(request, "includeTotalSize"):
                body["totalSize"] = len(matches)
            return _ok(body)

    async def describe_workflow(self, request: Request) -> Response:
        with self.world.lock:
            run = self.world.run(self._context(request), request.path_params["workflowId"])
            state = self.world.state_of(run)
            attributes = _attributes(request)
            return _ok(runs_view.describe_workflow(self.world, run, state, attributes))

    async def delete_workflow(self, request: Request) -> Response:
        with self.world.lock:
            ctx = self._context(request)
            self.world.delete(ctx, request.path_params["workflowId"], _bool(request, "force"))
        return _no_content()

    async def progress(self, request: Request) -> Response:
        with self.world.lock:
            run = self.world.run(self._context(request), request.path_params["workflowId"])
            return _ok({"progress": runs_view.progress(run, self.world.state_of(run))})

    async def tasks(self, request: Request) -> Response:
        size, offset = _page(request)
        search = (request.query_params.get("search") or "").lower()
        sort_by = request.query_params.get("sortBy") or "taskId"
        descending = (request.query_params.get("sortDir") or "asc").lower() == "desc"
        if sort_by not in _TASK_SORT_KEYS:
            raise bad_request(f"Invalid sortBy {sort_by!r}: expected one of {_TASK_SORT_KEYS}")
        with self.world.lock:
            run = self.world.run(self._context(request), request.path_params["workflowId"])
            state = self.world.state_of(run)
            items = [runs_view.task(run, t) for t in state.tasks if search in t.spec.name.lower()]
        items.sort(key=lambda t: (t.get(sort_by) is None, t.get(sort_by) or ""))
        if descending:
            items.reverse()
        page = items[offset : offset + size]
        return _ok({"tasks": [{"task": t} for t in page], "total": len(items)})

    async def log(self, request: Request) -> Response:
        cursor = request.query_params.get("next")
        start = _decode_cursor(cursor) if cursor else 0
        budget = _int(request, "maxLength", DEFAULT_LOG_BYTES) or DEFAULT_LOG_BYTES
        with self.world.lock:
            run = self.world.run(self._context(request), request.path_params["workflowId"])
            state = self.world.state_of(run)
        lines = state.log
        end, used = start, 0
        while end < len(lines) and (end == start or used + len(lines[end]) + 1 <= budget):
            used += len(lines[end].encode()) + 1
            end += 1
        file_name = f"nf-{run.id}.log"
        page = {
            "entries": lines[start:end],
            "truncated": end < len(lines),
            "pending": state.is_active,
            "rewindToken": _encode_cursor(start),
            "forwardToken": _encode_cursor(end),
            "downloads": [
                {"fileName": file_name, "displayText": "Nextflow log file", "saveName": file_name}
            ],
        }
        return _ok({"log": page})

    async def workflow_launch(self, request: Request) -> Response:
        with self.world.lock:
            run = self.world.run(self._context(request), request.path_params["workflowId"])
            state = self.world.state_of(run)
            return _ok({"launch": runs_view.workflow_launch(self.world, run, state)})

    async def cancel(self, request: Request) -> Response:
        with self.world.lock:
            self.world.cancel(self._context(request), request.path_params["workflowId"])
        return _no_content()
