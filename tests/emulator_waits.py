"""Waits on what the emulator has seen, for tests that act at one moment of a run's life (a
fixed sleep is too short on a loaded machine and too long on an idle one)."""

from __future__ import annotations

import time
from typing import Any

from nftower.testing import TowerEmulator


def reported(answer: Any, workflow_id: str) -> list[str]:
    """The statuses of run ``workflow_id`` in a run answer: a describe (``workflow``) or a
    list (``workflows``)."""
    if not isinstance(answer, dict):
        return []
    items = [answer.get("workflow")]
    items += [item.get("workflow") for item in answer.get("workflows") or [] if item]
    return [
        str(run.get("status"))
        for run in items
        if isinstance(run, dict) and run.get("id") == workflow_id
    ]


def wait_until_running_and_watched(
    emu: TowerEmulator, workflow_id: str, *, since: float = 0.0, timeout: float = 60
) -> None:
    """Return once a status read that arrived after ``since`` (a ``time.time()``) has reported
    run ``workflow_id`` RUNNING to the client: the wait being tested has seen it running."""
    deadline = time.monotonic() + timeout
    while not _seen_running(emu, workflow_id, since):
        assert time.monotonic() < deadline, f"no status read reported {workflow_id} RUNNING"
        time.sleep(0.05)


def _seen_running(emu: TowerEmulator, workflow_id: str, since: float) -> bool:
    return any(
        r.method == "GET"
        and r.status == 200
        and r.time > since
        and "RUNNING" in reported(r.response_json, workflow_id)
        for r in emu.requests
    )
