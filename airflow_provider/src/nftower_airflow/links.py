"""The "Tower run" extra link: the run page URL the operator pushed to XCom (key ``run_url``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

RUN_URL_KEY = "run_url"
WORKFLOW_ID_KEY = "workflow_id"


class TowerRunLink(BaseOperatorLink):
    """Link from a task instance to its Tower run page.

    The operator pushes ``run_url`` as soon as the run exists, so the link works while the run is
    going (deferred) and after it failed.

    Example:
        >>> TowerRunLink().name
        'Tower run'
    """

    name = "Tower run"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        # Airflow 3 asks the link of the task that has just run (the worker stores it for the
        # UI). That task knows its run URL: no lookup, and a task that has no run (a rejected
        # launch, a sensor still waiting) gets no link instead of an "XCom not found" error.
        if hasattr(operator, "run_url"):
            return str(operator.run_url or "")
        url = XCom.get_value(key=RUN_URL_KEY, ti_key=ti_key)
        return str(url) if url else ""
