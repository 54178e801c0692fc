"""Fan-out at the limit: N launches at once through Airflow dynamic task mapping
(``airflow dags test``), a Prefect ``.map`` and the core's ``ensure_run`` in N threads, with an
``org/workspace`` workspace name.

Each orchestrator runs in its own environment (``.venvs/airflow``, ``.venvs/prefect``) against
one emulator process; every figure is taken at the emulator: the calls of the run's token, its
429s, the launches (each run name launched once), the most calls in any one second. The ideal
wall time is ``calls / 20`` s; *ratio* is the wall time over it (goal <= 1.1). The orchestrator
workers also time the same fan-out of an empty task (the *floor*: what the orchestrator costs
before any call to Tower). The Airflow figure is the whole ``airflow dags test`` command, so its
*start-up* (the command for one empty task) is timed too; *ratio after start-up* is the wall
time less the start-up, over ``calls / 20`` (the other rows are timed inside a running process,
from the first launch, so theirs is their ratio).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from ._emulator import EmulatorProcess
from ._stats import max_in_window

LIMIT = 20
ROOT = Path(__file__).resolve().parents[1]
WORKERS = {
    "core": (Path(sys.executable), "bench._fanout_core"),
    "prefect": (ROOT / ".venvs" / "prefect" / "bin" / "python", "bench._fanout_prefect"),
    "airflow": (ROOT / ".venvs" / "airflow" / "bin" / "python", "bench._fanout_airflow"),
}


_TIMES = ("seconds", "floor_seconds", "startup_seconds", "log", "tail")


def _workspace_name(emu: EmulatorProcess, token: str) -> str:
    from nftower import TowerClient

    with TowerClient(
        emu.url, token, rate_limit_backend="memory://", workspace=emu.workspace_id
    ) as client:
        [name] = [
            w.full_name for w in client.list_workspaces() if w.workspace_id == emu.workspace_id
        ]
    return str(name)


def _kind(path: str) -> str:
    """A request path with a run id left out (``/workflow/{id}``)."""
    return "/workflow/{id}" if re.fullmatch(r"/workflow/(?!launch$)\w+", path) else path


def _one(emu: EmulatorProcess, which: str, launches: int, cache: str) -> dict[str, Any]:
    python, module = WORKERS[which]
    token = emu.new_token()
    settings = {
        "url": emu.url,
        "token": token,
        "workspace": _workspace_name(emu, token),
        "launches": launches,
        "backend": f"file://{cache}/{which}-ratelimit.bin",
    }
    emu.clear_requests()
    done = subprocess.run(
        [str(python), "-m", module, json.dumps(settings)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=7200,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    worker = json.loads(lines[-1]) if lines else {"error": done.stderr[-2000:]}
    wanted = hashlib.sha256(token.encode()).hexdigest()
    seen = [r for r in emu.requests() if r.get("token_hash") == wanted]
    posts = [r for r in seen if r.get("method") == "POST" and r.get("path") == "/workflow/launch"]
    names = Counter((r.get("json") or {}).get("launch", {}).get("runName") for r in posts)
    calls = len(seen)
    ideal = calls / LIMIT
    seconds, startup = worker.get("seconds"), worker.get("startup_seconds") or 0.0
    kinds = Counter(f"{r.get('method')} {_kind(str(r.get('path')))}" for r in seen)
    return {
        "orchestrator": which,
        "launches_asked": launches,
        "launched": sum(1 for r in posts if r.get("status") == 200),
        "run_names_launched_twice": sum(1 for count in names.values() if count > 1),
        "calls": calls,
        "calls_per_launch": round(calls / max(launches, 1), 2),
        "server_429": sum(1 for r in seen if r.get("status") == 429),
        "max_in_1s": max_in_window([float(r["time"]) for r in seen]),
        "seconds": seconds,
        "ideal_seconds": round(ideal, 1),
        "ratio": round(seconds / ideal, 2) if seconds and ideal else None,
        "floor_seconds": worker.get("floor_seconds"),
        "startup_seconds": worker.get("startup_seconds"),
        "ratio_after_startup": round((seconds - startup) / ideal, 2) if seconds and ideal else None,
        "worker": {k: v for k, v in worker.items() if k not in _TIMES},
        "calls_by_kind": dict(kinds.most_common()),
    }


def run(
    launches: int = 100, which: tuple[str, ...] = ("core", "prefect", "airflow")
) -> dict[str, Any]:
    """Each orchestrator's fan-out of ``launches``; returns one row per orchestrator."""
    rows = []
    with tempfile.TemporaryDirectory() as cache, EmulatorProcess(rate_limit=LIMIT) as emu:
        for name in which:
            row = _one(emu, name, launches, cache)
            print(json.dumps(row), flush=True)
            rows.append(row)
    return {"rows": rows}


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100), indent=1))
