"""Worker (Prefect environment): one flow run maps ``launch_workflow`` over N run names.

``python -m bench._fanout_prefect '<settings json>'`` prints one JSON line: the wall time of the
mapped launches, how many returned a workflow id and how many raised, and the *floor*: the
wall time of the same ``.map`` of an empty task in a second flow run, which is what Prefect
itself costs before any call to Tower (measured after the launches, so warm: a low floor).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from typing import Any


def main(settings: dict[str, Any]) -> dict[str, Any]:
    home = tempfile.mkdtemp(prefix="nftower-bench-prefect-")
    os.environ.setdefault("PREFECT_HOME", home)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect import flow, task, unmapped
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect.testing.utilities import prefect_test_harness
    from prefect_nftower import TowerCredentials
    from prefect_nftower.tasks import launch_workflow

    launches = int(settings["launches"])
    credentials = TowerCredentials(
        access_token=settings["token"],
        api_url=settings["url"],
        workspace=settings["workspace"],
        rate_limit_backend=settings["backend"],
    )

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=launches))
    def fan_out() -> dict[str, Any]:
        names = [f"fanout-prefect-{i:03d}" for i in range(launches)]
        started = time.monotonic()
        futures = launch_workflow.map(unmapped(credentials), unmapped("hello"), run_name=names)
        ids, errors = [], []
        for future in futures:
            try:
                ids.append(future.result())
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")
        return {"seconds": time.monotonic() - started, "ids": ids, "errors": errors}

    @task
    def nothing(run_name: str) -> str:
        return run_name

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=launches))
    def floor() -> float:
        names = [f"fanout-prefect-{i:03d}" for i in range(launches)]
        started = time.monotonic()
        for future in nothing.map(names):
            future.result()
        return time.monotonic() - started

    with prefect_test_harness(server_startup_timeout=120):
        outcome = fan_out()
        floor_seconds = floor()
    return {
        "seconds": round(outcome["seconds"], 2),
        "floor_seconds": round(floor_seconds, 2),
        "launched": len(set(outcome["ids"])),
        "errors": outcome["errors"][:5],
        "error_count": len(outcome["errors"]),
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))), flush=True)
