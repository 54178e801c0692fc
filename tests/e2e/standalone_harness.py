"""A real Airflow (``airflow standalone``: scheduler, dag-processor, triggerer, API server) on a
private AIRFLOW_HOME against a Tower emulator, for the end-to-end tests; started once for the
whole suite (tests/e2e/conftest.py) and torn down with its whole process group.

Its DAG folder holds the nightly example and every DAG file of tests/e2e/dags.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "airflow" / "nightly_launch.py"
DAGS = Path(__file__).resolve().parent / "dags"
T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def until(
    what: str, probe: Callable[[], T | None], timeout: float, log: Path, every: float = 2.0
) -> T:
    """Call ``probe`` every ``every`` seconds until it returns something other than None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = probe()
        except httpx.HTTPError:
            value = None
        if value is not None:
            return value
        time.sleep(every)
    tail = log.read_text(errors="replace")[-6000:] if log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n--- airflow output ---\n{tail}")


def get(api: httpx.Client, path: str) -> Any:
    """GET an Airflow REST API path; its JSON."""
    response = api.get(path)
    response.raise_for_status()
    return response.json()


@dataclass
class Standalone:
    """The running Airflow: its REST API client, home, output log and the emulator, plus the
    environment and process group of its components (to start one again, or kill one)."""

    api: httpx.Client
    home: Path
    log: Path
    emulator: Any
    env: dict[str, str] = field(default_factory=dict)
    pgid: int = 0
    #: components started again by a test (stopped with the rest at the end)
    restarted: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def restart(self, component: str) -> subprocess.Popen[bytes]:
        """Start another ``airflow <component>`` (e.g. ``triggerer``) with the same settings."""
        with self.log.open("a") as out:
            proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "airflow"), component],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.restarted.append(proc)
        return proc


@contextlib.contextmanager
def running_standalone() -> Iterator[Standalone]:
    """Start ``airflow standalone`` with a fresh emulator; yield once the API answers."""
    from nftower.testing import TowerEmulator

    home = Path(tempfile.mkdtemp(prefix="nftower-e2e-airflow-"))
    (home / "dags").mkdir()
    for dag_file in [EXAMPLE, *sorted(DAGS.glob("*.py"))]:
        shutil.copy(dag_file, home / "dags" / dag_file.name)
    port = _free_port()
    log = home / "standalone.log"
    with TowerEmulator(speed=1.0) as emulator:
        conn = {
            "conn_type": "tower",
            "host": emulator.url,
            "password": emulator.token,
            "extra": {"workspace": str(emulator.workspace_id)},
        }
        bin_dir = Path(sys.executable).parent
        # nothing of another Airflow setup (e.g. tests/airflow's, in the same pytest run) leaks in
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TOWER_"))}
        env = {
            **inherited,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # the connection list's Test button (tests/e2e/test_browser_airflow.py)
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
            # a triggerer that died gives up its triggers within seconds, not half a minute
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "8",
            "AIRFLOW_CONN_TOWER_DEFAULT": json.dumps(conn),
            "NFTOWER_DEMO_POLL_INTERVAL": "1",
            "NFTOWER_RATE_LIMIT_BACKEND": f"sqlite:///{home / 'ratelimit.db'}",
        }
        with log.open("w") as out:
            proc = subprocess.Popen(
                [str(bin_dir / "airflow"), "standalone"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v2", timeout=30)
        started = Standalone(api, home, log, emulator, env=env, pgid=proc.pid)
        try:
            until(
                "the API server",
                lambda: api.get("/monitor/health").status_code == 200 or None,
                240,
                log,
            )
            yield started
        finally:
            api.close()
            for again in started.restarted:
                _stop(again)
            _stop(proc)
            shutil.rmtree(home, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group, then SIGKILL whatever is left of it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _group_alive(proc.pid):
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def group_members(pgid: int, *words: str) -> list[int]:
    """The processes of process group ``pgid`` whose command line holds every one of ``words``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ProcessLookupError):
            continue
        text = " ".join(a.decode(errors="replace") for a in args)
        if all(word in text for word in words):
            found.append(int(entry.name))
    return found


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
