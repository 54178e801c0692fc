"""Launches at the limit cost at most 3 calls each: the workspace and pipeline look-ups are
shared by the host's clients for a minute (counted at the emulator)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nftower import NotFoundError, TowerClient, TowerConfigError
from nftower.testing import TowerEmulator

LAUNCH_ONE = """
import json, sys
from nftower import TowerClient
url, token, backend, workspace, run_name = sys.argv[1:6]
with TowerClient(url, token, rate_limit_backend=backend, workspace=workspace) as client:
    print(json.dumps(client.ensure_run("hello", run_name=run_name).action))
"""


def workspace_name(emu: TowerEmulator, backend: str) -> str:
    with TowerClient(
        emu.url, emu.token, workspace=emu.workspace_id, rate_limit_backend=backend
    ) as client:
        [name] = [
            w.full_name for w in client.list_workspaces() if w.workspace_id == emu.workspace_id
        ]
    assert name
    return name


def launch_calls(emu: TowerEmulator, backend: str, workspace: str, run_name: str) -> list[str]:
    """The calls the emulator saw for one ``ensure_run`` by a new client."""
    before = len(emu.requests)
    with TowerClient(emu.url, emu.token, rate_limit_backend=backend, workspace=workspace) as c:
        assert c.ensure_run("hello", run_name=run_name).action == "launched"
    return [f"{r.method} {r.path}" for r in emu.requests[before:]]


def test_launches_after_the_first_cost_three_calls_each(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    emu, backend = tower_emulator, f"file://{tmp_path}/rl.bin"
    name = workspace_name(emu, backend)
    first = launch_calls(emu, backend, name, "fan-0")
    assert len(first) == 6  # user-info, workspaces, the runs search, pipelines, launch, POST
    others = [launch_calls(emu, backend, name, f"fan-{i}") for i in range(1, 11)]
    assert {len(calls) for calls in others} == {3}
    assert others[0][0] == "GET /workflow"  # the search for the run name, never remembered
    assert others[0][2] == "POST /workflow/launch"
    assert len(emu.launches) == 11


def test_other_processes_of_the_host_reuse_the_lookups(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    emu, backend = tower_emulator, f"file://{tmp_path}/rl.bin"
    name = workspace_name(emu, backend)
    launch_calls(emu, backend, name, "warm")
    before = len(emu.requests)
    for index in range(2):
        out = subprocess.run(
            [sys.executable, "-c", LAUNCH_ONE, emu.url, emu.token, backend, name, f"p{index}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        assert json.loads(out) == "launched"
    assert len(emu.requests) - before == 2 * 3


def test_an_ambiguous_pipeline_name_is_asked_again_each_time(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    emu, backend = tower_emulator, f"file://{tmp_path}/rl.bin"
    emu.add_pipeline("twin", "https://github.com/nextflow-io/hello")
    emu.add_pipeline("twin", "https://github.com/nextflow-io/hello")
    with TowerClient(
        emu.url, emu.token, rate_limit_backend=backend, workspace=emu.workspace_id
    ) as client:
        for run_name in ("a", "b"):
            with pytest.raises(TowerConfigError, match="2 launchpad pipelines are named 'twin'"):
                client.ensure_run("twin", run_name=run_name)
    assert len([r for r in emu.requests if r.path == "/pipelines"]) == 2
    assert emu.launches == []


def test_a_pipeline_added_after_a_miss_is_found(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    emu, backend = tower_emulator, f"file://{tmp_path}/rl.bin"
    with TowerClient(
        emu.url, emu.token, rate_limit_backend=backend, workspace=emu.workspace_id
    ) as client:
        with pytest.raises(NotFoundError):
            client.get_pipeline("late")
        emu.add_pipeline("late", "https://github.com/nextflow-io/hello")
        assert client.get_pipeline("late").name == "late"


def test_lookups_are_kept_per_token_and_never_hold_it(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    emu, backend = tower_emulator, f"file://{tmp_path}/rl.bin"
    other = "another-token-0123456789abcdef"
    emu.add_token(other)
    name = workspace_name(emu, backend)
    launch_calls(emu, backend, name, "mine")
    before = len(emu.requests)
    with TowerClient(emu.url, other, rate_limit_backend=backend, workspace=name) as client:
        client.ensure_run("hello", run_name="theirs")
    assert len(emu.requests) - before == 6  # nothing of the first token's look-ups is reused
    for file in tmp_path.iterdir():
        data = file.read_bytes()
        assert emu.token.encode() not in data
        assert other.encode() not in data


def test_a_ttl_of_zero_turns_the_sharing_off(
    tower_emulator: TowerEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NFTOWER_LOOKUP_TTL", "0")
    emu, backend = tower_emulator, f"file://{tmp_path}/rl.bin"
    name = workspace_name(emu, backend)
    launch_calls(emu, backend, name, "x0")
    assert len(launch_calls(emu, backend, name, "x1")) == 6


def test_launches_started_together_resolve_the_names_once(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    # A fan-out: every launch starts before any look-up is remembered; one caller asks, the
    # others wait for its answer.
    emu, backend = tower_emulator, f"file://{tmp_path}/rl.bin"
    name = workspace_name(emu, backend)
    before = len(emu.requests)
    start = threading.Barrier(10)

    def launch(index: int) -> str:
        with TowerClient(emu.url, emu.token, rate_limit_backend=backend, workspace=name) as c:
            start.wait()
            return c.ensure_run("hello", run_name=f"together-{index}").action

    with ThreadPoolExecutor(10) as pool:
        assert list(pool.map(launch, range(10))) == ["launched"] * 10
    paths = [r.path for r in emu.requests[before:]]
    assert paths.count("/user-info") == 1
    assert paths.count("/pipelines") == 1
    assert len(paths) == 3 + 10 * 3
