"""Tower endpoints as data: one :class:`Call` builder per operation.

This is the only module that knows API paths. A :class:`Call` says what to send (method, path,
query, JSON body), names the operation as the API reference does (``"GET /workflow/{workflowId}"``)
for errors and logs, and says whether it is safe to retry after the request may have reached the
server (``idempotent``).

Example:
    >>> call = describe_workflow(42, "4Bi5xBK6E2Nbhj")
    >>> call.method, call.url_path, call.params, call.operation
    ('GET', '/workflow/4Bi5xBK6E2Nbhj', {'workspaceId': 42}, 'GET /workflow/{workflowId}')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["LAUNCH_OPERATION", "PAGE_SIZE", "Call"]

#: Page size used for every paginated list (the largest tower-cli uses).
PAGE_SIZE = 100
LAUNCH_OPERATION = "POST /workflow/launch"
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class Call:
    """One HTTP request to Tower, as data (no I/O)."""

    method: str
    path: str
    path_params: Mapping[str, str | int] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    idempotent: bool = True
    label: str | None = None

    @property
    def operation(self) -> str:
        """The operation as named in the API reference, e.g. ``"GET /workflow/{workflowId}"``."""
        return self.label or f"{self.method} {self.path}"

    @property
    def url_path(self) -> str:
        """The path with its parameters filled in (each one URL-quoted)."""
        values = {key: quote(str(value), safe="") for key, value in self.path_params.items()}
        return self.path.format(**values)

    @property
    def is_launch(self) -> bool:
        """``True`` for the launch request (never retried once it may have been sent)."""
        return self.operation == LAUNCH_OPERATION

    @property
    def run_name(self) -> str | None:
        """The run name carried by a launch request body, if any."""
        launch = self.json.get("launch") if isinstance(self.json, Mapping) else None
        name = launch.get("runName") if isinstance(launch, Mapping) else None
        return name if isinstance(name, str) else None


def _query(workspace_id: int | None, **params: Any) -> dict[str, Any]:
    query = {key: value for key, value in params.items() if value is not None}
    if workspace_id is not None:
        query["workspaceId"] = workspace_id
    return query


def raw(
    method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
) -> Call:
    """Any endpoint (the ``request()`` escape hatch); ``{`` and ``}`` in ``path`` are kept."""
    method = method.upper()
    path = "/" + path.lstrip("/")
    escaped = path.replace("{", "{{").replace("}", "}}")
    return Call(
        method=method,
        path=escaped,
        params={key: value for key, value in (params or {}).items() if value is not None},
        json=json,
        idempotent=method in _IDEMPOTENT_METHODS,
        label=f"{method} {path}",
    )


# --- identity and workspaces -------------------------------------------------------------------


def service_info() -> Call:
    """``GET /service-info`` (no auth needed)."""
    return Call("GET", "/service-info")


def user_info() -> Call:
    """``GET /user-info``."""
    return Call("GET", "/user-info")


def user_workspaces(user_id: int) -> Call:
    """``GET /user/{userId}/workspaces``: the workspaces (and orgs) of a user."""
    return Call("GET", "/user/{userId}/workspaces", {"userId": user_id})


# --- pipelines, compute environments, labels ---------------------------------------------------


def list_pipelines(
    workspace_id: int | None, *, search: str | None, offset: int, max: int = PAGE_SIZE
) -> Call:
    """``GET /pipelines`` (one page)."""
    return Call(
        "GET",
        "/pipelines",
        params=_query(workspace_id, search=search, offset=offset, max=max),
    )


def describe_pipeline(workspace_id: int | None, pipeline_id: int) -> Call:
    """``GET /pipelines/{pipelineId}``."""
    return Call("GET", "/pipelines/{pipelineId}", {"pipelineId": pipeline_id}, _query(workspace_id))


def describe_pipeline_launch(
    workspace_id: int | None, pipeline_id: int, *, source_workspace_id: int | None = None
) -> Call:
    """``GET /pipelines/{pipelineId}/launch``: the pipeline's saved launch."""
    return Call(
        "GET",
        "/pipelines/{pipelineId}/launch",
        {"pipelineId": pipeline_id},
        _query(workspace_id, sourceWorkspaceId=source_workspace_id),
    )


