"""The watching process of the monitor benchmark.

``python -m bench._monitor_worker '<json settings>'``: watches every run id in the settings
(``mode`` "monitor" = one shared WorkflowMonitor, "per-run" = one describe per run per poll),
prints ``READY`` once every run has been seen, records when each run is seen finished, stops
on a line on stdin, then prints one JSON line (detection times, RSS, counters).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


class Seen:
    """Runs seen at least once; ``everything`` is set once all of them were."""

    def __init__(self, total: int) -> None:
        self.runs: set[str] = set()
        self.total = total
        self.everything = asyncio.Event()

    def add(self, run: str) -> None:
        self.runs.add(run)
        if len(self.runs) >= self.total:
            self.everything.set()


async def _watch_with_monitor(
    settings: dict[str, Any], seen: Seen, done: dict[str, float]
) -> tuple[list[asyncio.Task[None]], Any]:
    from nftower import TowerConfig
    from nftower.monitor import WorkflowMonitor

    config = TowerConfig(
        api_url=settings["url"], token=settings["token"], workspace=settings["workspace"]
    )
    monitor = WorkflowMonitor.shared(config, poll_interval=settings["poll_interval"])

    async def follow(run: str) -> None:
        async for workflow in monitor.watch(run):
            seen.add(run)
            if workflow.status is not None and workflow.status.is_terminal:
                done[run] = time.time()

    tasks = [asyncio.create_task(follow(run)) for run in settings["runs"]]
    return tasks, monitor


async def _watch_per_run(
    settings: dict[str, Any], seen: Seen, done: dict[str, float]
) -> tuple[list[asyncio.Task[None]], Any]:
    from nftower import AsyncTowerClient

    client = AsyncTowerClient(
        settings["url"], settings["token"], settings["workspace"], max_retries=10
    )

    async def follow(run: str) -> None:
        while True:
            workflow = await client.get_workflow(run)
            seen.add(run)
            if workflow.status is not None and workflow.status.is_terminal:
                done[run] = time.time()
                return
            await asyncio.sleep(settings["poll_interval"])

    tasks = [asyncio.create_task(follow(run)) for run in settings["runs"]]
    return tasks, client


async def main(settings: dict[str, Any]) -> dict[str, Any]:
    import psutil

    seen = Seen(len(settings["runs"]))
    done: dict[str, float] = {}
    watch = _watch_with_monitor if settings["mode"] == "monitor" else _watch_per_run
    tasks, owner = await watch(settings, seen, done)
    await seen.everything.wait()
    print("READY", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    rss = psutil.Process().memory_info().rss
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    stats: dict[str, Any] = {}
    if settings["mode"] == "monitor":
        stats = owner.stats().__dict__
        owner.close()
    else:
        await owner.aclose()
    return {"done": done, "rss_mb": round(rss / 2**20, 1), "stats": stats}


if __name__ == "__main__":
    result = asyncio.run(main(json.loads(sys.argv[1])))
    print(json.dumps(result), flush=True)
