"""Process faults under Airflow: a worker SIGKILLed while it launches or waits, then the retry
started at once (``retry_delay=0``); a triggerer killed while a task is deferred, then the
trigger rebuilt from its serialized state. Each ends with one run, followed to its end.

The killed processes are real (``subprocess`` + ``SIGKILL``: no ``finally``, no ``on_kill``);
the retry runs here with the next try number, as Airflow would start it. They share the
connection and the host-wide store (``NFTOWER_RATE_LIMIT_BACKEND``, a SQLite file in
AIRFLOW_HOME), where the killed try left its lease and its launch in flight.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred
from airflow_harness import FakeTaskInstance, make_context
from nftower.testing import TowerEmulator
from nftower_airflow.operators import TowerLaunchOperator
from nftower_airflow.triggers import TowerRunTrigger

pytestmark = pytest.mark.timeout(180)

HERE = Path(__file__).resolve().parent
LAUNCH = r"^/workflow/launch$"

# Try 1 of a task waiting in the worker (the same task instance as the retry below).
WORKER = """
from airflow_harness import FakeTaskInstance, make_context
from nftower_airflow.operators import TowerLaunchOperator
operator = TowerLaunchOperator(task_id="killed", pipeline="hello",
    pipeline_params={"emulator_outcome": "hang"}, poll_interval=0.2)
operator.execute(make_context(FakeTaskInstance(task_id="killed", try_number=1)))
"""

# A triggerer running one trigger from the kwargs the metadata database holds (argv[1]).
TRIGGERER = """
import asyncio, json, sys
from nftower_airflow.triggers import TowerRunTrigger
async def main():
    async for event in TowerRunTrigger(**json.loads(sys.argv[1])).run():
        print(json.dumps(event.payload), flush=True)
asyncio.run(main())
"""


def _start(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _until(what: str, probe: Callable[[], Any], process: subprocess.Popen[str]) -> Any:
    deadline = time.monotonic() + 120
    while True:
        value = probe()
        if value:
            return value
        if process.poll() is not None:
            raise AssertionError(f"the process ended before {what}: {process.communicate()}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def _polled_since(emu: TowerEmulator, since: float) -> bool:
    """A status read of a run answered after ``since`` (someone is watching)."""
    return any(
        r.method == "GET" and r.path.startswith("/workflow") and r.status == 200 and r.time > since
        for r in emu.requests
    )


def _succeed_soon(emu: TowerEmulator, workflow_id: str, after: float = 1.0) -> threading.Timer:
    timer = threading.Timer(after, emu.set_status, (workflow_id, "SUCCEEDED"))
    timer.start()
    return timer


@pytest.mark.parametrize("phase", ["launching", "waiting"])
def test_a_worker_killed_then_retried_at_once_ends_with_one_run(
    tower_conn: TowerEmulator, caplog: pytest.LogCaptureFixture, phase: str
) -> None:
    emu = tower_conn
    caplog.set_level(logging.INFO, "nftower")
    if phase == "launching":
        emu.inject("delay", method="POST", path=LAUNCH, delay=3.0)  # Tower is slow to accept
    first = _start(WORKER)
    if phase == "launching":
        # the saved launch was read; the launch POST is with Tower (and in flight) just after
        _until("the launch", lambda: any(r.path.endswith("/launch") for r in emu.requests), first)
        time.sleep(1.0)
        assert emu.launches == []  # killed before Tower answered
    else:
        _until("the launch", lambda: emu.launches, first)
        launched_at = emu.launches[0].time
        _until("the wait", lambda: _polled_since(emu, launched_at), first)
    _kill(first)
    retry = TowerLaunchOperator(
        task_id="killed",
        pipeline="hello",
        pipeline_params={"emulator_outcome": "hang"},
        poll_interval=0.2,
    )
    context = make_context(FakeTaskInstance(task_id="killed", try_number=2))
    done: list[threading.Timer] = []

    def finish_when_launched() -> None:
        deadline = time.monotonic() + 60
        while not emu.launches and time.monotonic() < deadline:
            time.sleep(0.05)
        if emu.launches:
            done.append(_succeed_soon(emu, emu.launches[0].workflow_id or ""))

    watcher = threading.Thread(target=finish_when_launched, daemon=True)
    watcher.start()
    try:
        workflow_id = retry.execute(context)
    finally:
        watcher.join(60)
        for timer in done:
            timer.cancel()
    (launch,) = emu.launches
    assert workflow_id == launch.workflow_id
    assert emu.workflow(workflow_id)["status"] == "SUCCEEDED"
    assert "Reattaching to run " in caplog.text
    if phase == "launching":
        assert "has been in flight since" in caplog.text


def test_the_triggerer_killed_while_deferred_the_trigger_resumes_from_its_serialized_state(
    tower_conn: TowerEmulator,
) -> None:
    emu = tower_conn
    operator = TowerLaunchOperator(
        task_id="deferred",
        pipeline="hello",
        pipeline_params={"emulator_outcome": "hang"},
        deferrable=True,
        poll_interval=0.2,
        cancel_on_kill=True,
    )
    context = make_context(FakeTaskInstance(task_id="deferred"))
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    trigger = deferred.value.trigger
    assert isinstance(trigger, TowerRunTrigger)
    classpath, kwargs = trigger.serialize()
    stored = json.dumps(kwargs)  # what the metadata database keeps for the trigger
    (launch,) = emu.launches
    started = time.time()
    first = _start(TRIGGERER, stored)
    _until("the first triggerer's poll", lambda: _polled_since(emu, started), first)
    _kill(first)
    assert emu.workflow(launch.workflow_id or "")["status"] == "RUNNING"  # not cancelled
    assert not [r for r in emu.requests if r.path.endswith("/cancel")]

    rebuilt = TowerRunTrigger(**json.loads(stored))  # the next triggerer picks it up
    assert rebuilt.serialize() == (classpath, kwargs)

    async def events() -> list[dict[str, Any]]:
        return [event.payload async for event in rebuilt.run()]

    timer = _succeed_soon(emu, launch.workflow_id or "")
    try:
        (event,) = asyncio.run(events())
    finally:
        timer.cancel()
    assert (event["status"], event["workflow_status"]) == ("success", "SUCCEEDED")
    assert operator.execute_complete(context, event) == launch.workflow_id
    assert len(emu.launches) == 1
