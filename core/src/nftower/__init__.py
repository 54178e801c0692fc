"""nftower: Python client for Nextflow Tower / Seqera Platform.

Example:
    >>> import nftower
    >>> nftower.make_run_name("nightly", "2024-06-01")
    'nightly-2024-06-01'
"""

from __future__ import annotations

from ._config import TowerConfig
from ._exceptions import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    LaunchOutcomeUnknownError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TowerAPIError,
    TowerConfigError,
    TowerConnectionError,
    TowerError,
    TowerTimeoutError,
    WaitTimeoutError,
    WorkflowFailedError,
)
from ._models import (
    TERMINAL_STATUSES,
    ComputeEnv,
    JobInfo,
    Label,
    LaunchConfig,
    LogPage,
    Pipeline,
    ProcessLoad,
    Progress,
    RunHandle,
    ServiceInfo,
    Task,
    TaskStatus,
    UserInfo,
    Workflow,
    WorkflowLoad,
    WorkflowStatus,
    Workspace,
)
from ._reports import FailureReport
from ._runname import make_run_name
from ._version import __version__

__all__ = [
    "TERMINAL_STATUSES",
    "AuthenticationError",
    "BadRequestError",
    "ComputeEnv",
    "ConflictError",
    "FailureReport",
    "JobInfo",
    "Label",
    "LaunchConfig",
    "LaunchOutcomeUnknownError",
    "LogPage",
    "NotFoundError",
    "Pipeline",
    "ProcessLoad",
    "Progress",
    "RateLimitError",
    "RunHandle",
    "ServerError",
    "ServiceInfo",
    "Task",
    "TaskStatus",
    "TowerAPIError",
    "TowerConfig",
    "TowerConfigError",
    "TowerConnectionError",
    "TowerError",
    "TowerTimeoutError",
    "UserInfo",
    "WaitTimeoutError",
    "Workflow",
    "WorkflowFailedError",
    "WorkflowLoad",
    "WorkflowStatus",
    "Workspace",
    "__version__",
    "make_run_name",
]

# Tracebacks and task logs read ``nftower.RateLimitError``; pickles refer to the public path.
# (Pydantic models keep their defining module: they resolve their annotations from it.)
for _cls in (
    TowerConfig,
    TowerError,
    TowerConfigError,
    TowerAPIError,
    BadRequestError,
    AuthenticationError,
    NotFoundError,
    ConflictError,
    RateLimitError,
    ServerError,
    TowerConnectionError,
    TowerTimeoutError,
    LaunchOutcomeUnknownError,
    WaitTimeoutError,
    WorkflowFailedError,
):
    _cls.__module__ = "nftower"
del _cls
