"""Look-ups shared by every client of the host for a short while: the workspace an
``"org/workspace"`` name stands for, and the launchpad pipeline a name stands for.

A fan-out of launches (Airflow's dynamic task mapping, a Prefect ``.map``) makes the same
look-ups once per launch: two calls to resolve the workspace name and one to find the
pipeline, out of six per launch. They are kept for :data:`LOOKUP_TTL` seconds in the rate
limiter's store (:mod:`nftower.ratelimit._records`), so they reach every process the limit
reaches, and a launch then costs three calls: the search for its run name, the pipeline's
saved launch and the launch itself. Entries are keyed by the SHA-256 of the API URL, the
token and the name (never the token itself); only a single exact answer is kept (an unknown
name, or an ambiguous one, is asked again each time).

Example (a flow that resolves a name; the cache answers the second time):
    >>> from nftower import TowerConfig
    >>> from nftower.ratelimit._records import MemoryRecords
    >>> records, ctx = MemoryRecords(), FlowContext(TowerConfig(token="tower-access-token"))
    >>> def ask():
    ...     return (yield "a call")
    >>> def drive(flow, answer):
    ...     step = next(flow)
    ...     while True:
    ...         try:
    ...             step = flow.send(step.action(records) if isinstance(step, Shared) else answer)
    ...         except StopIteration as done:
    ...             return done.value
    >>> drive(remembered(ctx, "workspace", "acme/prod", ask(), int, int), 42)
    42
    >>> drive(remembered(ctx, "workspace", "acme/prod", ask(), int, int), 7)  # no call
    42
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from ._config import env_seconds
from ._flows import Flow, FlowContext, Shared, Sleep

__all__ = ["LOOKUP_TTL", "TTL_ENV_VAR", "lookup_ttl", "remembered"]

logger = logging.getLogger("nftower")
T = TypeVar("T")

TTL_ENV_VAR = "NFTOWER_LOOKUP_TTL"
#: Seconds a workspace or pipeline look-up is reused (``$NFTOWER_LOOKUP_TTL``; 0 turns it off).
LOOKUP_TTL = 60.0
#: How often a caller waiting for another's look-up of the same name looks for its answer.
PENDING_POLL = 0.05


def lookup_ttl() -> float:
    """Seconds a look-up is kept: ``$NFTOWER_LOOKUP_TTL``, else 60.

    >>> lookup_ttl()
    60.0
    """
    return env_seconds(TTL_ENV_VAR, LOOKUP_TTL)


def _key(kind: str, ctx: FlowContext, name: str) -> str:
    parts = f"{ctx.config.api_url}\n{ctx.config.token}\n{name}".encode()
    return f"lookup:{kind}:{hashlib.sha256(parts).hexdigest()}"


def remembered(
    ctx: FlowContext,
    kind: str,
    name: str,
    compute: Flow[T | None],
    dump: Callable[[T], Any],
    load: Callable[[Any], T],
) -> Flow[T | None]:
    """The result of ``compute``, from the shared records when a caller of the host found it
    less than :func:`lookup_ttl` seconds ago; a new result that is not ``None`` is kept.

    Callers that start together (a fan-out) do not all ask: the first one marks the look-up
    as pending and the others wait for its answer (at most the client's timeout, and never
    past a pending mark whose holder died: the mark expires).
    """
    ttl = lookup_ttl()
    if ttl <= 0:
        return (yield from compute)
    key = _key(kind, ctx, name)
    pending, me = f"{key}:pending", uuid.uuid4().hex
    give_up = time.monotonic() + ctx.config.timeout
    while True:
        hit, found = yield from _remembered(key, kind, name, load)
        if hit:
            return found
        holder = yield Shared(lambda r: r.put(pending, me, ctx.config.timeout, only_new=True))
        if holder is None:  # ours to ask, unless the one before us answered meanwhile
            hit, found = yield from _remembered(key, kind, name, load)
            if hit:
                yield Shared(lambda r: r.drop(pending, me))
                return found
            break
        if time.monotonic() > give_up:
            break
        yield Sleep(PENDING_POLL)
    try:
        value = yield from compute
    except GeneratorExit:
        raise
    except BaseException:
        yield Shared(lambda r: r.drop(pending, me))
        raise
    if value is not None:
        stored = json.dumps(dump(value))
        yield Shared(lambda r: r.put(key, stored, ttl))
    yield Shared(lambda r: r.drop(pending, me))
    return value


def _remembered(
    key: str, kind: str, name: str, load: Callable[[Any], T]
) -> Flow[tuple[bool, T | None]]:
    """``(True, value)`` when the look-up is remembered, else ``(False, None)``."""
    text = yield Shared(lambda records: records.get(key))
    if isinstance(text, str):
        try:
            return True, load(json.loads(text))
        except (ValueError, TypeError) as error:  # written by another version: ask again
            logger.debug("Ignoring the remembered %s look-up of %r: %s", kind, name, error)
    return False, None
