"""Flow hook cancelling the Tower runs of a cancelled flow run.

Examples:
    ```python
    from prefect import flow
    from prefect_nftower.hooks import cancel_tower_runs

    @flow(on_cancellation=[cancel_tower_runs])
    def nightly(): ...
    ```
"""

from __future__ import annotations

from typing import Any

from ._launching import active_runs

__all__ = ["cancel_tower_runs"]


def cancel_tower_runs(flow: Any, flow_run: Any, state: Any) -> None:
    """`on_cancellation` hook: cancel the Tower runs this flow run launched or watched.

    Only runs still going when the flow run was cancelled are touched; errors are logged,
    never raised (the flow run is already cancelled).
    """
    from prefect.logging.loggers import flow_run_logger

    logger = flow_run_logger(flow_run, flow)
    for workflow_id, credentials in active_runs(flow_run.id).items():
        try:
            with credentials.get_client() as client:
                client.cancel(workflow_id)
            logger.warning("Cancelled Tower run %s with flow run %s", workflow_id, flow_run.name)
        except Exception as exc:
            logger.error("Could not cancel Tower run %s: %s", workflow_id, exc)
