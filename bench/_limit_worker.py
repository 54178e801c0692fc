"""One participant of the limit benchmark: ``calls`` user-info calls through TowerClient.

Run as ``python -m bench._limit_worker '<json settings>'``; prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def pyrate_reference(settings: dict[str, Any]) -> dict[str, Any]:
    """The same calls with bare httpx behind pyrate-limiter's SQLiteBucket (for comparison)."""
    import httpx
    from pyrate_limiter import Duration, Limiter, Rate
    from pyrate_limiter.buckets import SQLiteBucket

    bucket = SQLiteBucket.init_from_file(
        [Rate(20, Duration.SECOND)], db_path=settings["backend"].removeprefix("pyrate+sqlite://")
    )
    limiter = Limiter(bucket, buffer_ms=50)
    headers = {"Authorization": f"Bearer {settings['token']}"}
    client_429 = 0
    with httpx.Client(base_url=settings["url"], headers=headers) as http:
        time.sleep(max(0.0, settings["start_at"] - time.time()))
        for _ in range(settings["calls"]):
            limiter.try_acquire("tower")
            client_429 += http.get("/user-info").status_code == 429
    return {"attempted": settings["calls"], "client_429": client_429, "retried_429": 0}


def main() -> None:
    settings = json.loads(sys.argv[1])
    if settings["backend"].startswith("pyrate+"):
        print(json.dumps(pyrate_reference(settings)))
        return
    from nftower import RateLimitError, TowerClient, TowerError
    from nftower.ratelimit import get_limiter

    backend = settings["backend"] or None  # "" = the default
    client = TowerClient(
        api_url=settings["url"],
        token=settings["token"],
        workspace=settings["workspace"],
        rate_limit_backend=backend,
    )
    limiter = get_limiter(api_url=settings["url"], token=settings["token"], backend=backend)
    time.sleep(max(0.0, settings["start_at"] - time.time()))
    deadline = time.monotonic() + settings["budget"]
    done = rate_limited = other_errors = 0
    for _ in range(settings["calls"]):
        if time.monotonic() > deadline:
            break
        try:
            client.user_info()
        except RateLimitError:
            rate_limited += 1
        except TowerError:
            other_errors += 1
        done += 1
    client.close()
    stats = limiter.stats()
    print(
        json.dumps(
            {
                "attempted": done,
                "client_429": rate_limited,
                "other_errors": other_errors,
                "retried_429": stats.rate_limited,
                "waited_seconds": stats.waited_seconds,
                "fallback": stats.fallback,
                "backend": stats.backend,
            }
        )
    )


if __name__ == "__main__":
    main()
