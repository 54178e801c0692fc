"""``make demo-core``: the core example launches on a fresh emulator, waits, prints the run URL
and the final status."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "core" / "nightly_launch.py"


def test_core_demo_runs_end_to_end() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_")}
    env["NFTOWER_RATE_LIMIT_BACKEND"] = "memory://"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--date", "2024-06-01", "--timeout", "120"],
        capture_output=True, text=True, timeout=180, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "using a local Tower emulator" in out
    assert re.search(r"^Launched run rnaseq-nightly-2024-06-01 \(\w+\)$", out, re.MULTILINE)
    assert re.search(
        r"^Samplesheet: version 1 of rnaseq-samplesheet: http://127\.0\.0\.1:\d+/workspaces/\d+"
        r"/datasets/\w+/v/1/n/samplesheet-2024-06-01\.csv$",
        out,
        re.MULTILINE,
    )
    assert re.search(
        r"^Run page: http://127\.0\.0\.1:\d+/orgs/demo-org/workspaces/demo-workspace/watch/\w+$",
        out,
        re.MULTILINE,
    )
    assert out.rstrip().endswith("Final status: SUCCEEDED")


def test_core_demo_shows_the_failed_tasks_stderr() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_")}
    env["NFTOWER_RATE_LIMIT_BACKEND"] = "memory://"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--date", "2024-06-02", "--timeout", "120", "--fail"],
        capture_output=True, text=True, timeout=180, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout
    assert ".command.err (tail):" in result.stderr
    assert "exited with status 1" in result.stderr
