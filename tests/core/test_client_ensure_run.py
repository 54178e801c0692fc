"""ensure_run(): the one duplicate-prevention routine, and the launch never retried blindly."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from nftower import LaunchOutcomeUnknownError, TowerConfigError, WorkflowStatus
from nftower.testing import TowerEmulator

POLL = 0.05


def wait_done(tower: Any, workflow_id: str) -> WorkflowStatus:
    status = tower.wait(workflow_id, poll_interval=POLL, timeout=30).status
    assert isinstance(status, WorkflowStatus)
    return status


def test_launches_when_there_is_no_run(tower: Any, tower_emulator: TowerEmulator) -> None:
    handle = tower.ensure_run("hello", run_name="nightly-2024-06-01")
    assert handle.action == "launched"
    assert handle.run_name == "nightly-2024-06-01"
    assert len(tower_emulator.launches) == 1
    assert tower.get_workflow(handle.workflow_id).run_name == "nightly-2024-06-01"


def test_a_launch_tells_its_repository_and_its_link_needs_no_describe(
    tower_emulator: TowerEmulator,
) -> None:
    """With an `org/workspace` name the run page is known from the handle; a reattach did not
    launch, so it names no repository."""
    from nftower import TowerClient
    from nftower._reports import project_name

    workspace = f"{tower_emulator.org_name}/{tower_emulator.workspace_name}"
    with TowerClient(tower_emulator.url, tower_emulator.token, workspace) as client:
        handle = client.ensure_run("hello", run_name="linked-1")
        before = len(tower_emulator.requests)
        link = client.run_url(handle)
        assert len(tower_emulator.requests) == before  # no call
        described = client.get_workflow(handle.workflow_id)
        assert link == client.run_url(described)
        assert handle.repository
        assert project_name(handle.repository) == described.project_name
        again = client.ensure_run("hello", run_name="linked-1")
        assert (again.action, again.repository) == ("reattached", None)
    emulator = tower_emulator
    with TowerClient(emulator.url, emulator.token, emulator.workspace_id) as by_id:
        assert by_id.run_url(handle) is None  # no names without a describe


def test_reattaches_to_an_active_run(tower: Any, tower_emulator: TowerEmulator) -> None:
    first = tower.ensure_run("hello", run_name="active-1", params={"emulator_outcome": "hang"})
    again = tower.ensure_run("hello", run_name="active-1", params={"emulator_outcome": "hang"})
    assert again.action == "reattached"
    assert again.workflow_id == first.workflow_id
    assert len(tower_emulator.launches) == 1
    tower.cancel(first.workflow_id)


def test_reattaches_to_a_succeeded_run(tower: Any, tower_emulator: TowerEmulator) -> None:
    first = tower.ensure_run("hello", run_name="done-1")
    assert wait_done(tower, first.workflow_id) is WorkflowStatus.SUCCEEDED
    again = tower.ensure_run("hello", run_name="done-1")
    assert (again.action, again.workflow_id) == ("reattached", first.workflow_id)
    assert len(tower_emulator.launches) == 1


def test_resumes_a_failed_run_then_counts_attempts(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    first = tower.ensure_run("hello", run_name="flaky", params={"emulator_outcome": "fail"})
    assert wait_done(tower, first.workflow_id) is WorkflowStatus.FAILED
    second = tower.ensure_run("hello", run_name="flaky", params={"emulator_outcome": "fail"})
    assert (second.action, second.run_name) == ("resumed", "flaky-r1")
    launch = tower_emulator.launches[-1].json["launch"]
    assert launch["resume"] is True
    assert launch["runName"] == "flaky-r1"
    assert wait_done(tower, second.workflow_id) is WorkflowStatus.FAILED
    # launch options apply to the resumed run too: here they fix the cause of the failure
    third = tower.ensure_run("hello", run_name="flaky", params={"emulator_outcome": "succeed"})
    assert (third.action, third.run_name) == ("resumed", "flaky-r2")
    assert wait_done(tower, third.workflow_id) is WorkflowStatus.SUCCEEDED
    fourth = tower.ensure_run("hello", run_name="flaky")
    assert (fourth.action, fourth.workflow_id) == ("reattached", third.workflow_id)
    assert len(tower_emulator.launches) == 3


def test_fresh_relaunch_when_resume_is_off(tower: Any, tower_emulator: TowerEmulator) -> None:
    first = tower.ensure_run("hello", run_name="fresh", params={"emulator_outcome": "fail"})
    wait_done(tower, first.workflow_id)
    second = tower.ensure_run("hello", run_name="fresh", resume_failed=False)
    assert (second.action, second.run_name) == ("relaunched", "fresh-r1")
    launch = tower_emulator.launches[-1].json["launch"]
    assert not launch.get("resume")
    assert "sessionId" not in launch


def test_relaunches_a_cancelled_run(tower: Any, tower_emulator: TowerEmulator) -> None:
    first = tower.ensure_run("hello", run_name="stuck", params={"emulator_outcome": "hang"})
    tower_emulator.set_status(first.workflow_id, "CANCELLED")
    second = tower.ensure_run("hello", run_name="stuck")
    assert second.action in ("resumed", "relaunched")
    assert second.run_name == "stuck-r1"
    assert second.workflow_id != first.workflow_id
    assert len(tower_emulator.launches) == 2


def test_other_runs_with_similar_names_are_ignored(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    tower.launch("hello", run_name="daily-extra", params={"emulator_outcome": "hang"})
    tower.launch("hello", run_name="daily-rx", params={"emulator_outcome": "hang"})
    handle = tower.ensure_run("hello", run_name="daily")
    assert handle.action == "launched"
    assert len(tower_emulator.launches) == 3
    for workflow in tower.list_workflows():
        tower.cancel(workflow.id)


@pytest.mark.parametrize("name", ["Bad Name", "x" * 75, ""])
def test_run_name_checked_first(tower: Any, tower_emulator: TowerEmulator, name: str) -> None:
    with pytest.raises(TowerConfigError):
        tower.ensure_run("hello", run_name=name)
    assert tower_emulator.requests == []


def test_dropped_launch_is_not_retried(tower: Any, tower_emulator: TowerEmulator) -> None:
    tower_emulator.inject("drop_after", method="POST", path=r"^/workflow/launch$")
    with pytest.raises(LaunchOutcomeUnknownError) as caught:
        tower.launch("hello", run_name="dropped-1")
    assert len(tower_emulator.launches) == 1  # the run exists; it was not launched twice
    assert caught.value.run_name == "dropped-1"
    text = str(caught.value)
    assert "may or may not" in text
    assert "find_workflow('dropped-1')" in text
    assert tower_emulator.token not in text
    found = tower.find_workflow("dropped-1")
    assert found is not None


def test_dropped_request_before_processing_is_also_unknown(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    tower_emulator.inject("drop_before", method="POST", path=r"^/workflow/launch$")
    with pytest.raises(LaunchOutcomeUnknownError):
        tower.launch("hello", run_name="dropped-2")
    assert tower_emulator.launches == []  # not retried: the client cannot tell the two apart


def test_ensure_run_recovers_from_an_unknown_launch_outcome(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    tower_emulator.inject("drop_after", method="POST", path=r"^/workflow/launch$")
    handle = tower.ensure_run("hello", run_name="recovered")
    assert handle.action == "launched"
    assert len(tower_emulator.launches) == 1
    assert tower.get_workflow(handle.workflow_id).run_name == "recovered"


def test_ensure_run_reraises_when_the_run_cannot_be_found(
    tower: Any, tower_emulator: TowerEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NFTOWER_LAUNCH_GRACE", "1.5")
    tower_emulator.inject("drop_before", method="POST", path=r"^/workflow/launch$")
    started = time.monotonic()
    with pytest.raises(LaunchOutcomeUnknownError):
        tower.ensure_run("hello", run_name="lost")
    assert 1.0 <= time.monotonic() - started < 10
    assert tower_emulator.launches == []
    looks = [r for r in tower_emulator.requests if r.method == "GET" and r.path == "/workflow"]
    assert len(looks) >= 2  # looked for the run during the grace, not once


class RefuseFirstLaunches(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Refuses the first ``n`` launch connections (nothing sent), then uses a real transport."""

    def __init__(self, n: int) -> None:
        self.left = n
        self.sync = httpx.HTTPTransport()
        self.async_ = httpx.AsyncHTTPTransport()

    def _refuse(self, request: httpx.Request) -> None:
        if request.url.path == "/workflow/launch" and self.left > 0:
            self.left -= 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._refuse(request)
        return self.sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._refuse(request)
        return await self.async_.handle_async_request(request)


