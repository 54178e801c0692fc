"""The client's models parse bodies shaped like the responses tw's tests record from Tower:
explicit nulls everywhere (even for nested objects and lists), whole-second timestamps,
``exit`` as a string on older servers, organization rows without workspace. The bodies are
our own, written from the official schema and the Seqera docs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from nftower import (
    ComputeEnv,
    Label,
    Pipeline,
    Progress,
    Task,
    UserInfo,
    Workflow,
    WorkflowStatus,
    Workspace,
)

SUBMITTED_WORKFLOW: dict[str, Any] = {
    "workflow": {
        "id": "3xKq0PzLmRbN7a", "submit": "2024-03-05T06:07:08Z", "start": None,
        "complete": None, "dateCreated": "2024-03-05T06:07:08Z",
        "lastUpdated": "2024-03-05T06:07:08Z", "runName": "quirky_hopper",
        "sessionId": "0b8a2c9e-55f1-4d0e-9a43-1c2d3e4f5a6b", "profile": None,
        "workDir": "s3://bucket/work", "commitId": None, "userName": "someone",
        "scriptId": None, "revision": "main", "commandLine": "nextflow run x -r main",
        "projectName": "acme/pipeline", "scriptName": None, "launchId": "5aBcDeFgHiJkLmNoPqRsTu",
        "status": "SUBMITTED", "configFiles": None, "params": None, "configText": None,
        "manifest": None, "nextflow": None, "stats": None, "errorMessage": None,
        "errorReport": None, "deleted": None, "projectDir": None, "homeDir": None,
        "container": None, "repository": None, "containerEngine": None, "scriptFile": None,
        "launchDir": None, "duration": None, "exitStatus": None, "resume": False,
        "success": None, "logFile": None, "outFile": None, "operationId": None, "ownerId": 17,
    },
    "progress": {
        "workflowProgress": {"pending": 0, "submitted": 0, "running": 0, "succeeded": 0,
                             "failed": 0, "cached": 0, "cost": None, "executors": None,
                             "dateCreated": None, "lastUpdated": None},
        "processesProgress": [],
    },
    "jobInfo": None, "labels": None, "orgId": None, "orgName": None,
    "workspaceId": None, "workspaceName": None, "optimized": None, "messages": None,
}  # fmt: skip

OLD_SERVER_TASK: dict[str, Any] = {
    "task": {
        "id": 101, "taskId": 1, "status": "COMPLETED", "dateCreated": "2024-03-05T06:07:10Z",
        "lastUpdated": "2024-03-05T06:09:40Z", "submit": "2024-03-05T06:07:10Z",
        "start": "2024-03-05T06:08:00Z", "complete": "2024-03-05T06:09:40Z", "attempt": 1,
        "scratch": None, "workdir": "s3://bucket/work/1f/0a9b8c7d6e5f", "env": None,
        "cloudZone": "eu-west-1b", "priceModel": "spot", "cost": None, "errorAction": None,
        "exitStatus": "0", "exit": "0", "realtime": 100000, "duration": 150000,
        "nativeId": "6c1d1f00-0000-4000-8000-000000000001", "pcpu": 91.2, "pmem": 0.1,
        "rss": None, "peakRss": None, "process": "SAY_HELLO", "tag": None, "disk": None,
        "container": "quay.io/nextflow/bash", "queue": "work-queue", "cpus": 1,
        "memory": None, "machineType": "m5.large", "executor": "awsbatch", "time": None,
        "script": "echo hello", "module": [], "hash": "1f/0a9b8c", "name": "SAY_HELLO",
    }
}  # fmt: skip

ROWS: list[dict[str, Any]] = [
    {"orgId": 11, "orgName": "acme", "orgLogoUrl": None, "orgType": None, "roles": None,
     "workspaceId": None, "workspaceName": None, "workspaceFullName": None, "visibility": None},
    {"orgId": 11, "orgName": "acme", "orgLogoUrl": None, "orgType": "pro", "roles": ["owner"],
     "workspaceId": 22, "workspaceName": "prod", "workspaceFullName": "Acme production",
     "visibility": "PRIVATE"},
]  # fmt: skip


def test_a_submitted_workflow_with_nulls_everywhere() -> None:
    workflow = Workflow.model_validate(SUBMITTED_WORKFLOW)
    assert workflow.status is WorkflowStatus.SUBMITTED
    assert workflow.submit == datetime(2024, 3, 5, 6, 7, 8, tzinfo=timezone.utc)
    assert workflow.start is None
    assert workflow.complete is None
    assert workflow.exit_status is None
    assert workflow.error_message is None
    assert workflow.params is None
    assert workflow.labels is None
    progress = Progress.model_validate({"progress": SUBMITTED_WORKFLOW["progress"]})
    assert progress.workflow_progress is not None
    assert progress.workflow_progress.succeeded == 0


def test_a_task_from_an_older_server_with_string_exit() -> None:
    task = Task.model_validate(OLD_SERVER_TASK)
    assert task.exit_code == 0
    assert task.exit_status == 0
    assert task.cost is None
    assert task.memory is None
    assert task.duration == 150000
    assert task.complete == datetime(2024, 3, 5, 6, 9, 40, tzinfo=timezone.utc)


def test_organization_rows_and_workspace_rows() -> None:
    workspaces = [Workspace.model_validate(row) for row in ROWS if row["workspaceId"]]
    assert [(w.workspace_id, w.workspace_name, w.org_name) for w in workspaces] == [
        (22, "prod", "acme")
    ]
    assert Workspace.model_validate(ROWS[0]).workspace_id is None


def test_labels_compute_envs_pipelines_and_user_with_nulls() -> None:
    label = Label.model_validate({"id": 5, "name": "nightly", "value": None, "resource": False,
                                  "isDefault": None, "isDynamic": None, "isInterpolated": None,
                                  "dateCreated": None})  # fmt: skip
    assert (label.name, label.value) == ("nightly", None)
    env = ComputeEnv.model_validate({
        "id": "4Xy", "name": "batch", "platform": "aws-batch", "status": "AVAILABLE",
        "primary": None, "workDir": "s3://bucket/work", "region": None, "labels": None,
        "resources": None, "message": None, "lastUsed": None, "credentialsId": None,
        "description": None, "visibility": None, "workspaceName": None, "waveEnabled": None,
        "fusion2Enabled": None, "schedEnabled": None,
    })  # fmt: skip
    assert (env.name, env.work_dir) == ("batch", "s3://bucket/work")
    pipeline = Pipeline.model_validate({"pipelineId": 9, "name": "hello", "labels": None,
                                        "computeEnv": None, "optimizationStatus": None,
                                        "workspaceId": None, "lastUpdated": None})  # fmt: skip
    assert (pipeline.pipeline_id, pipeline.name) == (9, "hello")
    user = UserInfo.model_validate({"user": {"id": 3, "userName": "someone", "email": None,
                                             "avatar": None, "lastAccess": None},
                                    "needConsent": False, "defaultWorkspaceId": None})  # fmt: skip
    assert (user.id, user.user_name) == (3, "someone")
