"""What keeps ``ensure_run`` from launching a run twice when several callers, or a slow answer,
are involved: a lease on the run name and a record of the launch in flight.

Both are records in the rate limiter's store (:mod:`nftower.ratelimit._records`), so they reach
every process the limit reaches: the host with the default file store or SQLite, every host
with Redis.

- **The lease.** ``ensure_run`` takes the lease on ``(API URL, workspace, run name)`` before it
  looks for the run and holds it until it returns: two callers at the same instant run one
  after the other, and the second finds the run the first launched. A lease lasts
  :func:`lease_ttl` seconds and is renewed while its holder waits; a holder on this host that
  died (its process is gone) is noticed at once, elsewhere its lease expires.
- **The launch in flight.** Just before it launches, ``ensure_run`` writes "launch in flight
  for run X since T". A launch whose answer never arrives (timeout, connection reset) leaves
  it in place. Whoever calls ``ensure_run`` for the run next, in this process or any other,
  keeps looking for the run until ``T`` plus the *launch grace* before it launches again.

The launch grace is 60 s (``$NFTOWER_LAUNCH_GRACE`` to change it). Tower answers a launch only
once it has resolved the repository and the pipeline's configuration, which takes a few
seconds and, for a large repository or a slow git host, tens of seconds; a request that timed
out on our side is still being handled there, and its run appears when Tower is done. A
minute covers that many times over, and it is short enough that a launch that never reached
Tower is retried within a minute instead of leaving a night without a run.

Example (the flows yield :class:`Shared` steps that the client runs against its store):
    >>> from nftower.ratelimit._records import MemoryRecords
    >>> step = Shared(lambda records: records.get("nothing"))  # what a flow yields
    >>> step.action(MemoryRecords()) is None
    True
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from ._config import env_seconds
from ._flows import Flow, FlowContext, Shared, Sleep
from .ratelimit._records import SharedRecords

__all__ = ["GRACE_ENV_VAR", "Shared", "holding_lease", "launch_grace", "lease_ttl"]

logger = logging.getLogger("nftower")
T = TypeVar("T")

GRACE_ENV_VAR = "NFTOWER_LAUNCH_GRACE"
#: How long a launch whose answer never came is waited for before launching again.
DEFAULT_LAUNCH_GRACE = 60.0
#: How often the run is looked for while a launch is in flight.
LOOK_EVERY = 1.0
#: How often a caller waiting for another's lease asks again.
LEASE_POLL = 0.1


def launch_grace() -> float:
    """Seconds to wait for the run of a launch whose answer never came (``$NFTOWER_LAUNCH_GRACE``
    or 60).

    >>> launch_grace()
    60.0
    """
    return env_seconds(GRACE_ENV_VAR, DEFAULT_LAUNCH_GRACE)


def lease_ttl(ctx: FlowContext) -> float:
    """How long a lease lasts without renewal: longer than one launch request can take."""
    return max(60.0, 2 * ctx.config.timeout + 10.0)


def _key(kind: str, ctx: FlowContext, ws: int | None, run_name: str) -> str:
    name = f"{ctx.config.api_url}\n{ws}\n{run_name}".encode()
    return f"{kind}:{hashlib.sha256(name).hexdigest()}"


def _drop(records: SharedRecords, *, key: str, value: str) -> None:
    records.drop(key, value)


def _holder_is_gone(text: str) -> bool:
    """Whether the lease ``text`` belongs to a process of this host that no longer exists."""
    try:
        holder = json.loads(text)
        if holder.get("host") != socket.gethostname():
            return False
        pid = int(holder["pid"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (another user's)
        return False
    return False


class Lease:
    """One caller's lease on a run name (its key and the text that names the holder)."""

    def __init__(self, ctx: FlowContext, ws: int | None, run_name: str) -> None:
        self.ctx, self.ws, self.run_name = ctx, ws, run_name
        self.key = _key("lease", ctx, ws, run_name)
        self.flight_key = _key("inflight", ctx, ws, run_name)
        self.me = json.dumps(
            {"host": socket.gethostname(), "pid": os.getpid(), "id": uuid.uuid4().hex}
        )
        self.ttl = lease_ttl(ctx)
        self.records: SharedRecords | None = None

    def take(self) -> Flow[None]:
        waited = False
        while True:
            holder, self.records = yield Shared(
                lambda r: (r.put(self.key, self.me, self.ttl, only_new=True), r)
            )
            if holder is None:
                if waited:
                    logger.info("Run name %s is free now: looking for the run", self.run_name)
                return None
            if _holder_is_gone(holder):
                yield Shared(functools.partial(_drop, key=self.key, value=holder))
                continue
            if not waited:
                waited = True
                logger.info(
                    "Another ensure_run of run %s is deciding whether to launch it: waiting for "
                    "it to finish",
                    self.run_name,
                )
            yield Sleep(LEASE_POLL)

    def renew(self) -> Flow[None]:
        yield Shared(lambda r: r.put(self.key, self.me, self.ttl))

    def give_back(self) -> Flow[None]:
        yield Shared(lambda r: r.drop(self.key, self.me))

    # -- the launch in flight ---------------------------------------------------------------

    def in_flight(self) -> Flow[tuple[str, float] | None]:
        """The run name and start time of a launch in flight for this run name."""
        text = yield Shared(lambda r: r.get(self.flight_key))
        if text is None:
            return None
        try:
            record = json.loads(text)
            return str(record["run_name"]), float(record["since"])
        except (ValueError, KeyError, TypeError):
            return None

    def launching(self, run_name: str) -> Flow[None]:
        """Record the launch of ``run_name`` as in flight (kept for the launch grace)."""
        text = json.dumps({"run_name": run_name, "since": time.time()})
        yield Shared(lambda r: r.put(self.flight_key, text, max(launch_grace(), 1.0)))

    def landed(self) -> Flow[None]:
        """The launch's outcome is known: no launch in flight any more."""
        yield Shared(lambda r: r.drop(self.flight_key))

    def look_for(
        self, run_name: str, since: float, find: Callable[[], Flow[list[T]]]
    ) -> Flow[list[T]]:
        """Call ``find`` until it finds something or the launch grace after ``since`` is over
        (the lease renewed meanwhile); the last answer."""
        grace = launch_grace()
        deadline = since + grace
        looks = max(1, math.ceil(grace / LOOK_EVERY))
        found = yield from find()
        while not found and looks > 0 and time.time() < deadline:
            looks -= 1
            yield Sleep(min(LOOK_EVERY, max(deadline - time.time(), 0.0)))
            yield from self.renew()
            found = yield from find()
        return found


def holding_lease(lease: Lease, body: Flow[T]) -> Flow[T]:
    """Run ``body`` holding ``lease`` (taken first, given back however ``body`` ends)."""
    yield from lease.take()
    try:
        result = yield from body
    except GeneratorExit:  # the caller abandoned the flow (no more steps): give it back here
        if lease.records is not None:
            lease.records.drop(lease.key, lease.me)
        raise
    except BaseException:
        yield from lease.give_back()
        raise
    yield from lease.give_back()
    return result
