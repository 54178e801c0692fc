"""``make demo-airflow``: examples/airflow/run_demo.sh runs the nightly DAG against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]


def test_run_demo_prints_the_run_url_and_success() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TOWER_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["bash", str(ROOT / "examples" / "airflow" / "run_demo.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "/watch/" in output
    assert "Task rnaseq: success" in output
    assert "Task publish: success" in output
    assert ": success" in output.splitlines()[-1]
