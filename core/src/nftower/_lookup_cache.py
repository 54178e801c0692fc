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
import math
import os
from collections.abc import Callable
from typing import Any, TypeVar

from ._flows import Flow, FlowContext, Shared

__all__ = ["LOOKUP_TTL", "TTL_ENV_VAR", "lookup_ttl", "remembered"]

logger = logging.getLogger("nftower")
T = TypeVar("T")

TTL_ENV_VAR = "NFTOWER_LOOKUP_TTL"
#: Seconds a workspace or pipeline look-up is reused (``$NFTOWER_LOOKUP_TTL``; 0 turns it off).
LOOKUP_TTL = 60.0


def lookup_ttl() -> float:
    """Seconds a look-up is kept: ``$NFTOWER_LOOKUP_TTL``, else 60.

    >>> lookup_ttl()
    60.0
    """
    text = os.environ.get(TTL_ENV_VAR, "").strip()
    try:
        value = float(text) if text else LOOKUP_TTL
    except ValueError:
        return LOOKUP_TTL
    return value if math.isfinite(value) and value >= 0 else LOOKUP_TTL


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
    less than :func:`lookup_ttl` seconds ago; a new result that is not ``None`` is kept."""
    ttl = lookup_ttl()
    if ttl <= 0:
        return (yield from compute)
    key = _key(kind, ctx, name)
    text = yield Shared(lambda records: records.get(key))
    if isinstance(text, str):
        try:
            return load(json.loads(text))
        except (ValueError, TypeError) as error:  # written by another version: ask again
            logger.debug("Ignoring the remembered %s look-up of %r: %s", kind, name, error)
    value = yield from compute
    if value is not None:
        stored = json.dumps(dump(value))
        yield Shared(lambda records: records.put(key, stored, ttl))
    return value
