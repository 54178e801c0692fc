"""Prefect collection for Nextflow Tower / Seqera Platform.

Blocks (`TowerCredentials`, `TowerPipeline`) are imported here, for block registration;
tasks, flows and the cancellation hook load on first use, so importing this package (which
every Prefect process does through the `prefect.collections` entry point) stays cheap and
loads no HTTP client.

Examples:
    ```python
    from prefect_nftower import TowerCredentials, run_pipeline

    workflow = run_pipeline(TowerCredentials.load("BLOCK_NAME"), "rnaseq")
    ```
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .credentials import TowerCredentials
from .pipeline import TowerPipeline, TowerWorkflowRun

if TYPE_CHECKING:
    from .flows import arun_pipeline, run_pipeline
    from .hooks import cancel_tower_runs
    from .tasks import (
        acall_tower_endpoint,
        acancel_workflow,
        aget_workflow,
        alaunch_workflow,
        await_for_workflow,
        call_tower_endpoint,
        cancel_workflow,
        get_workflow,
        launch_workflow,
        wait_for_workflow,
    )

_LAZY = {
    "run_pipeline": "flows",
    "arun_pipeline": "flows",
    "cancel_tower_runs": "hooks",
    **{
        name: "tasks"
        for name in (
            "launch_workflow",
            "alaunch_workflow",
            "get_workflow",
            "aget_workflow",
            "wait_for_workflow",
            "await_for_workflow",
            "cancel_workflow",
            "acancel_workflow",
            "call_tower_endpoint",
            "acall_tower_endpoint",
        )
    },
}

__all__ = [
    "TowerCredentials",
    "TowerPipeline",
    "TowerWorkflowRun",
    "__version__",
    "acall_tower_endpoint",
    "acancel_workflow",
    "aget_workflow",
    "alaunch_workflow",
    "arun_pipeline",
    "await_for_workflow",
    "call_tower_endpoint",
    "cancel_tower_runs",
    "cancel_workflow",
    "get_workflow",
    "launch_workflow",
    "run_pipeline",
    "wait_for_workflow",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'prefect_nftower' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
