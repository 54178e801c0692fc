"""Pure parts of the reporting: artifact keys, progress, the summary, the event resource."""

from __future__ import annotations

import re

import pytest
from nftower import FailureReport, Task, TowerConfigError, Workflow
from prefect_nftower._reporting import (
    EVENT_PREFIX,
    RunReporter,
    artifact_key,
    progress_percent,
    summary_markdown,
)
from prefect_nftower._watching import WaitPlan
from prefect_nftower.datasets import OUTPUTS_EVENT


def running(**load: int) -> Workflow:
    return Workflow.model_validate(
        {"id": "4Bi5xBK6E2Nbhj", "status": "RUNNING", "progress": {"workflowProgress": load}}
    )


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("nf-core/rnaseq", "nftower-run-nf-core-rnaseq"),
        ("https://github.com/Org/My_Pipe.git", "nftower-run-https-github-com-org-my-pipe-git"),
        (None, "nftower-run-workflow"),
        ("///", "nftower-run-workflow"),
    ],
)
def test_artifact_keys_are_lowercase_dashes(name: str | None, key: str) -> None:
    assert artifact_key("run", name) == key


def test_progress_counts_finished_tasks() -> None:
    # done means succeeded or cached: a failed task never counts as done
    assert progress_percent(running(succeeded=2, cached=1, failed=1, running=3, pending=1)) == 37.5
    assert progress_percent(running(succeeded=3, failed=1)) == 75.0
    assert progress_percent(Workflow(id="x", status="SUCCEEDED")) == 100.0
    # a FAILED record without counts shows nothing, never 100 %
    assert progress_percent(Workflow(id="x", status="FAILED")) is None
    # a record without progress (a list row) shows nothing rather than 0 %
    assert progress_percent(Workflow(id="x", status="RUNNING")) is None


def test_summary_shows_status_duration_tasks_and_failed_tasks() -> None:
    workflow = Workflow.model_validate(
        {
            "id": "abc",
            "runName": "nightly",
            "status": "FAILED",
            "projectName": "nf-core/rnaseq",
            "duration": 3_725_000,
            "exitStatus": 1,
            "errorMessage": "Process FASTQC failed",
            "progress": {"workflowProgress": {"succeeded": 5, "failed": 1}},
        }
    )
    report = FailureReport(
        workflow_id="abc",
        failed_tasks=[Task(name="FASTQC (s1)", exit=137, workdir="s3://w/ab/cd")],
    )
    text = summary_markdown(workflow, "https://tower/watch/abc", report)
    for expected in (
        "[nightly](https://tower/watch/abc)",
        "**FAILED**",
        "1h 02m 05s",
        "5 succeeded, 1 failed",
        "Process FASTQC failed",
        "| FASTQC (s1) | 137 | s3://w/ab/cd |",
    ):
        assert expected in text


def test_event_resource_describes_the_run() -> None:
    workflow = Workflow(
        id="abc", run_name="nightly", org_name="acme", workspace_name="prod", project_name="p/q"
    )
    resource = RunReporter.for_workflow(workflow, "https://tower/watch/abc").resource()
    assert resource == {
        "prefect.resource.id": "tower.run.abc",
        "prefect.resource.name": "nightly",
        "nftower.workflow.id": "abc",
        "nftower.workspace": "acme/prod",
        "nftower.run-url": "https://tower/watch/abc",
        "nftower.pipeline": "p/q",
    }


@pytest.mark.parametrize(
    ("poll", "timeout", "unknown"), [(0, None, 60), (-1, None, 60), (1, 0, 60), (1, None, 0)]
)
def test_wait_plan_rejects_bad_timing(poll: float, timeout: float | None, unknown: float) -> None:
    with pytest.raises(TowerConfigError):
        WaitPlan("abc", poll_interval=poll, timeout=timeout, unknown_timeout=unknown)


def ui_title(event: str) -> str:
    """The title Prefect's UI draws for an event name: the `prefect.` prefix dropped, then each
    word of the name (split at dots, dashes and underscores) capitalised."""
    for prefix in ("prefect.", "prefect-cloud."):
        event = event.removeprefix(prefix)
    return " ".join(word.capitalize() for word in re.split(r"[._-]", event))


@pytest.mark.parametrize(
    ("name", "title"),
    [("failed", "Tower Run Failed"), ("launched", "Tower Run Launched")],
)
def test_event_names_read_as_titles_in_the_prefect_ui(name: str, title: str) -> None:
    assert ui_title(f"{EVENT_PREFIX}.{name}") == title


def test_the_outputs_event_reads_as_a_title_too() -> None:
    assert ui_title(OUTPUTS_EVENT) == "Tower Run Outputs"
