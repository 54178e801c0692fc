"""Overhead: client CPU per call against bare httpx, and import time of the Airflow modules."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ._emulator import EmulatorProcess

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_PYTHON = ROOT / ".venvs" / "airflow" / "bin" / "python"
REPEATS = 5
#: Calls before the measured ones: the client's cost per call settles after about 150 calls
#: (bare httpx's after about 50), so fewer would charge the client for its warm-up.
WARMUP = 200
#: Fresh processes per variant; the fastest one estimates the variant's own cost.
ROUNDS = 7

OURS = ("nftower_airflow.operators", "nftower_airflow.sensors")
DBT = ("airflow.providers.dbt.cloud.operators.dbt", "airflow.providers.dbt.cloud.sensors.dbt")

_IMPORT_TIMER = """
import sys, time
import airflow.sdk
started = time.perf_counter()
for name in sys.argv[1:]:
    __import__(name)
print(time.perf_counter() - started)
"""


def _last_line(command: list[str], env: dict[str, str]) -> str:
    """The last line a bounded child process prints."""
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=300, env=env
    ).stdout
    return out.strip().splitlines()[-1]


def _cpu_once(emu: EmulatorProcess, kind: str, backend: str, calls: int, cache: str) -> float:
    settings = {
        "kind": kind,
        "url": emu.url,
        "token": emu.token,
        "backend": backend,
        "calls": calls,
        "warmup": WARMUP,
    }
    # No backend named: the default, in a cache directory of the benchmark's own.
    env = {k: v for k, v in os.environ.items() if k != "NFTOWER_RATE_LIMIT_BACKEND"}
    env["XDG_CACHE_HOME"] = cache
    command = [sys.executable, "-m", "bench._overhead_worker", json.dumps(settings)]
    return float(json.loads(_last_line(command, env))["cpu_us_per_call"])


def cpu_rows(calls: int = 400, rounds: int = ROUNDS) -> list[dict[str, Any]]:
    """Fresh processes, interleaved so load changes hit every variant alike; the minimum of
    ``rounds`` runs estimates each variant's own cost."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess(rate_limit=None) as emu:
        sqlite = f"sqlite://{Path(tmp) / 'ratelimit.sqlite3'}"
        for mode, bare, ours in (
            ("sync", "httpx", "TowerClient"),
            ("async", "async-httpx", "AsyncTowerClient"),
        ):
            variants = {
                f"bare httpx ({mode})": (bare, ""),
                f"{ours}, memory://": (ours, "memory://"),
                f"{ours}, default (file://, host-wide)": (ours, ""),
                f"{ours}, sqlite:///path (host-wide)": (ours, sqlite),
                f"{ours}, reference: one bare SQLite write": (
                    ours,
                    f"reference:{Path(tmp) / f'reference-{mode}.sqlite3'}",
                ),
            }
            samples: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(rounds):
                for name, (kind, backend) in variants.items():
                    samples[name].append(_cpu_once(emu, kind, backend, calls, tmp))
            base = min(samples[f"bare httpx ({mode})"])
            for name, values in samples.items():
                rows.append(
                    {
                        "what": name,
                        "cpu_us_per_call": min(values),
                        "median": statistics.median(values),
                        "ratio": round(min(values) / base, 2),
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
    return rows


def _import_seconds(python: Path, modules: tuple[str, ...]) -> float:
    env = dict(os.environ, AIRFLOW_HOME=tempfile.mkdtemp(prefix="nftower-bench-airflow-"))
    samples = []
    for _ in range(REPEATS):
        samples.append(float(_last_line([str(python), "-c", _IMPORT_TIMER, *modules], env)))
    return statistics.median(samples)


def import_rows(dbt_python: str | None) -> tuple[list[dict[str, Any]], list[str]]:
    """Median import time of operator + sensor modules, after ``import airflow.sdk``."""
    notes: list[str] = []
    rows: list[dict[str, Any]] = []
    if not AIRFLOW_PYTHON.exists():
        return rows, ["import time: skipped, no .venvs/airflow (make envs)"]
    check = subprocess.run(
        [str(AIRFLOW_PYTHON), "-c", "import nftower_airflow.operators, nftower_airflow.sensors"],
        capture_output=True,
    )
    if check.returncode != 0:
        return rows, ["import time: skipped, nftower_airflow.operators/sensors do not import"]
    ours = _import_seconds(AIRFLOW_PYTHON, OURS)
    rows.append({"what": "nftower_airflow operators + sensors", "import_ms": round(ours * 1e3, 1)})
    if dbt_python:
        theirs = _import_seconds(Path(dbt_python), DBT)
        rows.append(
            {"what": "dbt Cloud provider operator + sensor", "import_ms": round(theirs * 1e3, 1)}
        )
        rows[0]["ratio"] = round(ours / theirs, 2)
    else:
        notes.append(
            "dbt Cloud row skipped: pass --dbt-python, the interpreter of an environment with "
            "apache-airflow==3.3.2 and apache-airflow-providers-dbt-cloud (it cannot join the "
            "shared dev group: the lock would install Airflow into the core and Prefect envs)"
        )
    return rows, notes


def run(calls: int = 400, dbt_python: str | None = None) -> dict[str, Any]:
    rows = cpu_rows(calls)
    imports, notes = import_rows(dbt_python)
    method = {"calls": calls, "warmup": WARMUP, "rounds": ROUNDS, "imports": REPEATS}
    return {"cpu": rows, "imports": imports, "notes": notes, "method": method}


def carry_over_dbt(previous: dict[str, Any], current: dict[str, Any]) -> None:
    """Keep an earlier dbt Cloud measurement when this run could not take one."""
    rows = current.get("imports", [])
    if not rows or any(r["what"].startswith("dbt") for r in rows):
        return
    earlier = [r for r in previous.get("imports", []) if r["what"].startswith("dbt")]
    if earlier:
        theirs = dict(earlier[0], what=earlier[0]["what"].removesuffix(" (earlier run)"))
        theirs["what"] += " (earlier run)"
        rows.append(theirs)
        rows[0]["ratio"] = round(rows[0]["import_ms"] / theirs["import_ms"], 2)
        current["notes"] = [n for n in current.get("notes", []) if "dbt" not in n]
