"""The step protocol: operations are generators (flows) shared by the sync and the async
client, and these are the steps they yield.

A flow yields steps and receives their results: a :class:`~nftower._endpoints.Call` gets back the
parsed JSON (or has the call's :class:`~nftower.TowerError` thrown in), :class:`Sleep` pauses,
:class:`Emit` hands one item of a lazy listing to the caller, :class:`Notify` runs a user
callback. ``TowerClient`` drives flows with ``time.sleep``, ``AsyncTowerClient`` with
``asyncio.sleep``; the logic exists once. The look-ups every flow builds on (workspace,
pagination, names) are in ``_lookups.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ._config import TowerConfig
from ._endpoints import Call
from ._models import Workflow

__all__ = ["Emit", "Flow", "FlowContext", "Listing", "Notify", "Shared", "Sleep"]

T = TypeVar("T")


@dataclass(frozen=True)
class Sleep:
    """Pause the flow for ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Emit(Generic[T]):
    """Hand one item of a lazy listing to the caller."""

    item: T


@dataclass(frozen=True)
class Notify:
    """Call ``callback(workflow)`` (awaited by the async driver when it returns an awaitable)."""

    callback: Callable[[Workflow], Any]
    workflow: Workflow


@dataclass(frozen=True)
class Shared:
    """Run ``action`` on the client's shared records (leases, launches in flight: see
    :mod:`nftower._run_lease`); answered with its result. The async client runs it in a
    worker thread."""

    action: Callable[[Any], Any]


Step = Call | Sleep | Emit[Any] | Notify | Shared
#: A flow: yields steps, gets each one's result back, returns its own result.
Flow = Generator[Step, Any, T]
#: A lazy listing: a flow that emits items of type ``T``.
Listing = Generator[Call | Sleep | Notify | Shared | Emit[T], Any, None]


@dataclass
class FlowContext:
    """Per-client state the flows read: configuration, resolved workspace, clock."""

    config: TowerConfig
    clock: Callable[[], float] = time.monotonic
    resolved_workspace: list[int | None] = field(default_factory=list)
