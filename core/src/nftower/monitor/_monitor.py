"""The shared monitor: one background poller per (API URL, token, workspace) per process."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import threading
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._exceptions import AuthenticationError, WaitTimeoutError
from .._follow import MAX_POLL_ERRORS, Follower, FollowOutcome, FollowRules
from .._models import Workflow
from ..ratelimit import limiter_key
from ..status import SUCCEEDED, Ending
from ._poller import StatusPoller, StatusSource

if TYPE_CHECKING:
    from .._config import TowerConfig

__all__ = ["MonitorStats", "WorkflowMonitor"]

logger = logging.getLogger("nftower.monitor")

_Item = Workflow | BaseException


@dataclass(eq=False)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[_Item] = field(default_factory=asyncio.Queue)

    def send(self, item: _Item) -> bool:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # that event loop is closed: nobody is listening any more
            return False
        return True


@dataclass(eq=False)
class _Watch:
    last: Workflow | None = None
    subscribers: list[_Subscriber] = field(default_factory=list)
    #: cycles in a row that could not find this run
    misses: int = 0


@dataclass(frozen=True)
class MonitorStats:
    """Counters of one monitor since creation."""

    watched: int
    cycles: int
    list_calls: int
    describe_calls: int
    errors: int


class WorkflowMonitor:
    """Watches many runs with one poller, so N runs cost far fewer than N calls per cycle.

    Get the process-wide instance for a configuration with :meth:`shared`. The poller runs in
    a daemon thread with its own client (whose calls share the token's rate limiter), starts
    with the first watch and stops once nothing has been watched for ``idle_timeout`` seconds.
    Watchers may live on any event loop of any thread. Each cycle (every ``poll_interval``
    seconds) lists submitted and running runs page by page and describes only the runs that
    left those lists (see :class:`~nftower.monitor.StatusPoller`).

    A failed cycle is retried next cycle; after ``max_errors`` consecutive failures, or at once
    on an authentication error, the error is raised to every watcher. A run that cannot be
    found (:class:`~nftower.RunNotFoundError`: a wrong id, a deleted run, a run this token may
    not see; Tower's 403 for it is told apart from a bad token) ends its own watchers' waits
    alone: at once if it was never seen, else once ``MAX_POLL_ERRORS`` more cycles in a row
    could not find it (the rule of ``client.follow``). The other runs are still watched.

    >>> import asyncio
    >>> from nftower import TowerConfig
    >>> from nftower.testing import TowerEmulator
    >>> async def main(emu, run_id):
    ...     config = TowerConfig(api_url=emu.url, token=emu.token, workspace=emu.workspace_id)
    ...     monitor = WorkflowMonitor.shared(config, poll_interval=0.2)
    ...     final = await monitor.wait(run_id, timeout=60)
    ...     return final.status.value
    >>> with TowerEmulator(speed=50) as emu:
    ...     from nftower import TowerClient
    ...     with TowerClient(api_url=emu.url, token=emu.token, workspace=emu.workspace_id) as c:
    ...         run_id = c.launch("hello")
    ...     asyncio.run(main(emu, run_id))
    'SUCCEEDED'
    """

    _registry: dict[tuple[str, str, str], WorkflowMonitor] = {}
    _registry_lock = threading.Lock()
    _registry_pid = os.getpid()

    def __init__(
        self,
        config: TowerConfig,
        *,
        poll_interval: float = 30.0,
        max_errors: int = 5,
        idle_timeout: float = 60.0,
        client_factory: Callable[[], StatusSource] | None = None,
    ) -> None:
        if not 0 < poll_interval < float("inf"):  # nan fails both comparisons
            raise ValueError(f"poll_interval must be a finite number > 0, got {poll_interval!r}")
        self.config = config
        self.poll_interval = poll_interval
        self.max_errors = max_errors
        self.idle_timeout = idle_timeout
        self._client_factory = client_factory or self._default_client
        self._poller = StatusPoller()
        self._lock = threading.Lock()
        self._has_work = threading.Condition(self._lock)
        self._watches: dict[str, _Watch] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._cycles = self._list_calls = self._describe_calls = self._errors = 0

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def shared(cls, config: TowerConfig, *, poll_interval: float = 30.0) -> WorkflowMonitor:
        """The monitor of this configuration's API URL, token and workspace in this process.

        Callers asking for a shorter ``poll_interval`` than the current one shorten it for all.
        """
        key = (config.api_url, limiter_key(config.api_url, config.token), str(config.workspace))
        with cls._registry_lock:
            if cls._registry_pid != os.getpid():  # threads do not survive fork()
                cls._registry, cls._registry_pid = {}, os.getpid()
            monitor = cls._registry.get(key)
            if monitor is None:
                monitor = cls._registry[key] = cls(config, poll_interval=poll_interval)
            elif poll_interval < monitor.poll_interval:
                monitor.poll_interval = poll_interval
            return monitor

    @classmethod
    def close_all(cls) -> None:
        """Stop every shared monitor of the process (tests, shutdown)."""
        with cls._registry_lock:
            monitors, cls._registry = list(cls._registry.values()), {}
        for monitor in monitors:
            monitor.close()

    def _default_client(self) -> StatusSource:
        from .._client import TowerClient

        return TowerClient(config=self.config)

    # -- watching ---------------------------------------------------------------------------

    async def watch(self, workflow_id: str) -> AsyncGenerator[Workflow, None]:
        """Yield the run each time its status changes (first: its status when first seen);
        the iteration ends after a terminal status (SUCCEEDED, FAILED, CANCELLED)."""
        subscriber = _Subscriber(asyncio.get_running_loop())
        self._subscribe(workflow_id, subscriber)
        try:
            while True:
                item = await subscriber.queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.status is not None and item.status.is_terminal:
                    return
        finally:
            self._unsubscribe(workflow_id, subscriber)

    async def follow(
        self,
        workflow_id: str,
        *,
        timeout: float | None = None,
        unknown_timeout: float | None = 3600.0,
        on_change: Callable[[Workflow], Any] | None = None,
        target: str = SUCCEEDED,
    ) -> FollowOutcome:
        """Follow one run with the shared poller until it ends, by the rule of
        ``client.follow`` (:class:`~nftower._follow.Follower`): a :class:`~nftower.FollowOutcome`
        for this run alone (``succeeded`` once it reaches ``target``, ``failed``,
        ``cancelled``, ``deadline`` after ``timeout`` s, ``unknown`` after ``unknown_timeout``
        s neither active nor finished).

        ``on_change`` is called with every status change (it may be a coroutine function).
        An error of this run (it does not exist) or of the poller (it gave up) is raised.
        """
        rules = FollowRules(self.poll_interval, timeout, unknown_timeout, target)
        follower = Follower(workflow_id, rules, time.monotonic)
        subscriber = _Subscriber(asyncio.get_running_loop())
        self._subscribe(workflow_id, subscriber)
        try:
            while True:
                try:
                    item = await asyncio.wait_for(subscriber.queue.get(), follower.time_left())
                except asyncio.TimeoutError:
                    if (outcome := follower.check()) is not None:
                        return outcome
                    continue
                if isinstance(item, BaseException):
                    raise item
                if on_change is not None:
                    result = on_change(item)
                    if inspect.isawaitable(result):
                        await result
                if (outcome := follower.observe(item)) is not None:
                    return outcome
        finally:
            self._unsubscribe(workflow_id, subscriber)

    async def wait(
        self,
        workflow_id: str,
        *,
        timeout: float | None = None,
        unknown_timeout: float | None = 3600.0,
        on_change: Callable[[Workflow], Any] | None = None,
    ) -> Workflow:
        """The run once it is terminal, or once it has been UNKNOWN for ``unknown_timeout`` s
        (:meth:`follow`, with the deadline raised).

        Raises :class:`~nftower.WaitTimeoutError` after ``timeout`` seconds. ``on_change`` is
        called with every status change (it may be a coroutine function).
        """
        outcome = await self.follow(
            workflow_id, timeout=timeout, unknown_timeout=unknown_timeout, on_change=on_change
        )
        if outcome.kind is Ending.DEADLINE or outcome.workflow is None:
            status = outcome.status
            raise WaitTimeoutError(
                f"Run {workflow_id} did not finish within {timeout:g} s (last status {status})",
                workflow_id=workflow_id,
                last_status=status,
            )
        return outcome.workflow

    def stats(self) -> MonitorStats:
        """Counters since creation (``list_calls`` counts pages)."""
        with self._lock:
            return MonitorStats(
                watched=len(self._watches),
                cycles=self._cycles,
                list_calls=self._list_calls,
                describe_calls=self._describe_calls,
                errors=self._errors,
            )

    def close(self) -> None:
        """Stop the poller; current watchers get no further changes."""
        self._stop.set()
        with self._lock:
            self._has_work.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    def __repr__(self) -> str:
        return (
            f"WorkflowMonitor(api_url={self.config.api_url!r}, "
            f"workspace={self.config.workspace!r}, poll_interval={self.poll_interval})"
        )

    # -- subscription bookkeeping -----------------------------------------------------------

    def _subscribe(self, workflow_id: str, subscriber: _Subscriber) -> None:
        with self._lock:
            watch = self._watches.setdefault(workflow_id, _Watch())
            watch.subscribers.append(subscriber)
            if watch.last is not None:
                subscriber.send(watch.last)
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="nftower-monitor", daemon=True
                )
                self._thread.start()
            self._has_work.notify_all()

    def _unsubscribe(self, workflow_id: str, subscriber: _Subscriber) -> None:
        with self._lock:
            watch = self._watches.get(workflow_id)
            if watch is None:
                return
            if subscriber in watch.subscribers:
                watch.subscribers.remove(subscriber)
            if not watch.subscribers:
                del self._watches[workflow_id]

    # -- the poller thread ------------------------------------------------------------------

    def _run(self) -> None:
        source: StatusSource | None = None
        failures = 0
        try:
            while not self._stop.is_set():
                with self._lock:
                    if not self._watches:
                        self._has_work.wait(self.idle_timeout)
                        if not self._watches:
                            self._thread = None
                            return
                        continue
                    snapshot = {
                        run: watch.last.status if watch.last is not None else None
                        for run, watch in self._watches.items()
                    }
                started = time.monotonic()
                try:
                    source = source or self._client_factory()
                    result = self._poller.poll(source, snapshot)
                except Exception as error:
                    failures += 1
                    self._cycle_failed(error, failures)
                    if isinstance(error, AuthenticationError) or failures >= self.max_errors:
                        failures = 0
                else:
                    failures = 0
                    self._publish(result.observed, result.missing)
                    with self._lock:
                        self._cycles += 1
                        self._list_calls += result.list_calls
                        self._describe_calls += result.describe_calls
                self._stop.wait(max(0.0, started + self.poll_interval - time.monotonic()))
        finally:
            close = getattr(source, "close", None)
            if callable(close):
                close()
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def _cycle_failed(self, error: Exception, failures: int) -> None:
        fatal = isinstance(error, AuthenticationError) or failures >= self.max_errors
        with self._lock:
            self._errors += 1
            if fatal:
                watches, self._watches = self._watches, {}
        if not fatal:
            logger.warning("Status poll failed (%d in a row), retrying: %s", failures, error)
            return
        logger.error("Status poll failed, giving up on %d watched run(s): %s", len(watches), error)
        for watch in watches.values():
            for subscriber in watch.subscribers:
                subscriber.send(error)

    def _publish(
        self, observed: Mapping[str, Workflow], missing: Mapping[str, BaseException]
    ) -> None:
        tolerated: list[tuple[str, int, BaseException]] = []
        with self._lock:
            for run, workflow in observed.items():
                watch = self._watches.get(run)
                if watch is None:
                    continue
                watch.misses = 0
                previous = watch.last.status if watch.last is not None else None
                if previous is not None and previous == workflow.status:
                    continue
                watch.last = workflow
                watch.subscribers = [s for s in watch.subscribers if s.send(workflow)]
                if workflow.status is not None and workflow.status.is_terminal:
                    del self._watches[run]
            for run, error in missing.items():
                watch = self._watches.get(run)
                if watch is None:
                    continue
                if watch.last is not None and watch.misses < MAX_POLL_ERRORS:
                    watch.misses += 1
                    tolerated.append((run, watch.misses, error))
                    continue
                del self._watches[run]
                for subscriber in watch.subscribers:
                    subscriber.send(error)
        for run, misses, error in tolerated:
            logger.warning(
                "Run %s was not found (%d/%d in a row), will look again: %s",
                run,
                misses,
                MAX_POLL_ERRORS,
                error,
            )
