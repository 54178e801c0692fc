"""The Prefect wait surfaces the core's rules: a run deleted while waited for raises
RunNotFoundError naming it (Tower's 403 for it is not a bad token), and UNKNOWN past
unknown_timeout fails with the core's sentence for it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from emulator_waits import wait_until_running_and_watched
from nftower import AuthenticationError, RunNotFoundError, WorkflowFailedError
from nftower.testing import TowerEmulator
from prefect_nftower import TowerCredentials
from prefect_nftower.tasks import launch_workflow, wait_for_workflow
from tower_helpers import POLL, requests_of


def delete_run(emulator: TowerEmulator, token: str, workflow_id: str) -> None:
    answer = httpx.delete(
        f"{emulator.url}/workflow/{workflow_id}",
        params={"workspaceId": emulator.workspace_id, "force": "true"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 204


def test_a_run_deleted_while_waited_for_raises_naming_it(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    workflow_id = launch_workflow.fn(credentials, "hello", params={"emulator_outcome": "hang"})
    launched = time.time()
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(
            wait_for_workflow.fn, credentials, workflow_id, poll_interval=POLL, timeout=60
        )
        wait_until_running_and_watched(emulator, workflow_id, since=launched)
        assert not waiting.done()
        delete_run(emulator, token, workflow_id)
        with pytest.raises(RunNotFoundError) as caught:
            waiting.result(timeout=60)
    error = caught.value
    assert not isinstance(error, AuthenticationError)
    assert error.workflow_id == workflow_id
    assert f"Run '{workflow_id}' is unknown or not visible in workspace" in str(error)
    assert token not in str(error)
    # an API error ends the wait without a cancel: the run is gone anyway
    assert not [r for r in requests_of(emulator, token) if r.path.endswith("/cancel")]


def test_unknown_for_too_long_fails_with_the_core_s_sentence(
    credentials: TowerCredentials,
) -> None:
    workflow_id = launch_workflow.fn(credentials, "hello", params={"emulator_outcome": "unknown"})
    with pytest.raises(WorkflowFailedError) as caught:
        wait_for_workflow.fn(credentials, workflow_id, poll_interval=POLL, unknown_timeout=0.3)
    assert caught.value.status == "UNKNOWN"
    text = str(caught.value)
    assert text.startswith("Run ")
    assert "has reported status UNKNOWN for" in text
    assert "(unknown_timeout=0.3 s)" in text
    assert f"({workflow_id}) ended UNKNOWN" in text  # the failure report's headline follows
