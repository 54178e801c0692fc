"""A race under Airflow: a worker SIGKILLed while its launch is in flight (Tower slow to
answer), then the retry started at once (``retry_delay=0``): one run, followed to its end.

The killed process is real (``subprocess`` + ``SIGKILL``: no ``finally``, no ``on_kill``); the
retry runs here with the next try number, as Airflow would start it. They share the connection
and the host-wide store (``NFTOWER_RATE_LIMIT_BACKEND``, a SQLite file in AIRFLOW_HOME), where
the killed try left its lease and its launch in flight. A worker killed while it waits, and a
triggerer killed while a task is deferred, run under a real Airflow in
tests/e2e/test_airflow_process_faults.py.
"""

from __future__ import annotations

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
from airflow_harness import FakeTaskInstance, make_context
from nftower.testing import TowerEmulator
from nftower_airflow.operators import TowerLaunchOperator

pytestmark = pytest.mark.timeout(180)

HERE = Path(__file__).resolve().parent
LAUNCH = r"^/workflow/launch$"

# Try 1 of a task in the worker (the same task instance as the retry below).
WORKER = """
from airflow_harness import FakeTaskInstance, make_context
from nftower_airflow.operators import TowerLaunchOperator
operator = TowerLaunchOperator(task_id="killed", pipeline="hello",
    pipeline_params={"emulator_outcome": "hang"}, poll_interval=0.2)
operator.execute(make_context(FakeTaskInstance(task_id="killed", try_number=1)))
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


def _succeed_soon(emu: TowerEmulator, workflow_id: str, after: float = 1.0) -> threading.Timer:
    timer = threading.Timer(after, emu.set_status, (workflow_id, "SUCCEEDED"))
    timer.start()
    return timer


def test_a_worker_killed_while_its_launch_is_in_flight_then_retried_at_once_makes_one_run(
    tower_conn: TowerEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu = tower_conn
    caplog.set_level(logging.INFO, "nftower")
    emu.inject("delay", method="POST", path=LAUNCH, delay=3.0)  # Tower is slow to accept
    first = _start(WORKER)
    # the delay fault is used up once the launch POST is with Tower (and in flight)
    _until("the launch POST", lambda: not emu.faults, first)
    assert emu.launches == []  # killed before Tower answered
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
    assert "has been in flight since" in caplog.text
