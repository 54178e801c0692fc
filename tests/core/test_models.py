"""Response models: tolerant enums, flattened envelopes, aware timestamps, cheap import."""

from __future__ import annotations

import pickle
import subprocess
import sys
from datetime import timezone

import pytest
from nftower import (
    TERMINAL_STATUSES,
    ComputeEnv,
    FailureReport,
    Pipeline,
    Progress,
    RunHandle,
    ServiceInfo,
    Task,
    TaskStatus,
    UserInfo,
    Workflow,
    WorkflowStatus,
)


def test_workflow_status_properties() -> None:
    assert {s for s in WorkflowStatus if s.is_terminal} == set(TERMINAL_STATUSES)
    assert {s for s in WorkflowStatus if s.is_active} == {
        WorkflowStatus.SUBMITTED,
        WorkflowStatus.RUNNING,
    }
    assert not WorkflowStatus.UNKNOWN.is_terminal
    assert not WorkflowStatus.UNKNOWN.is_active
    assert WorkflowStatus("succeeded") is WorkflowStatus.SUCCEEDED


@pytest.mark.parametrize("enum", [WorkflowStatus, TaskStatus])
def test_unknown_future_values_parse_into_pseudo_members(enum: type[WorkflowStatus]) -> None:
    future = enum("QUEUED_ON_MARS")
    assert future.value == "QUEUED_ON_MARS"
    assert future == "QUEUED_ON_MARS"
    assert not future.is_known
    assert enum("QUEUED_ON_MARS") is future
    assert pickle.loads(pickle.dumps(future)) is future
    assert str(future) == "QUEUED_ON_MARS"


def test_unknown_status_in_a_response_does_not_crash() -> None:
    wf = Workflow.model_validate({"workflow": {"id": "a", "status": "HIBERNATING"}})
    assert wf.status is not None
    assert wf.status.value == "HIBERNATING"
    assert not wf.status.is_terminal
    assert not wf.status.is_active
    task = Task.model_validate({"task": {"taskId": 1, "status": "TELEPORTED"}})
    assert task.status is not None
    assert task.status.value == "TELEPORTED"


def test_describe_envelope_is_flattened_and_extra_fields_ignored() -> None:
    payload = {
        "workflow": {
            "id": "4Bi5xBK6E2Nbhj",
            "status": "FAILED",
            "runName": "nightly",
            "sessionId": "s-1",
            "errorMessage": "boom",
            "exitStatus": 1,
            "params": {"input": "x"},
            "configProfiles": ["docker"],
            "someFutureField": {"nested": True},
            "submit": "2024-06-01T02:00:00Z",
            "complete": "2024-06-01T03:00:00",
        },
        "progress": {"workflowProgress": {"succeeded": 2, "failed": 1}},
        "jobInfo": {"id": 7, "exitCode": 1, "message": "head job failed"},
        "labels": [{"id": 1, "name": "nightly"}],
        "orgName": "acme",
        "workspaceName": "prod",
        "workspaceId": 42,
    }
    wf = Workflow.model_validate(payload)
    assert (wf.id, wf.run_name, wf.session_id, wf.error_message) == (
        "4Bi5xBK6E2Nbhj",
        "nightly",
        "s-1",
        "boom",
    )
    assert (wf.org_name, wf.workspace_name, wf.workspace_id) == ("acme", "prod", 42)
    assert wf.progress is not None
    assert wf.progress.workflow_progress is not None
    assert wf.progress.workflow_progress.failed == 1
    assert wf.job_info is not None
    assert wf.job_info.exit_code == 1
    assert wf.labels is not None
    assert wf.labels[0].name == "nightly"
    assert wf.submit is not None
    assert wf.submit.tzinfo is not None
    assert wf.complete is not None
    assert wf.complete.tzinfo == timezone.utc
    assert not hasattr(wf, "some_future_field")


