"""A proxy in front of the Tower emulator that sends requests to a login page (the emulator's
``redirect`` fault), at each phase of a nightly ``ensure_run`` then ``follow``: the error names
the redirect, nothing is retried into it, and the emulator's launch count stays at one run."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ClientFactory
from nftower import RedirectError
from nftower.testing import TowerEmulator

LAUNCH = r"^/workflow/launch$"


@pytest.fixture
def tower(tower_emulator: TowerEmulator, make_client: ClientFactory) -> Any:
    emu = tower_emulator
    return make_client(emu.url, emu.token, emu.workspace_id)


def test_a_login_redirect_of_the_launch_post_launches_nothing_and_the_retry_once(
    tower_emulator: TowerEmulator, tower: Any
) -> None:
    tower_emulator.inject("redirect", method="POST", path=LAUNCH, location="/login")
    with pytest.raises(RedirectError, match=r"redirect to .*/login"):
        tower.ensure_run("hello", run_name="nightly-redirect-launch")
    assert tower_emulator.launches == []
    handle = tower.ensure_run("hello", run_name="nightly-redirect-launch")
    assert handle.action == "launched"
    assert len(tower_emulator.launches) == 1


def test_a_login_redirect_of_the_runs_search_launches_nothing(
    tower_emulator: TowerEmulator, tower: Any
) -> None:
    tower_emulator.inject("redirect", method="GET", path=r"^/workflow$", location="/login")
    with pytest.raises(RedirectError):
        tower.ensure_run("hello", run_name="nightly-redirect-search")
    assert tower_emulator.launches == []
    assert [r.path for r in tower_emulator.requests if r.method == "POST"] == []
    tower.ensure_run("hello", run_name="nightly-redirect-search")
    assert len(tower_emulator.launches) == 1


def test_a_login_redirect_mid_wait_ends_the_wait_and_the_retry_reattaches(
    tower_emulator: TowerEmulator, tower: Any
) -> None:
    first = tower.ensure_run("hello", run_name="nightly-redirect-wait", params={"sleep": 5})
    tower_emulator.inject("redirect", method="GET", path=r"^/workflow/\w+$", location="/sso")
    with pytest.raises(RedirectError) as caught:
        tower.follow(first.workflow_id, poll_interval=0.1)
    assert "Redirects are not followed" in str(caught.value)
    again = tower.ensure_run("hello", run_name="nightly-redirect-wait")
    assert (again.action, again.workflow_id) == ("reattached", first.workflow_id)
    assert len(tower_emulator.launches) == 1
