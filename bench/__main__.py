"""``python -m bench [limit|monitor|overhead|transfer|fanout ...] [--quick] [--dbt-python PATH]``.

Results are merged into ``bench/results.json``; ``docs/performance.md`` and the plot are
rewritten from it (unless ``--no-write``; ``--quick`` runs small, bounded versions and does
not write unless ``--write`` is given).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from . import fanout, limit, monitor, overhead, report, transfer
from ._env import machine_facts

BENCHMARKS = ("limit", "monitor", "overhead", "transfer", "fanout")
RESULTS = Path(__file__).resolve().parent / "results.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "which", nargs="*", help="limit, monitor, overhead, transfer and/or fanout (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="small counts (smoke test)")
    parser.add_argument(
        "--dbt-python",
        default=os.environ.get("NFTOWER_BENCH_DBT_PYTHON"),
        help="python of an env with the dbt Cloud provider ($NFTOWER_BENCH_DBT_PYTHON)",
    )
    parser.add_argument("--write", action="store_true", help="write docs even with --quick")
    parser.add_argument("--no-write", action="store_true", help="do not write docs")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the docs from results.json"
    )
    args = parser.parse_args(argv)
    if args.report_only:
        report.write(json.loads(RESULTS.read_text()))
        return 0
    which = args.which or list(BENCHMARKS)
    unknown = sorted(set(which) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {BENCHMARKS}")
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in which:
        started = time.monotonic()
        print(f"== {name}", flush=True)
        if name == "limit":
            results["limit"] = limit.run(calls=30, processes=(1, 2)) if args.quick else limit.run()
        elif name == "monitor":
            results["monitor"] = (
                monitor.run(counts=(50,), baseline=()) if args.quick else monitor.run()
            )
        elif name == "fanout":
            results["fanout"] = fanout.run(launches=10 if args.quick else 100)
        elif name == "transfer":
            results["transfer"] = transfer.run(megabytes=10 if args.quick else transfer.SIZE_MB)
        else:
            previous = results.get("overhead", {})
            results["overhead"] = overhead.run(
                calls=100 if args.quick else 400, dbt_python=args.dbt_python
            )
            overhead.carry_over_dbt(previous, results["overhead"])
        results.setdefault("seconds", {})[name] = round(time.monotonic() - started, 1)
        results.setdefault("machine", {})[name] = machine_facts()
    write = args.write or not (args.quick or args.no_write)
    if write:
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
        report.write(results)
        print(f"wrote {RESULTS}, {report.PERFORMANCE_MD}, {report.PLOT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
