"""Limit compliance: 1, 2, 4, 8 processes sharing one token, per backend."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ._emulator import EmulatorProcess
from ._env import redis_server
from ._stats import max_in_window, steady_rate

LIMIT = 20


@dataclass
class LimitRow:
    backend: str
    processes: int
    calls: int
    server_requests: int
    max_in_1s: int
    steady_calls_per_s: float
    server_429: int
    client_429: int
    retried_429: int
    seconds: float
    stores: str
    fallbacks: int


def _run(
    emu: EmulatorProcess, backend: str, url: str, processes: int, calls: int, cache: str
) -> tuple[LimitRow, list[tuple[float, int]]]:
    token = emu.new_token()
    budget = max(30.0, 3.0 * processes * calls / LIMIT)
    settings = {
        "url": emu.url,
        "token": token,
        "workspace": emu.workspace_id,
        "backend": url,
        "calls": calls,
        "start_at": time.time() + 2.0 + 0.4 * processes,  # every process imported and ready
        "budget": budget,
    }
    # No backend named: the default, in a cache directory of the benchmark's own.
    env = {k: v for k, v in os.environ.items() if k != "NFTOWER_RATE_LIMIT_BACKEND"}
    env["XDG_CACHE_HOME"] = cache
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "bench._limit_worker", json.dumps(settings)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(processes)
    ]
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=budget + 60)
        results.append(json.loads(out.strip().splitlines()[-1]))
    wanted = hashlib.sha256(token.encode()).hexdigest()
    seen = [r for r in emu.requests() if r.get("token_hash") == wanted]
    times = [float(r["time"]) for r in seen]
    ok_times = [float(r["time"]) for r in seen if r.get("status") == 200]
    row = LimitRow(
        backend=backend,
        processes=processes,
        calls=sum(r["attempted"] for r in results),
        server_requests=len(seen),
        max_in_1s=max_in_window(times),
        steady_calls_per_s=round(steady_rate(ok_times, LIMIT), 2),
        server_429=sum(1 for r in seen if r.get("status") == 429),
        client_429=sum(r["client_429"] for r in results),
        retried_429=sum(r["retried_429"] for r in results),
        stores=" ".join(sorted({r.get("backend", url) for r in results})),
        fallbacks=sum(bool(r.get("fallback")) for r in results),
        seconds=round(max(times) - min(times), 1) if times else 0.0,
    )
    start = min(times) if times else 0.0
    points = sorted((round(float(r["time"]) - start, 4), int(r.get("status") or 0)) for r in seen)
    return row, points


def run(calls: int = 100, processes: tuple[int, ...] = (1, 2, 4, 8)) -> dict[str, Any]:
    """Every backend x process count; returns rows, the 8-process series and notes."""
    rows: list[LimitRow] = []
    series: dict[str, list[tuple[float, int]]] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, redis_server() as redis_url:
        backends = {
            "memory://": "memory://",
            "default (file://, host-wide)": "",
            "sqlite:///path (host-wide)": f"sqlite://{Path(tmp) / 'ratelimit.sqlite3'}",
        }
        if redis_url is None:
            notes.append("redis: skipped, no redis-server on PATH")
        else:
            backends["redis://"] = redis_url
        with EmulatorProcess(rate_limit=LIMIT) as emu:
            for name, url in backends.items():
                for count in processes:
                    row, points = _run(emu, name, url, count, calls, tmp)
                    rows.append(row)
                    print(json.dumps(asdict(row)), flush=True)
                    if row.fallbacks:
                        notes.append(f"{name}, {count} processes: {row.fallbacks} fell back")
                    if count == max(processes):
                        series[name] = points
                    emu.clear_requests()
            # Reference only: pyrate-limiter's SQLiteBucket shared by the same processes.
            pyrate = f"pyrate+sqlite://{Path(tmp) / 'pyrate.sqlite3'}"
            for count in [n for n in processes if n > 1][-2:]:
                reference = "pyrate-limiter SQLiteBucket (reference)"
                row, _ = _run(emu, reference, pyrate, count, calls, tmp)
                rows.append(row)
                print(json.dumps(asdict(row)), flush=True)
                emu.clear_requests()
    return {"rows": [asdict(r) for r in rows], "series": series, "notes": notes}
