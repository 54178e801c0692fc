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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Literal, Protocol
from urllib.parse import quote

__all__ = ["LAUNCH_OPERATION", "PAGE_SIZE", "Call", "Sink", "Upload"]

#: Page size used for every paginated list (the largest tower-cli uses).
PAGE_SIZE = 100
LAUNCH_OPERATION = "POST /workflow/launch"
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class Upload:
    """A multipart file part: form field, file name, media type and its bytes (``open()``
    returns the content rewound to its start, ready to be streamed)."""

    field: str
    file_name: str
    content_type: str
    open: Callable[[], IO[bytes]]


class Sink(Protocol):
    """Where a streamed download goes, chunk by chunk."""

    def write(self, data: bytes, /) -> object:
        """Take the next chunk."""

    def restart(self) -> bool:
        """Drop what was written, for a retry; ``False`` when that is impossible."""


@dataclass(frozen=True)
class Call:
    """One HTTP request to Tower, as data (no I/O).

    ``upload`` makes the body multipart; ``sink`` streams a 2xx answer's body into it instead
    of parsing JSON; ``accept`` replaces the ``Accept`` header (file downloads). ``answer``
    is what the API answers on success: ``"object"`` (a JSON object; with ``key`` set,
    ``(name, type)``, one whose ``name`` holds a value of that type), ``"none"`` (204 No
    Content) or ``"any"``; anything else is an error (see :mod:`nftower._answers`).
    """

    method: str
    path: str
    path_params: Mapping[str, str | int] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    idempotent: bool = True
    label: str | None = None
    upload: Upload | None = None
    sink: Sink | None = None
    accept: str | None = None
    answer: Literal["object", "none", "any"] = "object"
    key: tuple[str, type[Any]] | None = None

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
        answer="any",
    )


# --- identity and workspaces -------------------------------------------------------------------


def service_info() -> Call:
    """``GET /service-info`` (no auth needed)."""
    return Call("GET", "/service-info", key=("serviceInfo", dict))


def user_info() -> Call:
    """``GET /user-info``."""
    return Call("GET", "/user-info", key=("user", dict))


def user_workspaces(user_id: int) -> Call:
    """``GET /user/{userId}/workspaces``: the workspaces (and orgs) of a user."""
    return Call("GET", "/user/{userId}/workspaces", {"userId": user_id})


# --- pipelines, compute environments, labels ---------------------------------------------------


def list_pipelines(
    workspace_id: int | None,
    *,
    search: str | None,
    offset: int,
    max: int = PAGE_SIZE,
    visibility: str | None = None,
) -> Call:
    """``GET /pipelines`` (one page); ``visibility="all"`` adds pipelines shared with the
    workspace by other workspaces, as ``tw launch`` asks."""
    return Call(
        "GET",
        "/pipelines",
        params=_query(workspace_id, search=search, offset=offset, max=max, visibility=visibility),
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
        key=("workflowId", str),
    )


def describe_workflow(workspace_id: int | None, workflow_id: str) -> Call:
    """``GET /workflow/{workflowId}``."""
    return Call(
        "GET",
        "/workflow/{workflowId}",
        {"workflowId": workflow_id},
        _query(workspace_id),
        key=("workflow", dict),
    )


def list_workflows(
    workspace_id: int | None, *, search: str | None, offset: int, max: int = PAGE_SIZE
) -> Call:
    """``GET /workflow`` (one page); ``search`` takes free text and ``key:value`` filters."""
    return Call(
        "GET",
        "/workflow",
        params=_query(workspace_id, search=search, offset=offset, max=max),
        key=("workflows", list),
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
        answer="none",
    )


def describe_workflow_launch(workspace_id: int | None, workflow_id: str) -> Call:
    """``GET /workflow/{workflowId}/launch``: the launch a run was started with."""
    return Call(
        "GET",
        "/workflow/{workflowId}/launch",
        {"workflowId": workflow_id},
        _query(workspace_id),
    )


# --- run files -------------------------------------------------------------------------------

#: What the file downloads answer: the file (text/plain) or an ``ErrorResponse``.
FILE_ACCEPT = "text/plain, application/json"


def download_workflow_file(
    workspace_id: int | None, workflow_id: str, file_name: str, sink: Sink
) -> Call:
    """``GET /workflow/{workflowId}/download?fileName=``: a file of the run's main job."""
    return Call(
        "GET",
        "/workflow/{workflowId}/download",
        {"workflowId": workflow_id},
        _query(workspace_id, fileName=file_name),
        sink=sink,
        accept=FILE_ACCEPT,
    )


def download_task_file(
    workspace_id: int | None, workflow_id: str, task_id: int, file_name: str, sink: Sink
) -> Call:
    """``GET /workflow/{workflowId}/download/{taskId}?fileName=``: a file of one task."""
    return Call(
        "GET",
        "/workflow/{workflowId}/download/{taskId}",
        {"workflowId": workflow_id, "taskId": task_id},
        _query(workspace_id, fileName=file_name),
        sink=sink,
        accept=FILE_ACCEPT,
    )


# --- datasets --------------------------------------------------------------------------------


def create_dataset(workspace_id: int | None, name: str, description: str | None) -> Call:
    """``POST /datasets``. Not idempotent: Tower answers 409 to a second one with the name."""
    body: dict[str, Any] = {"name": name}
    if description is not None:
        body["description"] = description
    return Call("POST", "/datasets", params=_query(workspace_id), json=body, idempotent=False)


def list_datasets(
    workspace_id: int | None, *, search: str | None, offset: int, max: int = PAGE_SIZE
) -> Call:
    """``GET /datasets`` (one page)."""
    return Call(
        "GET", "/datasets", params=_query(workspace_id, search=search, offset=offset, max=max)
    )


def list_dataset_versions(workspace_id: int | None, dataset_id: str) -> Call:
    """``GET /datasets/{datasetId}/versions`` (every version, not paginated)."""
    return Call(
        "GET", "/datasets/{datasetId}/versions", {"datasetId": dataset_id}, _query(workspace_id)
    )


def upload_dataset(
    workspace_id: int | None, dataset_id: str, upload: Upload, *, header: bool
) -> Call:
    """``POST /datasets/{datasetId}/upload?header=``: a new version (multipart part ``file``).
    Never retried blindly: a second one would add a second version."""
    return Call(
        "POST",
        "/datasets/{datasetId}/upload",
        {"datasetId": dataset_id},
        _query(workspace_id, header="true" if header else "false"),
        idempotent=False,
        upload=upload,
    )


def download_dataset(
    workspace_id: int | None, dataset_id: str, version: int, file_name: str, sink: Sink
) -> Call:
    """``GET /datasets/{datasetId}/v/{version}/n/{fileName}``: a version's content."""
    return Call(
        "GET",
        "/datasets/{datasetId}/v/{version}/n/{fileName}",
        {"datasetId": dataset_id, "version": version, "fileName": file_name},
        _query(workspace_id),
        sink=sink,
        accept="application/octet-stream, application/json",
    )
