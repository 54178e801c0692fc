"""Response models of runs (pydantic v2); workspace resources are in ``_resources.py``.

Every field is optional and unknown fields are ignored, as the Tower API docs ask of clients.
Attributes are snake_case; the camelCase API names work as aliases (``Workflow(runName="x")``).
Timestamps parse to timezone-aware datetimes (UTC when the server omits the offset). Models are
built lazily (``defer_build``) so importing nftower stays cheap.

Example:
    >>> wf = Workflow.model_validate(
    ...     {"workflow": {"id": "abc", "status": "RUNNING", "runName": "nightly"},
    ...      "orgName": "acme", "workspaceName": "prod"}
    ... )
    >>> wf.id, wf.status.is_active, wf.org_name
    ('abc', True, 'acme')
    >>> WorkflowStatus("PAUSED_FOR_LUNCH").is_terminal   # future values parse
    False
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic.alias_generators import to_camel

from . import status as run_status

__all__ = [
    "TERMINAL_STATUSES",
    "JobInfo",
    "Label",
    "ProcessLoad",
    "Progress",
    "Task",
    "TaskStatus",
    "TowerModel",
    "Workflow",
    "WorkflowLoad",
    "WorkflowStatus",
]


logger = logging.getLogger("nftower")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


Timestamp = Annotated[datetime, AfterValidator(_aware)]


class TowerModel(BaseModel):
    """Base of the response models: lenient, snake_case with camelCase aliases.

    ``_envelope`` names the key a response wraps the object in (``{"workflow": {...}}``); its
    siblings are merged in. A field whose value does not fit its type (an API change) is
    dropped with a DEBUG log line rather than failing the whole response.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        defer_build=True,
        protected_namespaces=(),
    )
    _envelope: ClassVar[str | None] = None
    _lenient: ClassVar[bool] = True

    @model_validator(mode="wrap")
    @classmethod
    def _tolerant(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if cls._envelope is not None:
            data = _unwrap(data, cls._envelope)
        try:
            return handler(data)
        except ValidationError as exc:
            if not cls._lenient or not isinstance(data, dict):
                raise
            bad = {e["loc"][0] for e in exc.errors() if e["loc"] and e["loc"][0] in data}
            if not bad:
                raise
            logger.debug("Ignoring %s field(s) of unexpected type: %s", cls.__name__, sorted(bad))
            return handler({key: value for key, value in data.items() if key not in bad})


class _TolerantEnum(str, Enum):
    """A ``str`` enum where values the client does not know become pseudo-members."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        upper = value.strip().upper()
        for member in cls:
            if member.value == upper:
                return member
        cache = cls._value2member_map_
        if value in cache:
            return cache[value]
        pseudo = str.__new__(cls, value)
        pseudo._name_ = upper
        pseudo._value_ = value
        if len(cache) < 256:
            cache[value] = pseudo
        return pseudo

    @property
    def is_known(self) -> bool:
        """``False`` for a value this version of nftower does not know."""
        return self._name_ in type(self).__members__

    def __str__(self) -> str:
        return str(self.value)


class WorkflowStatus(_TolerantEnum):
    """Run status; unknown future values parse into pseudo-members (neither active nor terminal).

    Example:
        >>> WorkflowStatus.SUCCEEDED.is_terminal, WorkflowStatus.RUNNING.is_active
        (True, True)
        >>> WorkflowStatus("unknown") is WorkflowStatus.UNKNOWN
        True
    """

    # the names of nftower.status, which the Airflow provider reads without pydantic
    SUBMITTED = run_status.SUBMITTED
    RUNNING = run_status.RUNNING
    SUCCEEDED = run_status.SUCCEEDED
    FAILED = run_status.FAILED
    CANCELLED = run_status.CANCELLED
    UNKNOWN = run_status.UNKNOWN

    @property
    def is_terminal(self) -> bool:
        """SUCCEEDED, FAILED or CANCELLED: the run will not change any more."""
        return run_status.is_terminal(self)

    @property
    def is_active(self) -> bool:
        """SUBMITTED or RUNNING."""
        return run_status.is_active(self)


TERMINAL_STATUSES = frozenset(
    {WorkflowStatus.SUCCEEDED, WorkflowStatus.FAILED, WorkflowStatus.CANCELLED}
)


class TaskStatus(_TolerantEnum):
    """Task status; unknown future values parse like :class:`WorkflowStatus`.

    Example:
        >>> TaskStatus("completed") is TaskStatus.COMPLETED, TaskStatus("PAUSED").is_known
        (True, False)
    """

    NEW = "NEW"
    SUBMITTED = "SUBMITTED"
    RUNNING = "RUNNING"
    CACHED = "CACHED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"


def _unwrap(data: Any, key: str) -> Any:
    """Flatten ``{key: {...}, other: ...}`` envelopes into one mapping."""
    if isinstance(data, dict) and isinstance(data.get(key), dict):
        inner = dict(data[key])
        for name, value in data.items():
            if name != key and value is not None:
                inner.setdefault(name, value)
        return inner
    return data


class _Load(TowerModel):
    pending: int | None = None
    submitted: int | None = None
    running: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    cached: int | None = None
    ignored: int | None = None
    aborted: int | None = None
    retries: int | None = None
    cpus: int | None = None
    cpu_time: int | None = None
    cpu_load: int | None = None
    memory_rss: int | None = None
    memory_req: int | None = None
    read_bytes: int | None = None
    write_bytes: int | None = None
    peak_cpus: int | None = None
    peak_tasks: int | None = None
    peak_memory: int | None = None
    load_cpus: int | None = None
    load_tasks: int | None = None
    load_memory: int | None = None
    cpu_efficiency: float | None = None
    memory_efficiency: float | None = None
    date_created: Timestamp | None = None
    last_updated: Timestamp | None = None


class WorkflowLoad(_Load):
    """Task counts and resource totals of a whole run.

    Example:
        >>> load = WorkflowLoad.model_validate({"succeeded": 4, "running": 1, "cost": 0.5})
        >>> load.succeeded, load.running, load.failed
        (4, 1, None)
    """

    cost: float | None = None
    executors: list[str] | None = None


class ProcessLoad(_Load):
    """Task counts and resource totals of one process.

    Example:
        >>> ProcessLoad.model_validate({"process": "FASTQC", "succeeded": 2}).process
        'FASTQC'
    """

    process: str | None = None


class Progress(TowerModel):
    """``GET /workflow/{id}/progress`` (also embedded in the describe response).

    Example:
        >>> progress = Progress.model_validate({"progress": {
        ...     "workflowProgress": {"succeeded": 3, "failed": 1},
        ...     "processesProgress": [{"process": "ALIGN", "failed": 1}]}})
        >>> progress.workflow_progress.failed, progress.processes_progress[0].process
        (1, 'ALIGN')
    """

    workflow_progress: WorkflowLoad | None = None
    processes_progress: list[ProcessLoad] | None = None
    total_processes: int | None = None

    _envelope: ClassVar[str | None] = "progress"


class JobInfo(TowerModel):
    """The Nextflow head job.

    Example:
        >>> JobInfo.model_validate({"id": 7, "status": "FAILED", "exitCode": 1}).exit_code
        1
    """

    id: int | None = None
    status: str | None = None
    exit_code: int | None = None
    message: str | None = None
    operation_id: str | None = None


class Label(TowerModel):
    """A workspace label (``value`` set for resource labels).

    Example:
        >>> label = Label.model_validate({"name": "team", "value": "genomics", "resource": True})
        >>> label.name, label.value, label.resource
        ('team', 'genomics', True)
    """

    id: int | None = None
    name: str | None = None
    value: str | None = None
    resource: bool | None = None
    is_default: bool | None = None
    is_dynamic: bool | None = None
    is_interpolated: bool | None = None
    date_created: Timestamp | None = None


class Workflow(TowerModel):
    """A run: the describe / list envelope flattened into one object.

    Example:
        >>> wf = Workflow.model_validate({
        ...     "workflow": {"id": "4Bi5xBK6E2Nbhj", "status": "FAILED", "runName": "nightly",
        ...                  "exitStatus": 1, "submit": "2024-06-01T02:00:00Z"},
        ...     "jobInfo": {"exitCode": 1}, "workspaceName": "prod"})
        >>> wf.status, wf.exit_status, wf.job_info.exit_code, wf.workspace_name
        (<WorkflowStatus.FAILED: 'FAILED'>, 1, 1, 'prod')
        >>> wf.submit.isoformat()
        '2024-06-01T02:00:00+00:00'
    """

    id: str | None = None
    status: WorkflowStatus | None = None
    run_name: str | None = None
    session_id: str | None = None
    launch_id: str | None = None
    commit_id: str | None = None
    revision: str | None = None
    repository: str | None = None
    project_name: str | None = None
    project_dir: str | None = None
    work_dir: str | None = None
    launch_dir: str | None = None
    home_dir: str | None = None
    command_line: str | None = None
    config_files: list[str] | None = None
    config_text: str | None = None
    container: str | None = None
    script_name: str | None = None
    profile: str | None = None
    submit: Timestamp | None = None
    start: Timestamp | None = None
    complete: Timestamp | None = None
    date_created: Timestamp | None = None
    last_updated: Timestamp | None = None
    duration: int | None = None
    exit_status: int | None = None
    success: bool | None = None
    resume: bool | None = None
    deleted: bool | None = None
    error_message: str | None = None
    error_report: str | None = None
    params: dict[str, Any] | None = None
    config_profiles: list[str] | None = None
    manifest: dict[str, Any] | None = None
    nextflow: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None
    user_name: str | None = None
    owner_id: int | None = None
    org_id: int | None = None
    org_name: str | None = None
    workspace_id: int | None = None
    workspace_name: str | None = None
    labels: list[Label] | None = None
    messages: list[str] | None = None
    progress: Progress | None = None
    job_info: JobInfo | None = None
    platform: dict[str, Any] | None = None
    pipeline_info: dict[str, Any] | None = None
    starred: bool | None = None
    optimized: bool | None = None
    cost: float | None = None

    _envelope: ClassVar[str | None] = "workflow"


class Task(TowerModel):
    """A Nextflow task of a run.

    Example:
        >>> task = Task.model_validate({"task": {"taskId": 2, "name": "FASTQC (1)",
        ...                                      "status": "FAILED", "exit": 137}})
        >>> task.name, task.status.value, task.exit_code
        ('FASTQC (1)', 'FAILED', 137)
    """

    id: int | None = None
    task_id: int | None = None
    hash: str | None = None
    name: str | None = None
    process: str | None = None
    tag: str | None = None
    status: TaskStatus | None = None
    attempt: int | None = None
    submit: Timestamp | None = None
    start: Timestamp | None = None
    complete: Timestamp | None = None
    duration: int | None = None
    realtime: int | None = None
    exit: int | None = None
    exit_status: int | None = None
    error_action: str | None = None
    error_message: str | None = None
    workdir: str | None = None
    executor: str | None = None
    native_id: str | None = None
    cost: float | None = None
    cpus: int | None = None
    memory: int | None = None

    _envelope: ClassVar[str | None] = "task"

    @property
    def exit_code(self) -> int | None:
        """The task's exit code (``exit`` or ``exitStatus``)."""
        return self.exit if self.exit is not None else self.exit_status
