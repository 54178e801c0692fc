"""Task counts of a run, as Tower's progress reports them, and the one line that shows them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._models import Progress, Workflow

__all__ = ["TaskCounts", "format_duration"]


@dataclass(frozen=True)
class TaskCounts:
    """How many tasks of a run succeeded, run, failed and wait (``pending`` + ``submitted``);
    ``cached`` tasks count as done but are shown apart.

    Example:
        >>> from nftower import Progress
        >>> load = {"workflowProgress": {"succeeded": 3, "cached": 1, "running": 2, "failed": 1,
        ...                              "pending": 3}}
        >>> counts = TaskCounts.of(Progress.model_validate(load))
        >>> counts.total, str(counts)
        (10, '3 succeeded (1 cached), 2 running, 1 failed of 10 tasks')
    """

    __module__ = "nftower"

    succeeded: int = 0
    cached: int = 0
    running: int = 0
    failed: int = 0
    waiting: int = 0
    aborted: int = 0

    @property
    def total(self) -> int:
        """Every task Tower knows of."""
        return (
            self.succeeded + self.cached + self.running + self.failed + self.waiting + self.aborted
        )

    @classmethod
    def of(cls, source: Workflow | Progress | None) -> TaskCounts | None:
        """The counts a run record (its embedded progress) or a progress answer holds;
        ``None`` when it holds none (list answers carry no progress)."""
        progress = getattr(source, "progress", source) if source is not None else None
        load = getattr(progress, "workflow_progress", None)
        if load is None:
            return None

        def count(*names: str) -> int:
            return sum(getattr(load, name) or 0 for name in names)

        return cls(
            succeeded=count("succeeded"),
            cached=count("cached"),
            running=count("running"),
            failed=count("failed"),
            waiting=count("pending", "submitted"),
            aborted=count("aborted"),
        )

    def __str__(self) -> str:
        cached = f" ({self.cached} cached)" if self.cached else ""
        return (
            f"{self.succeeded} succeeded{cached}, {self.running} running, {self.failed} failed "
            f"of {self.total} tasks"
        )


def format_duration(seconds: float | None) -> str:
    """``1h 02m 03s``, ``4m 05s`` or ``6s`` (``unknown`` for None).

    Example:
        >>> format_duration(3723), format_duration(245), format_duration(6.4)
        ('1h 02m 03s', '4m 05s', '6s')
    """
    if seconds is None:
        return "unknown"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
