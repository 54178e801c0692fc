"""Monitoring scale: 100, 300 and 1,000 watched runs under one token."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from ._emulator import EmulatorProcess
from ._stats import percentile

POLL_INTERVAL = 5.0
CHANGES = 20
LAUNCH_TOKENS = 10


@dataclass
class MonitorRow:
    mode: str
    runs: int
    poll_interval: float
    calls_per_s: float
    list_calls: int
    describe_calls: int
    changes: int
    detected: int
    delay_p50: float
    delay_p95: float
    delay_max: float
    rss_mb: float


def launch_hanging(emu: EmulatorProcess, count: int) -> list[str]:
    """``count`` runs that stay RUNNING, launched in parallel under several tokens."""
    from nftower import TowerClient

    tokens = [emu.new_token() for _ in range(LAUNCH_TOKENS)]
    with TowerClient(emu.url, tokens[0], emu.workspace_id, rate_limit_backend="memory://") as c:
        env = next(ce for ce in c.list_compute_envs() if ce.primary) or c.list_compute_envs()[0]
    body = {
        "launch": {
            "computeEnvId": env.id,
            "pipeline": "https://github.com/nextflow-io/hello",
            "workDir": env.work_dir or "s3://bench/work",
            "paramsText": json.dumps({"emulator_outcome": "hang"}),
        }
    }

    def launch_share(index: int) -> list[str]:
        share = count // LAUNCH_TOKENS + (index < count % LAUNCH_TOKENS)
        with TowerClient(
            emu.url, tokens[index], emu.workspace_id, rate_limit_backend="memory://"
        ) as client:
            return [
                client.request(
                    "POST", "/workflow/launch", params={"workspaceId": emu.workspace_id}, json=body
                )["workflowId"]
                for _ in range(share)
            ]

    with ThreadPoolExecutor(LAUNCH_TOKENS) as pool:
        return [run for share in pool.map(launch_share, range(LAUNCH_TOKENS)) for run in share]


def _measure(mode: str, count: int, seed: int) -> MonitorRow:
    rng = random.Random(seed)
    with EmulatorProcess(speed=20.0) as emu:
        runs = launch_hanging(emu, count)
        token = emu.new_token()
        settings = {
            "url": emu.url,
            "token": token,
            "workspace": emu.workspace_id,
            "runs": runs,
            "poll_interval": POLL_INTERVAL,
            "mode": mode,
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "bench._monitor_worker", json.dumps(settings)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert worker.stdin is not None
        assert worker.stdout is not None
        ready_line = worker.stdout.readline()
        if ready_line.strip() != "READY":
            raise RuntimeError(f"monitor worker failed: {ready_line!r}")
        started = time.time()
        span = 4 * POLL_INTERVAL
        moments = sorted(rng.uniform(0, span) for _ in range(CHANGES))
        changed = rng.sample(runs, CHANGES)
        set_at: dict[str, float] = {}
        for moment, run in zip(moments, changed, strict=True):
            time.sleep(max(0.0, started + moment - time.time()))
            emu.set_status(run, rng.choice(["SUCCEEDED", "FAILED"]))
            set_at[run] = time.time()
        # Per-run polling needs count / 20 s for one round of describes: wait for it too.
        tail = POLL_INTERVAL + 2.0 + (count / 20 if mode == "per-run" else 0.0)
        time.sleep(max(0.0, started + span + tail - time.time()))
        ended = time.time()
        out, _ = worker.communicate("stop\n", timeout=120)
        result = json.loads(out.strip().splitlines()[-1])
        wanted = hashlib.sha256(token.encode()).hexdigest()
        calls = [r for r in emu.requests() if r.get("token_hash") == wanted]
    in_span = [r for r in calls if started <= float(r["time"]) <= ended]
    delays = [result["done"][run] - set_at[run] for run in changed if run in result["done"]]
    return MonitorRow(
        mode=mode,
        runs=count,
        poll_interval=POLL_INTERVAL,
        calls_per_s=round(len(in_span) / (ended - started), 2),
        list_calls=sum(1 for r in in_span if r["path"] == "/workflow"),
        describe_calls=sum(1 for r in in_span if r["path"].startswith("/workflow/")),
        changes=CHANGES,
        detected=len(delays),
        delay_p50=round(percentile(delays, 50), 2),
        delay_p95=round(percentile(delays, 95), 2),
        delay_max=round(max(delays, default=float("nan")), 2),
        rss_mb=result["rss_mb"],
    )


def run(
    counts: tuple[int, ...] = (100, 300, 1000), baseline: tuple[int, ...] = (100, 300)
) -> dict[str, Any]:
    rows = []
    for index, count in enumerate(counts):
        row = _measure("monitor", count, seed=index)
        rows.append(row)
        print(json.dumps(asdict(row)), flush=True)
    for index, count in enumerate(baseline):
        row = _measure("per-run", count, seed=100 + index)
        rows.append(row)
        print(json.dumps(asdict(row)), flush=True)
    return {"rows": [asdict(r) for r in rows]}
