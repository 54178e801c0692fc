"""nftower: Python client for Nextflow Tower / Seqera Platform.

Only the errors and the version are imported with the package; the clients, models and
configuration load on first use (``nftower.TowerClient``), so ``import nftower`` and the
pytest plugin stay cheap.

Example:
    >>> import nftower
    >>> nftower.make_run_name("nightly", "2024-06-01")
    'nightly-2024-06-01'
    >>> nftower.RateLimitError.__module__
    'nftower'
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._answer_errors import InvalidResponseError, RedirectError, TowerTLSError
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
from ._run_errors import RunNotFoundError
from ._version import __version__

if TYPE_CHECKING:
    from ._async_client import AsyncTowerClient
    from ._client import TowerClient
    from ._config import TowerConfig
    from ._counts import TaskCounts
    from ._dataset_models import Dataset, DatasetUpload, DatasetVersion
    from ._follow import FollowOutcome, FollowRules
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
    from ._outputs import RunOutputs
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
    from ._runname import make_run_name, short_run_name

#: Public names loaded on first access, by defining module.
_LAZY_MODULES = {
    "_client": ["TowerClient"],
    "_async_client": ["AsyncTowerClient"],
    "_config": ["TowerConfig"],
    "_counts": ["TaskCounts"],
    "_dataset_models": ["Dataset", "DatasetUpload", "DatasetVersion"],
    "_outputs": ["RunOutputs"],
    "_follow": ["FollowOutcome", "FollowRules"],
    "_models": ["TERMINAL_STATUSES", "JobInfo", "Label", "ProcessLoad", "Progress", "Task",
                "TaskStatus", "Workflow", "WorkflowLoad", "WorkflowStatus"],
    "_resources": ["ComputeEnv", "LaunchConfig", "LogPage", "Pipeline", "RunHandle",
                   "ServiceInfo", "UserInfo", "Workspace"],
    "_reports": ["FailureReport"],
    "_runname": ["make_run_name", "short_run_name"],
}  # fmt: skip
_LAZY = {name: module for module, names in _LAZY_MODULES.items() for name in names}

__all__ = [
    "TERMINAL_STATUSES",
    "AsyncTowerClient",
    "AuthenticationError",
    "BadRequestError",
    "ComputeEnv",
    "ConflictError",
    "Dataset",
    "DatasetUpload",
    "DatasetVersion",
    "FailureReport",
    "FollowOutcome",
    "FollowRules",
    "InvalidResponseError",
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
    "RedirectError",
    "RunHandle",
    "RunNotFoundError",
    "RunOutputs",
    "ServerError",
    "ServiceInfo",
    "Task",
    "TaskCounts",
    "TaskStatus",
    "TowerAPIError",
    "TowerClient",
    "TowerConfig",
    "TowerConfigError",
    "TowerConnectionError",
    "TowerError",
    "TowerTLSError",
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
    "short_run_name",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
