"""A Prefect flow run in a process of its own, killed and retried the way a crashed worker's
run is: the script, the kill at the right moment, "mark Crashed", ``prefect flow-run retry``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.states import Crashed

#: ``nightly()`` launches "hello" and waits for it; it writes its flow-run id to
#: ``$FLOW_RUN_ID_FILE``. ``{signature}`` / ``{credentials}``: where the credentials come from.
_SCRIPT = """
import os
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run
from prefect_nftower import TowerCredentials
from prefect_nftower.tasks import launch_workflow, wait_for_workflow


@flow
def nightly({signature}) -> str:
    marker = os.environ.get("FLOW_RUN_ID_FILE")
    if marker:
        Path(marker).write_text(flow_run.id)
    {credentials}
    workflow_id = launch_workflow(credentials, "hello")
    return wait_for_workflow(credentials, workflow_id, poll_interval=0.2).id
"""


def write_nightly(folder: Path, *, credentials_parameter: bool = False) -> Path:
    """``nightly.py`` in ``folder``: credentials from the TOWER_* variables, or (with
    ``credentials_parameter``) a ``TowerCredentials`` flow parameter."""
    if credentials_parameter:
        text = _SCRIPT.format(signature="credentials: TowerCredentials", credentials="")
    else:
        text = _SCRIPT.format(
            signature="", credentials="credentials = TowerCredentials()  # the TOWER_* variables"
        )
    script = folder / "nightly.py"
    script.write_text(text)
    return script


def run_then_kill(
    script: Path,
    call: str,
    env: dict[str, str],
    ready: Callable[[], bool],
    *,
    every: float = 0.1,
    timeout: float = 120,
) -> UUID:
    """Run ``call`` (e.g. ``"nightly()"``) from ``script`` in a new process, SIGKILL it once
    ``ready()`` holds, and return its flow-run id."""
    marker = script.parent / "flow-run-id"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(script.parent)!r}); "
            f"from nightly import nightly; from prefect_nftower import TowerCredentials; {call}",
        ],
        env={**env, "FLOW_RUN_ID_FILE": str(marker)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert process.poll() is None, "the flow process ended before launching"
            assert time.monotonic() < deadline, "no launch"
            time.sleep(every)
    finally:
        process.kill()
        process.wait()
    return UUID(marker.read_text())


def mark_crashed(flow_run_id: UUID) -> dict[str, Any]:
    """Mark the flow run Crashed, as a worker reports a dead process; its stored parameters."""

    async def mark() -> dict[str, Any]:
        async with get_client() as client:
            await client.set_flow_run_state(flow_run_id, Crashed(), force=True)
            return dict((await client.read_flow_run(flow_run_id)).parameters)

    return asyncio.run(mark())


def retry_flow_run(
    flow_run_id: UUID, script: Path, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``prefect flow-run retry`` of the flow run, with ``script``'s flow as entry point."""
    cli = Path(sys.executable).with_name("prefect")
    return subprocess.run(
        [str(cli), "flow-run", "retry", str(flow_run_id), "--entrypoint", f"{script}:nightly"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def final_state(flow_run_id: UUID) -> Any:
    """The flow run's state as the server holds it now."""

    async def read() -> Any:
        async with get_client() as client:
            return (await client.read_flow_run(flow_run_id)).state

    return asyncio.run(read())
