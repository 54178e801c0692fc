"""A race under Prefect: the flow process SIGKILLed while its launch is in flight (Tower slow to
accept it), the flow run marked Crashed as a worker would, and ``prefect flow-run retry`` at
once. The retry finds the launch in flight in the host-wide store, waits for its run and
follows it: one run (the emulator's launch count is the judge)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

import pytest
from nftower.testing import TowerEmulator
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from prefect.states import Crashed
from tower_helpers import launches_of

pytestmark = pytest.mark.timeout(300)

#: Tower answers the launch this long after it arrived: longer than a retry takes to start
SLOW_LAUNCH = 30.0
LAUNCH = r"^/workflow/launch$"

FLOW = """
import os
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run
from prefect_nftower import TowerCredentials
from prefect_nftower.tasks import launch_workflow, wait_for_workflow


@flow
def nightly() -> str:
    marker = os.environ.get("FLOW_RUN_ID_FILE")
    if marker:
        Path(marker).write_text(flow_run.id)
    credentials = TowerCredentials()  # the TOWER_* variables
    workflow_id = launch_workflow(credentials, "hello")
    return wait_for_workflow(credentials, workflow_id, poll_interval=0.2).id
"""


def test_a_flow_killed_while_its_launch_is_in_flight_then_retried_at_once_launches_once(
    emulator: TowerEmulator, token: str, tmp_path: Path
) -> None:
    script = tmp_path / "nightly.py"
    script.write_text(FLOW)
    marker = tmp_path / "flow-run-id"
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
    first = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
            "from nightly import nightly; nightly()",
        ],
        env={**env, "FLOW_RUN_ID_FILE": str(marker)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        # the delay fault is used up once the launch POST is with Tower (and waits there)
        while [f for f in emulator.faults if f["path"] == LAUNCH and f["kind"] == "delay"]:
            assert first.poll() is None, "the flow process ended before launching"
            assert time.monotonic() < deadline, "no launch"
            time.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
        emulator.clear_faults()
    assert launches_of(emulator, token) == []  # killed before Tower answered
    flow_run_id = UUID(marker.read_text())

    async def mark_crashed() -> None:  # what the worker reports when the process died
        async with get_client() as client:
            await client.set_flow_run_state(flow_run_id, Crashed(), force=True)

    asyncio.run(mark_crashed())
    cli = Path(sys.executable).with_name("prefect")
    rerun = subprocess.run(
        [str(cli), "flow-run", "retry", str(flow_run_id), "--entrypoint", f"{script}:nightly"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, output
    (launch,) = launches_of(emulator, token)
    assert "has been in flight since" in output, output[-3000:]
    assert "never appeared" not in output
    assert emulator.workflow(launch.workflow_id or "")["status"] == "SUCCEEDED"
