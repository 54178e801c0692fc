"""The Tower run name of a task instance: short, readable, deterministic (no I/O)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def _day(context: Any) -> str | None:
    """The DAG run's logical date (or, without one, the day it was triggered for)."""
    when = context.get("logical_date")
    if when is None:
        when = getattr(context.get("dag_run"), "run_after", None)
    return when.strftime("%Y-%m-%d") if isinstance(when, datetime) else None


def task_run_names(context: Any) -> tuple[str, str]:
    """This task instance's run name, and the name earlier versions gave it.

    The name reads ``<dag_id>-<logical date>-<task_id>[-<map index>]-<hash>``; the hash
    covers the DAG run id too, so two DAG runs of one day get two names and a retry gets the
    same one. The former name (``make_run_name(dag_id, run_id, task_id[, map_index])``) is
    still looked up, so that a run started under it is reattached.

    Example:
        >>> from datetime import datetime, timezone
        >>> from types import SimpleNamespace
        >>> ti = SimpleNamespace(dag_id="nightly_rnaseq", task_id="rnaseq", map_index=-1)
        >>> run_id = "manual__2026-12-02T17:32:34.336087+00:00"
        >>> day = datetime(2026, 12, 2, 17, 32, tzinfo=timezone.utc)
        >>> name, former = task_run_names({"ti": ti, "run_id": run_id, "logical_date": day})
        >>> name
        'nightly_rnaseq-2026-12-02-rnaseq-04985a10'
        >>> former
        'nightly_rnaseq-manual_2026-12-02t17-32-34-336087-00-00-rnaseq'
    """
    from nftower import make_run_name, short_run_name

    ti = context["ti"]
    run_id = str(context["run_id"])
    parts: list[str] = [ti.dag_id, ti.task_id]
    map_index = getattr(ti, "map_index", -1)
    if map_index is not None and map_index >= 0:
        parts.append(str(map_index))
    name = short_run_name(ti.dag_id, _day(context), *parts[1:], key=run_id)
    return name, make_run_name(ti.dag_id, run_id, *parts[1:])


def names_to_look_up(context: Any) -> tuple[str, list[str]]:
    """This task instance's run name, and the former names worth a search.

    Only a try after the first can find a run under a former name (one started by an earlier
    release, before the upgrade), so a first try saves that search.
    """
    name, former = task_run_names(context)
    return name, [former] if try_number(context) > 1 else []


def try_number(context: Any) -> int:
    """The task instance's try (1 for the first; Airflow counts a cleared task's tries on)."""
    return int(getattr(context["ti"], "try_number", 1) or 1)
