"""The ``nftower-emulator`` command and the pytest plugin."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from nftower.testing import TowerEmulator

BIN = Path(sys.executable).parent


def test_cli_serves_until_interrupted() -> None:
    command = [str(BIN / "nftower-emulator"), "--port", "0", "--token", "cli-token", "--speed", "5"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines: dict[str, str] = {}
        deadline = time.monotonic() + 20
        while "TOWER_WORKSPACE_ID" not in lines and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                lines[name] = value
        assert set(lines) == {"TOWER_API_ENDPOINT", "TOWER_ACCESS_TOKEN", "TOWER_WORKSPACE_ID"}
        assert lines["TOWER_ACCESS_TOKEN"] == "cli-token"
        headers = {"Authorization": "Bearer cli-token"}
        user = httpx.get(f"{lines['TOWER_API_ENDPOINT']}/user-info", headers=headers, timeout=5)
        assert user.json()["user"]["userName"] == "demo-user"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)


def test_cli_reports_a_busy_port() -> None:
    with TowerEmulator() as emu:
        port = emu.url.rsplit(":", 1)[1]
        result = subprocess.run(
            [str(BIN / "nftower-emulator"), "--port", port],
            capture_output=True,
            text=True,
            timeout=20,
        )
    assert result.returncode == 1
    assert "cannot listen" in result.stderr


def test_plugin_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, nftower.testing.pytest_plugin; "
        "print(sorted(m for m in ('starlette', 'uvicorn') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_fixture_yields_a_running_emulator(tower_emulator: TowerEmulator) -> None:
    assert tower_emulator.speed == 50
    headers = {"Authorization": f"Bearer {tower_emulator.token}"}
    assert httpx.get(f"{tower_emulator.url}/user-info", headers=headers).status_code == 200


@pytest.mark.tower_emulator(speed=7, rate_limit=None, token="marked")
def test_marker_configures_the_fixture(tower_emulator: TowerEmulator) -> None:
    assert (tower_emulator.speed, tower_emulator.token) == (7, "marked")


def test_tower_env_points_at_the_emulator(tower_env: TowerEmulator) -> None:
    assert os.environ["TOWER_API_ENDPOINT"] == tower_env.url
    assert os.environ["TOWER_ACCESS_TOKEN"] == tower_env.token
    assert os.environ["TOWER_WORKSPACE_ID"] == str(tower_env.workspace_id)


def test_emulator_is_restartable_and_idempotent() -> None:
    emu = TowerEmulator()
    with pytest.raises(RuntimeError):
        _ = emu.url
    emu.start()
    emu.start()
    url = emu.url
    emu.stop()
    emu.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/service-info", timeout=2)
