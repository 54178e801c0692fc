"""Following a run to its end: the one rule, for one run (``client.follow`` / ``client.wait``)
and for many (``WorkflowMonitor.follow`` / ``.wait``), and what the adapters translate.

:class:`Follower` holds the rule and nothing else (no I/O, a clock passed in): feed it every
status seen with :meth:`Follower.observe`, ask :meth:`Follower.check` when time passed
without news, and it says when and how the wait ends, as one :class:`FollowOutcome`:

- the target status is reached (SUCCEEDED unless a target says otherwise): ``succeeded``;
- FAILED or CANCELLED: ``failed`` / ``cancelled``;
- a status that is neither active (SUBMITTED, RUNNING) nor terminal (UNKNOWN, none at all,
  a value newer than this client) for ``unknown_timeout`` seconds in a row: ``unknown``;
- ``timeout`` seconds passed first: ``deadline``.

Example:
    >>> clock = iter([0.0, 0.0, 10.0, 70.0]).__next__
    >>> follower = Follower("w", FollowRules(unknown_timeout=60.0), clock)
    >>> follower.observe(Workflow(id="w", status="UNKNOWN")) is None
    True
    >>> follower.check() is None                  # 10 s of UNKNOWN
    True
    >>> follower.check().kind                     # 70 s of UNKNOWN
    <Ending.UNKNOWN: 'unknown'>
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import _endpoints as ep
from ._counts import TaskCounts
from ._exceptions import (
    RateLimitError,
    ServerError,
    TowerConfigError,
    TowerConnectionError,
    WaitTimeoutError,
    WorkflowFailedError,
)
from ._flows import Flow, FlowContext, Notify, Sleep
from ._lookups import workspace_id
from ._models import Workflow
from ._reports import run_url
from ._run_access import on_run
from ._run_errors import RunNotFoundError
from .status import (
    MAX_POLL_ERRORS,
    SUCCEEDED,
    Ending,
    check_seconds,
    check_target,
    ending,
    is_active,
)

__all__ = [
    "MAX_POLL_ERRORS",
    "FollowOutcome",
    "FollowRules",
    "Follower",
    "follow",
    "wait_result",
]

logger = logging.getLogger("nftower")

# MAX_POLL_ERRORS (nftower.status): consecutive failed status checks a follow tolerates
# (transport and server errors, and, once the run has been seen, answers that it is not found:
# a 404 or a 403 with a good token). ``WorkflowMonitor`` and the Airflow sensor apply the same
# count to each run they watch.
_TRANSIENT = (TowerConnectionError, ServerError, RateLimitError, RunNotFoundError)


@dataclass(frozen=True)
class FollowRules:
    """How long and how to follow a run; bad values raise :class:`TowerConfigError`.

    ``timeout`` (seconds from the start, ``None``: no limit) is the deadline;
    ``unknown_timeout`` (``None``: no limit) bounds a run that is neither active nor finished;
    ``target`` is the status that ends the wait well (``SUBMITTED``, ``RUNNING`` or
    ``SUCCEEDED``).

    Example:
        >>> FollowRules(poll_interval=10, target="running").target
        'RUNNING'
        >>> FollowRules(poll_interval=0)
        Traceback (most recent call last):
        ...
        nftower.TowerConfigError: poll_interval must be a positive number of seconds, got 0
    """

    __module__ = "nftower"

    poll_interval: float = 30.0
    timeout: float | None = None
    unknown_timeout: float | None = 3600.0
    target: str = SUCCEEDED

    def __post_init__(self) -> None:
        _seconds("poll_interval", self.poll_interval)
        if self.timeout is not None:
            _seconds("timeout", self.timeout)
        if self.unknown_timeout is not None:
            _seconds("unknown_timeout", self.unknown_timeout, allow_zero=True)
        try:
            object.__setattr__(self, "target", check_target(self.target))
        except ValueError as exc:
            raise TowerConfigError(str(exc)) from None


@dataclass(frozen=True)
class FollowOutcome:
    """How following one run ended, with the last :class:`Workflow` seen (``None`` only when
    the deadline passed before any status was read).

    Example (against the bundled emulator):
        >>> from nftower import TowerClient
        >>> from nftower.testing import TowerEmulator
        >>> with TowerEmulator(speed=50) as emu, TowerClient(
        ...     emu.url, emu.token, emu.workspace_id
        ... ) as tower:
        ...     run_id = tower.launch("hello", params={"emulator_outcome": "fail"})
        ...     outcome = tower.follow(run_id, poll_interval=0.1)
        >>> outcome.kind, outcome.status
        (<Ending.FAILED: 'failed'>, 'FAILED')
    """

    __module__ = "nftower"

    kind: Ending
    workflow: Workflow | None
    workflow_id: str
    rules: FollowRules
    #: seconds from the start of the follow to its end
    waited: float
    #: seconds the run had been neither active nor finished when the follow ended
    unknown_for: float = 0.0

    @property
    def status(self) -> str | None:
        """The last status seen (a plain string), ``None`` if none was."""
        if self.workflow is None or self.workflow.status is None:
            return None
        return self.workflow.status.value

    def explain(self) -> str:
        """How the follow ended, in one sentence (the adapters' messages start with it).

        Example:
            >>> outcome = FollowOutcome(
            ...     Ending.DEADLINE, Workflow(status="RUNNING"), "w1", FollowRules(timeout=60), 60.0
            ... )
            >>> outcome.explain()
            'Run w1 did not finish within 60 s (last status RUNNING)'
        """
        wid, rules = self.workflow_id, self.rules
        if self.kind is Ending.DEADLINE:
            return (
                f"Run {wid} did not finish within {rules.timeout or self.waited:g} s "
                f"(last status {self.status or 'unknown'})"
            )
        if self.kind is Ending.UNKNOWN:
            name = (self.workflow.run_name if self.workflow else None) or "?"
            return (
                f"Run {name} ({wid}) has reported status {self.status or 'missing'} for "
                f"{self.unknown_for:.0f} s (unknown_timeout={rules.unknown_timeout:g} s): "
                "Tower has lost track of it"
            )
        if self.kind is Ending.SUCCEEDED:
            return f"Run {wid} reached {self.status}"
        return f"Run {wid} ended {self.status}"


class Follower:
    """The rule of following one run (see the module); ``clock`` is a monotonic clock."""

    def __init__(self, workflow_id: str, rules: FollowRules, clock: Callable[[], float]) -> None:
        self.workflow_id = workflow_id
        self.rules = rules
        self._clock = clock
        self._started = clock()
        self._deadline = None if rules.timeout is None else self._started + rules.timeout
        self._unknown_since: float | None = None
        self.last: Workflow | None = None

    def is_change(self, workflow: Workflow) -> bool:
        """True for the first reading, for each status different from the last one, and for
        each change of the task counts (:class:`~nftower.TaskCounts`) a reading carries."""
        if self.last is None or workflow.status != self.last.status:
            return True
        counts = TaskCounts.of(workflow)
        return counts is not None and counts != TaskCounts.of(self.last)

    def observe(self, workflow: Workflow) -> FollowOutcome | None:
        """Take one status reading; the outcome if the wait ends with it."""
        self.last = workflow
        now = self._clock()
        kind = ending(workflow.status, self.rules.target)
        if kind is not None:
            return self._outcome(kind, now)
        if is_active(workflow.status):
            self._unknown_since = None
        elif self._unknown_since is None:
            self._unknown_since = now
        return self._timed_out(now)

    def check(self) -> FollowOutcome | None:
        """The outcome if a time limit has passed (UNKNOWN too long first, then the deadline)."""
        return self._timed_out(self._clock())

    def time_left(self) -> float | None:
        """Seconds until a time limit could end the wait (``None``: none can)."""
        now = self._clock()
        limits = [] if self._deadline is None else [self._deadline - now]
        if self._unknown_since is not None and self.rules.unknown_timeout is not None:
            limits.append(self._unknown_since + self.rules.unknown_timeout - now)
        return max(0.0, min(limits)) if limits else None

    def next_poll(self) -> float:
        """Seconds to sleep before the next status check: the poll interval, cut to the
        deadline."""
        if self._deadline is None:
            return self.rules.poll_interval
        return max(0.0, min(self.rules.poll_interval, self._deadline - self._clock()))

    def _timed_out(self, now: float) -> FollowOutcome | None:
        limit = self.rules.unknown_timeout
        since = self._unknown_since
        if since is not None and limit is not None and now - since >= limit:
            return self._outcome(Ending.UNKNOWN, now)
        if self._deadline is not None and now >= self._deadline:
            return self._outcome(Ending.DEADLINE, now)
        return None

    def _outcome(self, kind: Ending, now: float) -> FollowOutcome:
        since = self._unknown_since
        return FollowOutcome(
            kind=kind,
            workflow=self.last,
            workflow_id=self.workflow_id,
            rules=self.rules,
            waited=now - self._started,
            unknown_for=0.0 if since is None or kind is not Ending.UNKNOWN else now - since,
        )


def follow(
    ctx: FlowContext,
    workflow_id: str,
    rules: FollowRules,
    on_change: Callable[[Workflow], Any] | None = None,
) -> Flow[FollowOutcome]:
    """Describe the run every ``poll_interval`` until :class:`Follower` ends the wait.

    ``MAX_POLL_ERRORS`` failed status checks in a row are tolerated; the next one is raised.
    A run that is not found before it was ever seen (a wrong id) is raised at once.
    """
    ws = yield from workspace_id(ctx)
    follower = Follower(workflow_id, rules, ctx.clock)
    errors = 0
    while True:
        try:
            data = yield from on_run(ctx, ws, workflow_id, ep.describe_workflow(ws, workflow_id))
        except _TRANSIENT as exc:
            errors += 1
            if errors > MAX_POLL_ERRORS or (
                isinstance(exc, RunNotFoundError) and follower.last is None
            ):
                raise
            logger.warning(
                "Status check of run %s failed (%d/%d in a row), will poll again: %s",
                workflow_id,
                errors,
                MAX_POLL_ERRORS,
                exc,
            )
        else:
            errors = 0
            workflow = Workflow.model_validate(data or {})
            if on_change is not None and follower.is_change(workflow):
                yield Notify(on_change, workflow)
            if (outcome := follower.observe(workflow)) is not None:
                return outcome
        if (outcome := follower.check()) is not None:
            return outcome
        yield Sleep(follower.next_poll())


def wait_result(outcome: FollowOutcome, web_url: str) -> Workflow:
    """``wait()``'s translation: the finished run, or the error of a wait that did not see
    the run finish (:class:`WaitTimeoutError`, :class:`WorkflowFailedError` for UNKNOWN)."""
    workflow, wid = outcome.workflow, outcome.workflow_id
    if outcome.kind is Ending.DEADLINE or workflow is None:
        raise WaitTimeoutError(
            f"{outcome.explain()}; it keeps running in Tower",
            operation="GET /workflow/{workflowId}",
            workflow_id=wid,
            last_status=outcome.status,
        )
    if outcome.kind is Ending.UNKNOWN:
        url = run_url(web_url, workflow)
        raise WorkflowFailedError(
            outcome.explain() + (f"; see {url}" if url else ""),
            workflow_id=wid,
            status=outcome.status or "missing",
            run_url=url,
            error_message=workflow.error_message,
            exit_status=workflow.exit_status,
        )
    return workflow


def _seconds(name: str, value: object, *, allow_zero: bool = False) -> None:
    try:
        check_seconds(name, value, allow_zero=allow_zero)
    except ValueError as exc:
        raise TowerConfigError(str(exc)) from None
