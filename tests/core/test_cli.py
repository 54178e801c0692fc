"""The ``nftower`` command line, run as a subprocess against the emulator."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from nftower.testing import TowerEmulator

NFTOWER = str(Path(sys.executable).parent / "nftower")
FAST = ["--poll-interval", "0.1", "--timeout", "60"]


def _env(emulator: TowerEmulator, **changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_")}
    env.update(
        TOWER_API_ENDPOINT=emulator.url,
        TOWER_ACCESS_TOKEN=emulator.token,
        TOWER_WORKSPACE_ID=str(emulator.workspace_id),
        NFTOWER_RATE_LIMIT_BACKEND="memory://",
    )
    env.update(changes)
    return env


def nftower(emulator: TowerEmulator, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NFTOWER, *args], env=_env(emulator, **env), capture_output=True, text=True, timeout=90
    )


@pytest.fixture
def hanging(tmp_path: Path) -> str:
    """A params file whose run never ends by itself."""
    path = tmp_path / "hang.json"
    path.write_text(json.dumps({"emulator_outcome": "hang"}))
    return str(path)


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_launch_and_wait_exits_0_with_one_progress_line_per_change(
    tower_emulator: TowerEmulator,
) -> None:
    result = nftower(tower_emulator, "launch", "rnaseq", "--wait", *FAST)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("SUCCEEDED ")
    progress = [line for line in result.stderr.splitlines() if ": " in line and "tasks" in line]
    assert len(progress) == len(set(progress)) >= 2  # no line repeated from one poll to the next
    assert progress[-1].endswith("SUCCEEDED, tasks 6 succeeded, 0 running, 0 failed of 6")
    assert "/orgs/demo-org/workspaces/demo-workspace/watch/" in result.stderr


def test_a_failed_run_exits_1_with_its_failure_report(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("emulator_outcome: fail\noutdir: s3://bucket/out\n")
    result = nftower(
        tower_emulator, "launch", "rnaseq", "--params", str(params), "--wait", "--json", *FAST
    )
    assert result.returncode == 1
    run = json.loads(result.stdout)  # stdout stays JSON; progress and report go to stderr
    assert run["status"] == "FAILED"
    assert run["params"]["outdir"] == "s3://bucket/out"
    assert run["runUrl"].endswith(f"/watch/{run['id']}")
    assert "MULTIQC" in result.stderr  # the failed task, from the failure report


def test_list_view_cancel_and_wait_on_a_cancelled_run(
    tower_emulator: TowerEmulator, hanging: str
) -> None:
    launch = ["launch", "rnaseq", "--json", "--name", "cli-hang", "--params", hanging]
    launched = _json(nftower(tower_emulator, *launch))
    workflow_id = launched["id"]
    running = _json(nftower(tower_emulator, "runs", "list", "--status", "RUNNING", "--json"))
    submitted = _json(nftower(tower_emulator, "runs", "list", "--status", "submitted", "--json"))
    assert workflow_id in {run["id"] for run in running + submitted}
    table = nftower(tower_emulator, "runs", "list", "--search", "cli-hang")
    assert table.stdout.splitlines()[0].split() == ["ID", "STATUS", "RUN", "NAME", "PIPELINE",
                                                     "SUBMITTED"]  # fmt: skip
    assert workflow_id in table.stdout
    cancelled = nftower(tower_emulator, "cancel", workflow_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "CANCELLED" in cancelled.stdout
    view = _json(nftower(tower_emulator, "runs", "view", workflow_id, "--json"))
    assert view["status"] == "CANCELLED"
    assert view["runUrl"] == launched["runUrl"]
    assert view["tasks"]
    assert {"name", "status"} <= set(view["tasks"][0])
    text = nftower(tower_emulator, "runs", "view", workflow_id)
    assert "Status     CANCELLED" in text.stdout
    waited = nftower(tower_emulator, "wait", workflow_id, *FAST)
    assert waited.returncode == 1
    assert waited.stdout.startswith("CANCELLED ")


def test_wait_gives_up_after_its_timeout(tower_emulator: TowerEmulator, hanging: str) -> None:
    launched = _json(
        nftower(tower_emulator, "launch", "rnaseq", "--json", "--params", hanging)
    )  # fmt: skip
    result = nftower(tower_emulator, "wait", launched["id"], "--poll-interval", "0.1",
                     "--timeout", "0.5")  # fmt: skip
    assert result.returncode == 1
    assert f"Run {launched['id']} did not finish within 0.5 s" in result.stderr


def test_api_errors_name_status_operation_message_and_error_id_never_the_token(
    tower_emulator: TowerEmulator,
) -> None:
    result = nftower(tower_emulator, "runs", "view", "0000000000")
    assert result.returncode == 1
    line = result.stderr.strip()
    assert line.startswith(
        "Error: 403 GET /workflow/{workflowId}: Run '0000000000' is unknown or not visible in "
        f"workspace {tower_emulator.workspace_id}"
    )
    assert line.endswith("Server said: Operation not allowed")
    assert "Traceback" not in result.stderr
    tower_emulator.inject("status", method="GET", path="/workflow", status=500, times=3)
    internal = nftower(tower_emulator, "runs", "list").stderr.strip().splitlines()[-1]
    assert internal.startswith("Error: 500 GET /workflow: Oops... Unable to process request")
    assert re.search(r"\(Error ID: \w{22}\)", internal), internal
    bad = nftower(tower_emulator, "runs", "list", TOWER_ACCESS_TOKEN="not-the-real-token")
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error: 403 ")
    assert "not-the-real-token" not in bad.stderr + bad.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["runs", "list"], {"TOWER_ACCESS_TOKEN": ""}, "TOWER_ACCESS_TOKEN"),
        (["runs", "list", "-w", "not a workspace"], {}, "workspace must be"),
        (["runs", "list", "--status", "sideways"], {}, "Invalid value for '--status'"),
        (["launch", "rnaseq", "--params", "/nonexistent.json"], {}, "does not exist"),
        (["launch"], {}, "Missing argument 'PIPELINE'"),
        (["frobnicate"], {}, "No such command"),
    ],
)
def test_usage_and_configuration_errors_exit_2_before_any_call(
    tower_emulator: TowerEmulator, args: list[str], env: dict[str, str], message: str
) -> None:
    tower_emulator.clear_requests()
    result = nftower(tower_emulator, *args, **env)
    assert result.returncode == 2
    assert message in result.stderr
    assert tower_emulator.requests == []


def test_wait_on_a_terminal_draws_a_live_display(tower_emulator: TowerEmulator) -> None:
    launched = _json(nftower(tower_emulator, "launch", "rnaseq", "--json"))
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [NFTOWER, "wait", launched["id"], *FAST],
        env=_env(tower_emulator, COLUMNS="100"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    screen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        elif process.poll() is not None:
            break
    assert process.wait(timeout=30) == 0
    os.close(leader)
    text = screen.decode(errors="replace")
    assert "\x1b[" in text  # terminal control sequences: a live display, not plain lines
    assert "6/6 tasks" in text
    assert "━" in text  # the progress bar


def test_emulator_command_serves_like_nftower_emulator() -> None:
    help_text = subprocess.run(
        [NFTOWER, "emulator", "--help"], capture_output=True, text=True, timeout=30
    )
    assert help_text.returncode == 0
    assert help_text.stdout.startswith("usage: nftower emulator")
    assert "--speed" in help_text.stdout
    process = subprocess.Popen(
        [NFTOWER, "emulator", "--port", "0", "--token", "cli-emulator-token-1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        exports: dict[str, str] = {}
        while "TOWER_WORKSPACE_ID" not in exports:
            line = process.stdout.readline()
            assert line, "the emulator stopped before printing its settings"
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                exports[name] = value
        assert exports["TOWER_ACCESS_TOKEN"] == "cli-emulator-token-1"
        env = {**os.environ, **exports, "NFTOWER_RATE_LIMIT_BACKEND": "memory://"}
        listed = subprocess.run(
            [NFTOWER, "runs", "list", "--json"], env=env, capture_output=True, text=True,
            timeout=30,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == []
        process.send_signal(2)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)


def test_the_command_loads_the_client_only_when_a_command_runs() -> None:
    code = "import sys, nftower.cli._commands; print('httpx' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"
