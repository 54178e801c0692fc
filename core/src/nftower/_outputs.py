"""Where a run's results are: its ``outdir``-like parameters and its work directory, for the
adapters' asset events (no I/O).

Example:
    >>> from nftower import Workflow
    >>> run = Workflow(id="abc", work_dir="s3://bucket/work",
    ...                params={"outdir": "s3://bucket/results/", "input": "x.csv"})
    >>> outputs = RunOutputs.from_workflow(run)
    >>> outputs.outdirs, outputs.work_dir
    ({'outdir': 's3://bucket/results'}, 's3://bucket/work')
    >>> outputs.locations
    ['s3://bucket/results']
"""

from __future__ import annotations

import re
from typing import Any

from ._flows import Flow, FlowContext
from ._models import TowerModel, Workflow
from ._runs import get_workflow

__all__ = ["OUTDIR_PARAM", "RunOutputs", "run_outputs"]

#: Parameter names taken as output locations (nf-core's ``outdir`` and its usual spellings).
OUTDIR_PARAM = re.compile(
    r"(?i)^(?:.*[_-])?(?:outdir|out_dir|output_?dir|publish_?dir|results_?dir)$"
)


class RunOutputs(TowerModel):
    """The run's output locations (``outdirs``: parameter name -> location) and work dir.

    Example:
        >>> outputs = RunOutputs(outdirs={"outdir": "s3://b/results"}, work_dir="s3://b/work")
        >>> outputs.locations
        ['s3://b/results']
    """

    workflow_id: str | None = None
    run_name: str | None = None
    work_dir: str | None = None
    outdirs: dict[str, str] = {}

    @classmethod
    def from_workflow(cls, workflow: Workflow) -> RunOutputs:
        """Read the outputs from a run's params (string values only) and ``workDir``."""
        return cls(
            workflow_id=workflow.id,
            run_name=workflow.run_name,
            work_dir=workflow.work_dir,
            outdirs=outdir_params(workflow.params or {}),
        )

    @property
    def locations(self) -> list[str]:
        """The distinct output locations, in parameter order."""
        return list(dict.fromkeys(self.outdirs.values()))


def outdir_params(params: dict[str, Any]) -> dict[str, str]:
    """The ``outdir``-like string params, trailing ``/`` removed.

    >>> outdir_params({"outdir": "results/", "publish_dir": "s3://b/p", "max_cpus": 4})
    {'outdir': 'results', 'publish_dir': 's3://b/p'}
    """
    found = {}
    for name, value in params.items():
        if OUTDIR_PARAM.match(name) and isinstance(value, str) and value.strip():
            found[name] = value.strip().rstrip("/") or value.strip()
    return found


def run_outputs(ctx: FlowContext, /, workflow: str | Workflow) -> Flow[RunOutputs]:
    """The run's ``outdir``-like parameters and work directory (:class:`RunOutputs`)."""
    if isinstance(workflow, Workflow) and workflow.params is not None:
        return RunOutputs.from_workflow(workflow)
    wanted = workflow.id if isinstance(workflow, Workflow) else workflow
    return RunOutputs.from_workflow((yield from get_workflow(ctx, wanted or "")))
