"""A 429 on the launch POST is waited out and retried by the Prefect launch task (Tower refused
the request before handling it): one run, no RateLimitError."""

from __future__ import annotations

from nftower.testing import TowerEmulator
from prefect_nftower import TowerCredentials
from prefect_nftower.tasks import get_workflow, launch_workflow
from tower_helpers import launches_of, requests_of


def test_a_429_on_the_launch_post_is_retried_and_launches_once(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    emulator.inject(
        "rate_limit", method="POST", path=r"^/workflow/launch$", times=2, retry_after=0.1
    )
    try:
        workflow_id = launch_workflow.fn(credentials, "hello", run_name="limited-prefect")
    finally:
        emulator.clear_faults()
    answers = [r.status for r in requests_of(emulator, token) if r.path == "/workflow/launch"]
    assert answers == [429, 429, 200]
    (launch,) = launches_of(emulator, token)
    assert launch.response_json["workflowId"] == workflow_id
    assert get_workflow.fn(credentials, workflow_id).run_name == "limited-prefect"
