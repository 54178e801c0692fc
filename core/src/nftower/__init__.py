"""nftower: Python client for Nextflow Tower / Seqera Platform.

Example:
    >>> import nftower
    >>> nftower.make_run_name("nightly", "2024-06-01")
    'nightly-2024-06-01'
"""

from __future__ import annotations

from ._async_client import AsyncTowerClient
from ._client import TowerClient
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
    JobInfo,
    Label,
    ProcessLoad,
    Progress,
    Task,
    TaskStatus,
    Workflow,
    WorkflowLoad,
    WorkflowStatus,
)
from ._reports import FailureReport
from ._resources import (
    ComputeEnv,
    LaunchConfig,
    LogPage,
    Pipeline,
    RunHandle,
    ServiceInfo,
    UserInfo,
    Workspace,
)
from ._runname import make_run_name
from ._version import __version__

__all__ = [
    "TERMINAL_STATUSES",
    "AsyncTowerClient",
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
    "TowerClient",
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
    TowerClient,
    AsyncTowerClient,
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
