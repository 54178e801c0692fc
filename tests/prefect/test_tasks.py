"""Tasks called through `.fn` (no flow run: plain loggers), sync and async, on the emulator."""

from __future__ import annotations

import logging

import pytest
from nftower import (
    AuthenticationError,
    NotFoundError,
    WaitTimeoutError,
    WorkflowFailedError,
    WorkflowStatus,
)
from nftower.testing import TowerEmulator
from prefect_nftower import TowerCredentials
from prefect_nftower.tasks import (
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
from tower_helpers import POLL, launches_of, requests_of

HANG = {"emulator_outcome": "hang"}
FAIL = {"emulator_outcome": "fail"}


def test_launch_get_cancel(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    workflow_id = launch_workflow.fn(credentials, "hello", params=HANG)
    assert len(launches_of(emulator, token)) == 1
    assert get_workflow.fn(credentials, workflow_id).id == workflow_id
    cancel_workflow.fn(credentials, workflow_id)
    assert get_workflow.fn(credentials, workflow_id).status == WorkflowStatus.CANCELLED


def test_launch_options_reach_tower(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    launch_workflow.fn(
        credentials,
        "rnaseq",
        params={"outdir": "s3://out/2024-06-01"},
        revision="3.14.0",
        config_profiles=["test"],
        run_name="nightly",
    )
    (request,) = launches_of(emulator, token)
    launch = request.json["launch"]
    assert launch["revision"] == "3.14.0"
    assert launch["configProfiles"] == ["test"]
    assert "s3://out/2024-06-01" in launch["paramsText"]
    assert launch["runName"].startswith("nightly")


def test_wait_returns_the_final_workflow(credentials: TowerCredentials) -> None:
    workflow_id = launch_workflow.fn(credentials, "hello")
    workflow = wait_for_workflow.fn(credentials, workflow_id, poll_interval=POLL)
    assert workflow.status == WorkflowStatus.SUCCEEDED


def test_wait_raises_with_the_failure_report(credentials: TowerCredentials) -> None:
    workflow_id = launch_workflow.fn(credentials, "hello", params=FAIL)
    with pytest.raises(WorkflowFailedError) as caught:
        wait_for_workflow.fn(credentials, workflow_id, poll_interval=POLL)
    error = caught.value
    assert error.status == "FAILED"
    assert error.failed_tasks
    assert error.run_url
    assert workflow_id in error.run_url
    text = str(error)
    assert "FAILED" in text
    assert error.run_url in text
    assert (error.failed_tasks[0].name or error.failed_tasks[0].process or "") in text


def test_wait_without_raising_returns_the_failed_run(credentials: TowerCredentials) -> None:
    workflow_id = launch_workflow.fn(credentials, "hello", params=FAIL)
    workflow = wait_for_workflow.fn(
        credentials, workflow_id, poll_interval=POLL, raise_on_failure=False
    )
    assert workflow.status == WorkflowStatus.FAILED


def test_timeout_cancels_the_run(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    workflow_id = launch_workflow.fn(credentials, "hello", params=HANG)
    with pytest.raises(WaitTimeoutError):
        wait_for_workflow.fn(credentials, workflow_id, poll_interval=POLL, timeout=0.5)
    cancels = [
        r
        for r in requests_of(emulator, token)
        if r.method == "POST" and r.path == f"/workflow/{workflow_id}/cancel"
    ]
    assert len(cancels) == 1
    assert get_workflow.fn(credentials, workflow_id).status == WorkflowStatus.CANCELLED


def test_timeout_keeps_the_run_when_cancel_on_exit_is_off(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    workflow_id = launch_workflow.fn(credentials, "hello", params=HANG)
    with pytest.raises(WaitTimeoutError):
        wait_for_workflow.fn(
            credentials, workflow_id, poll_interval=POLL, timeout=0.3, cancel_on_exit=False
        )
    assert not [r for r in requests_of(emulator, token) if r.path.endswith("/cancel")]
    cancel_workflow.fn(credentials, workflow_id)


def test_api_error_is_logged_with_status_operation_and_error_id(
    credentials: TowerCredentials, emulator: TowerEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    # Tower's 404 carries no Error ID; an injected one does.
    emulator.inject("status", method="GET", path=r"^/workflow/0000000000unknown$", status=404)
    with pytest.raises(NotFoundError) as caught:
        get_workflow.fn(credentials, "0000000000unknown")
    assert caught.value.error_id
    logged = caplog.text
    assert "404" in logged
    assert caught.value.operation in logged
    assert caught.value.error_id in logged


def test_bad_token_error_never_shows_the_token(emulator: TowerEmulator) -> None:
    wrong = "wrong-token-abcdef0123456789"
    creds = TowerCredentials(
        access_token=wrong, api_url=emulator.url, workspace=str(emulator.workspace_id)
    )
    with pytest.raises(AuthenticationError) as caught:
        get_workflow.fn(creds, "abc")
    assert caught.value.status_code == 403
    assert wrong not in str(caught.value)
    assert wrong not in repr(caught.value)


def test_call_tower_endpoint(credentials: TowerCredentials) -> None:
    body = call_tower_endpoint.fn(credentials, "GET", "/user-info")
    assert body["user"]["userName"] == "demo-user"


async def test_async_tasks(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    workflow_id = await alaunch_workflow.fn(credentials, "hello")
    assert (await aget_workflow.fn(credentials, workflow_id)).id == workflow_id
    workflow = await await_for_workflow.fn(credentials, workflow_id, poll_interval=POLL)
    assert workflow.status == WorkflowStatus.SUCCEEDED
    assert (await acall_tower_endpoint.fn(credentials, "GET", "/user-info"))["user"]

    hanging = await alaunch_workflow.fn(credentials, "hello", params=HANG)
    await acancel_workflow.fn(credentials, hanging)
    assert (await aget_workflow.fn(credentials, hanging)).status == WorkflowStatus.CANCELLED
    assert len(launches_of(emulator, token)) == 2


async def test_async_timeout_cancels_the_run(credentials: TowerCredentials) -> None:
    workflow_id = await alaunch_workflow.fn(credentials, "hello", params=HANG)
    with pytest.raises(WaitTimeoutError):
        await await_for_workflow.fn(credentials, workflow_id, poll_interval=POLL, timeout=0.5)
    assert (await aget_workflow.fn(credentials, workflow_id)).status == WorkflowStatus.CANCELLED


def test_unknown_for_too_long_counts_as_failed(credentials: TowerCredentials) -> None:
    workflow_id = launch_workflow.fn(credentials, "hello", params={"emulator_outcome": "unknown"})
    with pytest.raises(WorkflowFailedError) as caught:
        wait_for_workflow.fn(credentials, workflow_id, poll_interval=POLL, unknown_timeout=0.3)
    assert caught.value.status == "UNKNOWN"


@pytest.mark.parametrize(
    ("sync_name", "async_name"),
    [
        ("launch_workflow", "alaunch_workflow"),
        ("get_workflow", "aget_workflow"),
        ("wait_for_workflow", "await_for_workflow"),
        ("cancel_workflow", "acancel_workflow"),
        ("call_tower_endpoint", "acall_tower_endpoint"),
    ],
)
def test_sync_and_async_tasks_take_the_same_arguments(sync_name: str, async_name: str) -> None:
    import inspect

    from prefect_nftower import tasks

    sync_task, async_task = getattr(tasks, sync_name), getattr(tasks, async_name)
    sync_signature = inspect.signature(sync_task.fn)
    async_signature = inspect.signature(async_task.fn)
    assert sync_signature.parameters == async_signature.parameters
    assert sync_signature.return_annotation == async_signature.return_annotation
    assert sync_task.aio is async_task
    assert sync_task.name == async_task.name


def test_a_failed_sync_wait_has_no_chained_event_loop_error(
    credentials: TowerCredentials,
) -> None:
    import traceback

    workflow_id = launch_workflow.fn(credentials, "hello", params={"emulator_outcome": "fail"})
    with pytest.raises(WorkflowFailedError) as caught:
        wait_for_workflow.fn(credentials, workflow_id, poll_interval=POLL)
    text = "".join(traceback.format_exception(caught.value))
    assert "no running event loop" not in text
    assert "During handling of the above exception" not in text
