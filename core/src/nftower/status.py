"""Run status names and how following a run can end, with no dependency at all.

The Airflow provider imports this module where DAGs are parsed, so it loads neither pydantic
nor httpx: statuses are plain strings here (``WorkflowStatus`` members are equal to them).

Example:
    >>> from nftower import status
    >>> status.is_terminal("FAILED"), status.is_active("UNKNOWN"), status.name(None)
    (True, False, 'UNKNOWN')
    >>> status.reached("SUCCEEDED", target="RUNNING"), status.ending("CANCELLED")
    (True, <Ending.CANCELLED: 'cancelled'>)
    >>> status.needs_relaunch("FAILED"), status.needs_relaunch("UNKNOWN")
    (True, False)
"""

from __future__ import annotations

import math
from enum import Enum

__all__ = [
    "ACTIVE",
    "CANCELLED",
    "ENDED_BADLY",
    "FAILED",
    "MAX_POLL_ERRORS",
    "RUNNING",
    "SUBMITTED",
    "SUCCEEDED",
    "TARGETS",
    "TERMINAL",
    "UNKNOWN",
    "Ending",
    "check_seconds",
    "check_target",
    "ending",
    "is_active",
    "is_terminal",
    "name",
    "needs_relaunch",
    "reached",
]

SUBMITTED = "SUBMITTED"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
UNKNOWN = "UNKNOWN"

#: Statuses of a run that is still going.
ACTIVE = frozenset({SUBMITTED, RUNNING})
#: Statuses of a run that will not change any more.
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})
#: Status checks in a row a wait tolerates to fail (each one already retried): transport and
#: server errors, and answers that a run seen before is not found. The next one is raised.
MAX_POLL_ERRORS = 3
#: Statuses of a run that ended without success: the only ones ``ensure_run`` launches again for.
ENDED_BADLY = frozenset({FAILED, CANCELLED})
#: Statuses a wait may stop at, in the order a run passes through them.
TARGETS = (SUBMITTED, RUNNING, SUCCEEDED)


class Ending(str, Enum):
    """How following a run ended (the ``kind`` of :class:`nftower.FollowOutcome`)."""

    __module__ = "nftower.status"

    SUCCEEDED = "succeeded"  #: the run reached the target status (SUCCEEDED by default)
    FAILED = "failed"  #: the run ended FAILED
    CANCELLED = "cancelled"  #: the run ended CANCELLED
    DEADLINE = "deadline"  #: the deadline passed while the run was still going
    UNKNOWN = "unknown"  #: the run was neither active nor finished for ``unknown_timeout`` s

    def __str__(self) -> str:
        return self.value


def name(status: object) -> str:
    """A status as its plain string (a ``WorkflowStatus`` member or a string); ``None`` (no
    status reported) is ``"UNKNOWN"``."""
    if status is None:
        return UNKNOWN
    return str(getattr(status, "value", status))


def is_active(status: object) -> bool:
    """SUBMITTED or RUNNING."""
    return name(status) in ACTIVE


def is_terminal(status: object) -> bool:
    """SUCCEEDED, FAILED or CANCELLED."""
    return name(status) in TERMINAL


def needs_relaunch(status: object) -> bool:
    """FAILED or CANCELLED: a run that ``ensure_run`` resumes or launches again.

    Every other status is reattached to: an active or succeeded run, and also UNKNOWN (Tower
    lost contact with the run, but its head job may still be running: a second launch could
    run the pipeline twice), no status at all, or a status newer than this client.

    >>> [needs_relaunch(s) for s in ("FAILED", "CANCELLED", "UNKNOWN", "RUNNING", None)]
    [True, True, False, False, False]
    """
    return name(status) in ENDED_BADLY


def check_seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    """``value`` as seconds; ``ValueError`` naming ``name`` unless it is a finite number above
    zero (or zero, with ``allow_zero``).

    >>> check_seconds("poll_interval", 30)
    30.0
    >>> check_seconds("poll_interval", float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: poll_interval must be a finite number of seconds, got nan
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and not math.isfinite(value):  # type: ignore[arg-type]
        limit = "" if name == "poll_interval" else "; None means no limit"
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}{limit}")
    if not ok or value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_target(target: object) -> str:
    """A target status, upper-cased; ``ValueError`` unless it is one of :data:`TARGETS`.

    >>> check_target("running")
    'RUNNING'
    """
    value = str(target).upper()
    if value not in TARGETS:
        raise ValueError(f"target_status must be one of {list(TARGETS)}, got {target!r}")
    return value


def reached(status: object, target: str = SUCCEEDED) -> bool:
    """True once a run with ``status`` has reached ``target`` (one of :data:`TARGETS`)."""
    current = name(status)
    return current in TARGETS and TARGETS.index(current) >= TARGETS.index(target)


def ending(status: object, target: str = SUCCEEDED) -> Ending | None:
    """How a run with ``status`` ends a wait for ``target`` by its status alone (``None``: it
    does not; time limits are :class:`nftower.FollowOutcome`'s business)."""
    if reached(status, target):
        return Ending.SUCCEEDED
    current = name(status)
    if current == FAILED:
        return Ending.FAILED
    if current == CANCELLED:
        return Ending.CANCELLED
    return None