def list_compute_envs(workspace_id: int | None, *, status: str | None = None) -> Call:
    """``GET /compute-envs`` (not paginated)."""
    return Call("GET", "/compute-envs", params=_query(workspace_id, status=status))


def describe_compute_env(workspace_id: int | None, compute_env_id: str) -> Call:
    """``GET /compute-envs/{computeEnvId}``."""
    return Call(
        "GET",
        "/compute-envs/{computeEnvId}",
        {"computeEnvId": compute_env_id},
        _query(workspace_id),
    )


def list_labels(
    workspace_id: int | None, *, search: str | None, offset: int, max: int = PAGE_SIZE
) -> Call:
    """``GET /labels`` (one page)."""
    return Call(
        "GET", "/labels", params=_query(workspace_id, search=search, offset=offset, max=max)
    )


def create_label(workspace_id: int | None, name: str, value: str | None = None) -> Call:
    """``POST /labels``. Not idempotent: a blind retry could fail with a duplicate name."""
    body: dict[str, Any] = {"name": name, "resource": value is not None}
    if value is not None:
        body["value"] = value
    return Call("POST", "/labels", params=_query(workspace_id), json=body, idempotent=False)


# --- runs ---------------------------------------------------------------------------------------


def launch(
    workspace_id: int | None, request: Mapping[str, Any], *, source_workspace_id: int | None = None
) -> Call:
    """``POST /workflow/launch`` with body ``{"launch": request}``. Never retried blindly."""
    return Call(
        "POST",
        "/workflow/launch",
        params=_query(workspace_id, sourceWorkspaceId=source_workspace_id),
        json={"launch": dict(request)},
        idempotent=False,
    )


def describe_workflow(workspace_id: int | None, workflow_id: str) -> Call:
    """``GET /workflow/{workflowId}``."""
    return Call("GET", "/workflow/{workflowId}", {"workflowId": workflow_id}, _query(workspace_id))


def list_workflows(
    workspace_id: int | None, *, search: str | None, offset: int, max: int = PAGE_SIZE
) -> Call:
    """``GET /workflow`` (one page); ``search`` takes free text and ``key:value`` filters."""
    return Call(
        "GET", "/workflow", params=_query(workspace_id, search=search, offset=offset, max=max)
    )


def workflow_progress(workspace_id: int | None, workflow_id: str) -> Call:
    """``GET /workflow/{workflowId}/progress``."""
    return Call(
        "GET",
        "/workflow/{workflowId}/progress",
        {"workflowId": workflow_id},
        _query(workspace_id),
    )


def list_tasks(
    workspace_id: int | None, workflow_id: str, *, offset: int, max: int = PAGE_SIZE
) -> Call:
    """``GET /workflow/{workflowId}/tasks`` (one page)."""
    return Call(
        "GET",
        "/workflow/{workflowId}/tasks",
        {"workflowId": workflow_id},
        _query(workspace_id, offset=offset, max=max),
    )


def workflow_log(workspace_id: int | None, workflow_id: str, *, next: str | None = None) -> Call:
    """``GET /workflow/{workflowId}/log`` (one page; ``next`` = previous ``forwardToken``)."""
    return Call(
        "GET",
        "/workflow/{workflowId}/log",
        {"workflowId": workflow_id},
        _query(workspace_id, next=next),
    )


def cancel_workflow(workspace_id: int | None, workflow_id: str, *, force: bool = False) -> Call:
    """``POST /workflow/{workflowId}/cancel``: cancelling twice is harmless, so it is retried."""
    return Call(
        "POST",
        "/workflow/{workflowId}/cancel",
        {"workflowId": workflow_id},
        _query(workspace_id, force="true" if force else None),
        json={},
        idempotent=True,
    )


def describe_workflow_launch(workspace_id: int | None, workflow_id: str) -> Call:
    """``GET /workflow/{workflowId}/launch``: the launch a run was started with."""
    return Call(
        "GET",
        "/workflow/{workflowId}/launch",
        {"workflowId": workflow_id},
        _query(workspace_id),
    )
