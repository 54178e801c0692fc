"""A run that is unknown, deleted or hidden is told apart from a bad token.

Tower answers 403 to both (the emulator too, by default): the client checks the token once
(GET /user-info) and raises RunNotFoundError naming the run when the token is good. A run
that vanishes while it is watched ends only its own wait, after a few status checks in a row
fail to find it; one transient 403 / 404 while waiting is ridden out.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from nftower import (
    AuthenticationError,
    NotFoundError,
    RunNotFoundError,
    TowerClient,
    TowerConfig,
    Workflow,
    WorkflowStatus,
)
from nftower._follow import MAX_POLL_ERRORS
from nftower.monitor import WorkflowMonitor
from nftower.ratelimit import reset_limiters
from nftower.testing import TowerEmulator

POLL = 0.05
SANDBOX_ID = 227463125598201
HELLO = "https://github.com/nextflow-io/hello"
HANG = {"emulator_outcome": "hang"}


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    reset_limiters()
    yield
    WorkflowMonitor.close_all()
    reset_limiters()


def count(emu: TowerEmulator, method: str, path: str, status: int | None = None) -> int:
    return sum(
        1
        for r in emu.requests
        if (r.method, r.path) == (method, path) and (status is None or r.status == status)
    )


def delete_run(emu: TowerEmulator, workflow_id: str) -> None:
    answer = httpx.delete(
        f"{emu.url}/workflow/{workflow_id}",
        params={"workspaceId": emu.workspace_id, "force": "true"},
        headers={"Authorization": f"Bearer {emu.token}"},
    )
    assert answer.status_code == 204


def once(action: Callable[[], None]) -> Callable[[Workflow], None]:
    """An ``on_change`` callback that runs ``action`` at the first status seen."""
    done: list[bool] = []

    def on_change(workflow: Workflow) -> None:
        if not done:
            done.append(True)
            action()

    return on_change


OPERATIONS = {
    "describe": ("get_workflow", "/workflow/{}"),
    "progress": ("get_progress", "/workflow/{}/progress"),
    "tasks": ("list_tasks", "/workflow/{}/tasks"),
    "log": ("get_log", "/workflow/{}/log"),
    "cancel": ("cancel", "/workflow/{}/cancel"),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_403_on_a_run_with_a_good_token_names_the_run(
    tower: Any, tower_emulator: TowerEmulator, operation: str
) -> None:
    method, path = OPERATIONS[operation]
    with pytest.raises(RunNotFoundError) as caught:
        getattr(tower, method)("noSuchRun00000")
    error = caught.value
    assert not isinstance(error, AuthenticationError)
    assert isinstance(error, NotFoundError)
    assert (error.status_code, error.workflow_id) == (403, "noSuchRun00000")
    text = str(error)
    assert text.startswith(f"403 {error.operation}: Run 'noSuchRun00000' is unknown or not")
    assert f"visible in workspace {tower_emulator.workspace_id}" in text
    assert "the token itself is valid" in text
    assert text.endswith("Server said: Operation not allowed")  # Tower's 403 has no Error ID
    assert "Access denied" not in text
    assert tower_emulator.token not in text
    assert count(tower_emulator, "GET", "/user-info") == 1  # the token, checked once
    request_path = path.format("noSuchRun00000")
    assert count(tower_emulator, "POST" if operation == "cancel" else "GET", request_path) == 1


def test_relaunch_and_downloads_of_an_unknown_run_name_it(
    tower: Any, tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    with pytest.raises(RunNotFoundError, match="Run 'noSuchRun00000' is unknown"):
        tower.relaunch("noSuchRun00000")
    with pytest.raises(RunNotFoundError, match="Run 'noSuchRun00000' is unknown"):
        tower.download_run_file("noSuchRun00000", "nf-noSuchRun00000.log", tmp_path / "log")
    with pytest.raises(RunNotFoundError, match="Run 'noSuchRun00000' is unknown"):
        tower.download_task_file("noSuchRun00000", 1, ".command.err", tmp_path / "err")
    assert tower_emulator.launches == []
    assert list(tmp_path.iterdir()) == []


def test_a_gone_file_of_a_visible_run_is_not_a_missing_run(
    tower: Any, tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    workflow_id = tower.launch("hello")
    tower.wait(workflow_id, poll_interval=POLL, timeout=60)
    tower_emulator.expire_run_files(workflow_id, f"nf-{workflow_id}.log")
    with pytest.raises(NotFoundError, match="is gone") as caught:
        tower.download_run_file(workflow_id, f"nf-{workflow_id}.log", tmp_path / "log")
    assert not isinstance(caught.value, RunNotFoundError)


def test_an_org_workspace_name_is_shown_with_its_id(tower_emulator: TowerEmulator) -> None:
    emu = tower_emulator
    with (
        TowerClient(emu.url, emu.token, f"{emu.org_name}/{emu.workspace_name}") as tower,
        pytest.raises(RunNotFoundError, match=r"in workspace 'demo-org/demo-workspace' \(id \d+\)"),
    ):
        tower.get_workflow("noSuchRun00000")


def test_a_run_of_another_workspace_is_not_visible(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    emu = tower_emulator
    with TowerClient(emu.url, emu.token, SANDBOX_ID) as sandbox:
        elsewhere = sandbox.launch(HELLO, params=HANG)
        assert sandbox.get_workflow(elsewhere).id == elsewhere
        sandbox.cancel(elsewhere)
    with pytest.raises(RunNotFoundError) as caught:
        tower.get_workflow(elsewhere)
    assert caught.value.workflow_id == elsewhere


@pytest.mark.parametrize("bad_token_status", [403, 401])
def test_a_bad_token_stays_an_authentication_error(make_client: Any, bad_token_status: int) -> None:
    with TowerEmulator(speed=50, bad_token_status=bad_token_status) as emu:
        tower = make_client(emu.url, "not-the-token-0123456789", emu.workspace_id)
        with pytest.raises(AuthenticationError) as caught:
            tower.get_workflow("noSuchRun00000")
        assert not isinstance(caught.value, RunNotFoundError)
        assert caught.value.status_code == bad_token_status
        assert caught.value.operation == "GET /workflow/{workflowId}"
        assert "Access denied" in str(caught.value)
        # a 401 is a bad token for sure; only a 403 makes the client ask
        assert count(emu, "GET", "/user-info") == (1 if bad_token_status == 403 else 0)


@pytest.mark.tower_emulator(unknown_run_status=404)
def test_a_404_on_a_run_names_it_without_a_token_check(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    with pytest.raises(RunNotFoundError) as caught:
        tower.get_workflow("noSuchRun00000")
    assert caught.value.status_code == 404
    assert "Run 'noSuchRun00000' is unknown or not visible" in str(caught.value)
    assert "Server said: Workflow 'noSuchRun00000' not found" in str(caught.value)
    assert count(tower_emulator, "GET", "/user-info") == 0


def test_the_emulator_answers_an_unknown_run_as_tower_does() -> None:
    with pytest.raises(ValueError, match="unknown_run_status must be 403 or 404"):
        TowerEmulator(unknown_run_status=410)
    for status, message in [(403, "Operation not allowed"), (404, "Workflow 'nope' not found")]:
        with TowerEmulator(unknown_run_status=status) as emu:
            answer = httpx.get(
                f"{emu.url}/workflow/nope/progress",
                params={"workspaceId": emu.workspace_id},
                headers={"Authorization": f"Bearer {emu.token}"},
            )
        assert (answer.status_code, answer.json()) == (status, {"message": message})


def test_a_wrong_id_ends_a_wait_at_once(tower: Any, tower_emulator: TowerEmulator) -> None:
    with pytest.raises(RunNotFoundError, match="Run 'noSuchRun00000' is unknown"):
        tower.wait("noSuchRun00000", poll_interval=POLL, timeout=30)
    assert count(tower_emulator, "GET", "/workflow/noSuchRun00000") == 1


@pytest.mark.parametrize("status", [403, 404])
def test_one_transient_403_or_404_while_waiting_is_ridden_out(
    tower: Any, tower_emulator: TowerEmulator, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    emu = tower_emulator
    workflow_id = tower.launch("hello")
    path = f"/workflow/{workflow_id}"

    def blip() -> None:
        emu.inject("status", method="GET", path=f"^{path}$", status=status)

    with caplog.at_level(logging.WARNING, logger="nftower"):
        final = tower.wait(workflow_id, poll_interval=POLL, timeout=60, on_change=once(blip))
    assert final.status is WorkflowStatus.SUCCEEDED
    assert count(emu, "GET", path, status) == 1
    assert f"Status check of run {workflow_id} failed (1/{MAX_POLL_ERRORS} in a row)" in caplog.text
    assert len(emu.launches) == 1


@pytest.mark.parametrize("unknown_run_status", [403, 404])
def test_a_run_deleted_while_waited_for_ends_the_wait_naming_it(
    make_client: Any, unknown_run_status: int
) -> None:
    with TowerEmulator(speed=50, unknown_run_status=unknown_run_status) as emu:
        tower = make_client(emu.url, emu.token, emu.workspace_id)
        workflow_id = tower.launch("hello", params=HANG)
        with pytest.raises(RunNotFoundError) as caught:
            tower.wait(
                workflow_id,
                poll_interval=POLL,
                timeout=60,
                on_change=once(lambda: delete_run(emu, workflow_id)),
            )
        assert caught.value.workflow_id == workflow_id
        assert caught.value.status_code == unknown_run_status
        assert f"Run '{workflow_id}' is unknown or not visible" in str(caught.value)
        # tolerated MAX_POLL_ERRORS times in a row, then raised
        path = f"/workflow/{workflow_id}"
        assert count(emu, "GET", path, unknown_run_status) == MAX_POLL_ERRORS + 1
        assert len(emu.launches) == 1


def monitor_config(emu: TowerEmulator) -> TowerConfig:
    token = secrets.token_hex(12)
    emu.add_token(token)
    return TowerConfig(
        api_url=emu.url, token=token, workspace=emu.workspace_id, rate_limit_backend="memory://"
    )


async def test_a_run_that_vanishes_ends_only_its_own_wait_in_the_monitor(
    tower_emulator: TowerEmulator,
) -> None:
    emu = tower_emulator
    with TowerClient(emu.url, emu.token, emu.workspace_id, rate_limit_backend="memory://") as c:
        kept, doomed = (c.launch("hello", params=HANG) for _ in range(2))
    monitor = WorkflowMonitor.shared(monitor_config(emu), poll_interval=POLL)
    good = asyncio.create_task(monitor.wait(kept, timeout=60))

    deleted: list[bool] = []

    async def vanish(workflow: Workflow) -> None:
        if not deleted:  # once: a status seen before the delete may still be on its way
            deleted.append(True)
            await asyncio.to_thread(delete_run, emu, doomed)

    with pytest.raises(RunNotFoundError) as caught:
        await monitor.wait(doomed, timeout=60, on_change=vanish)
    assert caught.value.workflow_id == doomed
    assert f"Run '{doomed}' is unknown or not visible" in str(caught.value)
    assert not good.done()  # the other run is still watched
    emu.set_status(kept, "SUCCEEDED")
    assert (await asyncio.wait_for(good, 30)).status is WorkflowStatus.SUCCEEDED
    assert monitor.stats().errors == 0  # no cycle failed: the token was never in doubt
    assert len(emu.launches) == 2


async def test_one_transient_404_in_the_monitor_is_ridden_out(
    tower_emulator: TowerEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu = tower_emulator
    with TowerClient(emu.url, emu.token, emu.workspace_id, rate_limit_backend="memory://") as c:
        run = c.launch("hello", params=HANG)
    emu.set_status(run, "UNKNOWN")  # not in the running list: described every cycle
    path = f"/workflow/{run}"

    def blip() -> None:
        emu.inject("status", method="GET", path=f"^{path}$", status=404)

    async def finish_after_the_blip() -> None:
        for _ in range(3000):  # a minute at most
            if count(emu, "GET", path, 404):
                break
            await asyncio.sleep(0.02)
        emu.set_status(run, "SUCCEEDED")

    finisher = asyncio.create_task(finish_after_the_blip())
    monitor = WorkflowMonitor.shared(monitor_config(emu), poll_interval=POLL)
    with caplog.at_level(logging.WARNING, logger="nftower.monitor"):
        final = await monitor.wait(run, timeout=60, unknown_timeout=None, on_change=once(blip))
    await finisher
    assert final.status is WorkflowStatus.SUCCEEDED
    assert count(emu, "GET", path, 404) == 1
    assert f"Run {run} was not found (1/{MAX_POLL_ERRORS} in a row), will look again" in caplog.text