def test_snake_case_names_and_camel_case_aliases() -> None:
    assert Workflow(run_name="a").run_name == "a"
    assert Workflow(runName="b").run_name == "b"  # type: ignore[call-arg]
    dumped = Workflow(run_name="c").model_dump(by_alias=True, exclude_none=True)
    assert dumped == {"runName": "c"}


def test_every_model_accepts_an_empty_body() -> None:
    for model in (Workflow, Task, Progress, Pipeline, ComputeEnv, UserInfo, ServiceInfo):
        assert model.model_validate({}) is not None


def test_envelopes_of_other_endpoints() -> None:
    assert UserInfo.model_validate({"user": {"id": 3, "userName": "ada"}}).user_name == "ada"
    assert ServiceInfo.model_validate({"serviceInfo": {"apiVersion": "1.2"}}).api_version == "1.2"
    progress = Progress.model_validate({"progress": {"totalProcesses": 4}})
    assert progress.total_processes == 4
    env = ComputeEnv.model_validate({"computeEnv": {"id": "ce", "config": {"workDir": "s3://w"}}})
    assert env.effective_work_dir == "s3://w"
    assert Pipeline.model_validate({"pipeline": {"pipelineId": 5, "name": "x"}}).id == 5
    assert Task(exit_status=3).exit_code == 3


def test_run_handle_is_plain_data() -> None:
    handle = RunHandle(workflow_id="a", run_name="b", action="resumed")
    assert pickle.loads(pickle.dumps(handle)) == handle
    assert handle.model_dump() == {
        "workflow_id": "a",
        "run_name": "b",
        "action": "resumed",
        "repository": None,
    }
    with pytest.raises(ValueError, match="action"):
        RunHandle(workflow_id="a", run_name="b", action="exploded")  # type: ignore[arg-type]


def test_failure_report_summary_and_error() -> None:
    report = FailureReport(
        workflow_id="w1",
        run_name="nightly",
        status=WorkflowStatus.FAILED,
        error_message="Process FOO failed",
        exit_status=1,
        failed_tasks=[Task(name="FOO (1)", exit=137, workdir="s3://work/ab/cd")],
        log_tail=["ERROR ~ boom"],
        run_url="https://cloud.seqera.io/orgs/a/workspaces/b/watch/w1",
    )
    text = report.summary()
    for piece in ("nightly", "FAILED", "exit status 1", "FOO (1): exit 137", "s3://work/ab/cd"):
        assert piece in text
    assert "ERROR ~ boom" in text
    assert report.run_url in text
    error = report.to_error()
    assert (error.workflow_id, error.status, error.exit_status) == ("w1", "FAILED", 1)
    assert error.failed_tasks[0].name == "FOO (1)"
    assert pickle.loads(pickle.dumps(error)).failed_tasks[0].workdir == "s3://work/ab/cd"


def test_import_is_light() -> None:
    code = (
        "import sys, nftower\n"
        "heavy = [m for m in ('starlette', 'uvicorn', 'nftower.testing', 'yaml') "
        "if m in sys.modules]\n"
        "built = nftower.Workflow.__pydantic_complete__\n"
        "print(heavy, built)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"


def test_fields_of_unexpected_type_are_dropped_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="nftower")
    payload = {
        "workflow": {"id": "w1", "status": "RUNNING", "duration": "a while", "params": [1, 2]},
        "progress": {"workflowProgress": {"succeeded": "many", "failed": 1}},
        "labels": "not-a-list",
    }
    wf = Workflow.model_validate(payload)
    assert (wf.id, wf.status, wf.duration, wf.params, wf.labels) == (
        "w1",
        "RUNNING",
        None,
        None,
        None,
    )
    assert wf.progress is not None
    assert wf.progress.workflow_progress is not None
    assert wf.progress.workflow_progress.failed == 1
    assert wf.progress.workflow_progress.succeeded is None
    assert "duration" in caplog.text
