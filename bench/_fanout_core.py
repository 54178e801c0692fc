"""Worker (core environment): N ``ensure_run`` calls at once, one thread and client each.

``python -m bench._fanout_core '<settings json>'`` prints one JSON line: the wall time, how
many launched and how many raised.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def main(settings: dict[str, Any]) -> dict[str, Any]:
    from nftower import TowerClient

    launches = int(settings["launches"])
    start = threading.Barrier(launches)

    def launch(index: int) -> str:
        with TowerClient(
            settings["url"],
            settings["token"],
            workspace=settings["workspace"],
            rate_limit_backend=settings["backend"],
        ) as client:
            start.wait()
            return client.ensure_run("hello", run_name=f"fanout-core-{index:03d}").workflow_id

    errors: list[str] = []
    ids: list[str] = []
    started = time.monotonic()
    with ThreadPoolExecutor(launches) as pool:
        for future in [pool.submit(launch, i) for i in range(launches)]:
            try:
                ids.append(future.result())
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")
    # The clock starts before the clients are made; they make no call before the barrier.
    return {
        "seconds": round(time.monotonic() - started, 2),
        "launched": len(set(ids)),
        "errors": errors[:5],
        "error_count": len(errors),
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))), flush=True)