def test_refused_launch_connection_is_retried(
    tower_emulator: TowerEmulator, make_client: Any, fast_sleep: list[float]
) -> None:
    transport = RefuseFirstLaunches(2)
    tower = make_client(
        tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id, transport=transport
    )
    workflow_id = tower.launch("hello", run_name="refused-1")
    assert transport.left == 0
    assert len(fast_sleep) == 2
    assert [r.json["launch"]["runName"] for r in tower_emulator.launches] == ["refused-1"]
    assert tower.get_workflow(workflow_id).run_name == "refused-1"


def test_a_run_under_its_former_name_is_reattached(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    """A run launched before a naming change is found by its former name, not launched again."""
    params = {"emulator_outcome": "hang"}
    old = tower.ensure_run("hello", run_name="dag-manual_2024-06-01t00-00-00-task", params=params)
    again = tower.ensure_run(
        "hello", run_name="dag-2024-06-01-task-0a1b2c3d", former_names=[old.run_name], params=params
    )
    assert (again.action, again.workflow_id) == ("reattached", old.workflow_id)
    assert again.run_name == old.run_name
    assert len(tower_emulator.launches) == 1
    tower.cancel(old.workflow_id)
    # with no run under either name, the new name is launched
    fresh = tower.ensure_run("hello", run_name="dag-2024-06-02-task-1a2b3c4d", former_names=["x-y"])
    assert (fresh.action, fresh.run_name) == ("launched", "dag-2024-06-02-task-1a2b3c4d")
    with pytest.raises(TowerConfigError):
        tower.ensure_run("hello", run_name="a-b", former_names="c-d")
