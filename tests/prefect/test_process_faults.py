"""A race under Prefect: the flow process SIGKILLed while its launch is in flight (Tower slow to
accept it), the flow run marked Crashed as a worker would, and ``prefect flow-run retry`` at
once. The retry finds the launch in flight in the host-wide store, waits for its run and
follows it: one run (the emulator's launch count is the judge)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flow_processes import mark_crashed, retry_flow_run, run_then_kill, write_nightly
from nftower.testing import TowerEmulator
from prefect.settings import PREFECT_API_URL
from tower_helpers import launches_of

pytestmark = pytest.mark.timeout(300)

#: Tower answers the launch this long after it arrived: longer than a retry takes to start
SLOW_LAUNCH = 30.0
LAUNCH = r"^/workflow/launch$"


def test_a_flow_killed_while_its_launch_is_in_flight_then_retried_at_once_launches_once(
    emulator: TowerEmulator, token: str, tmp_path: Path
) -> None:
    script = write_nightly(tmp_path)
    env = dict(
        os.environ,
        PREFECT_API_URL=PREFECT_API_URL.value(),
        PREFECT_LOGGING_EXTRA_LOGGERS="nftower",
        TOWER_ACCESS_TOKEN=token,
        TOWER_API_ENDPOINT=emulator.url,
        TOWER_WORKSPACE_ID=str(emulator.workspace_id),
        NFTOWER_RATE_LIMIT_BACKEND=f"file://{tmp_path}/shared.file",  # the host's store
    )
    emulator.inject("delay", method="POST", path=LAUNCH, delay=SLOW_LAUNCH)

    def launch_with_tower() -> bool:
        # the delay fault is used up once the launch POST is with Tower (and waits there)
        return not [f for f in emulator.faults if f["path"] == LAUNCH and f["kind"] == "delay"]

    try:
        flow_run_id = run_then_kill(script, "nightly()", env, launch_with_tower, every=0.05)
    finally:
        emulator.clear_faults()
    assert launches_of(emulator, token) == []  # killed before Tower answered
    mark_crashed(flow_run_id)
    rerun = retry_flow_run(flow_run_id, script, env, timeout=240)
    output = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, output
    (launch,) = launches_of(emulator, token)
    assert "has been in flight since" in output, output[-3000:]
    assert "never appeared" not in output
    assert emulator.workflow(launch.workflow_id or "")["status"] == "SUCCEEDED"
