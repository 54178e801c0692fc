"""Run the nightly Prefect flow once against a local Tower emulator, offline.

    .venvs/prefect/bin/python examples/prefect/run_demo.py     (or: make demo-prefect)

Starts the emulator on 127.0.0.1, points the TOWER_* variables at it, runs `nightly` on a
throwaway Prefect home (ephemeral local server, nothing written to ~/.prefect), and prints
the Tower run URL and the final states.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# A private Prefect home, set before Prefect is imported.
_HOME = tempfile.mkdtemp(prefix="nftower-prefect-demo-")
os.environ["PREFECT_HOME"] = _HOME
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("NFTOWER_RATE_LIMIT_BACKEND", "memory://")

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    from nftower import TowerClient
    from nftower.testing import TowerEmulator
    from nightly_flow import nightly

    with TowerEmulator(speed=20.0) as emulator:
        os.environ["TOWER_API_ENDPOINT"] = emulator.url
        os.environ["TOWER_ACCESS_TOKEN"] = emulator.token
        os.environ["TOWER_WORKSPACE_ID"] = str(emulator.workspace_id)
        print(f"Tower emulator at {emulator.url} (workspace {emulator.workspace_id})")

        state = nightly(run_date="2024-06-01", poll_interval=0.5, return_state=True)
        workflow = state.result(raise_on_failure=False)
        print(f"Prefect flow run: {state.name}")
        if state.is_completed():
            with TowerClient() as client:
                print(f"Tower run:        {workflow.run_name} ({workflow.id})")
                print(f"Run page:         {client.run_url(workflow)}")
            print(f"Final status:     {workflow.status}")
        else:
            print(f"Flow run failed:  {workflow}")
        print(f"Launches seen by the emulator: {len(emulator.launches)}")
    return 0 if state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(main())
