"""The ``search`` query of ``GET /workflow``, as Tower reads it: ``key:value`` tokens match
exactly, and the rest, joined into one string, is a single partial match over the run name,
project name, session id and manifest name; all ANDed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from fnmatch import fnmatchcase

from ._errors import ApiError

KEYS = {
    "runname": "runName",
    "status": "status",
    "label": "label",
    "workflowid": "workflowId",
    "sessionid": "sessionId",
    "projectname": "projectName",
    "username": "userName",
    "after": "after",
    "before": "before",
    "is": "is",
}
_TOKEN = re.compile(r'(?:(?P<key>[A-Za-z]+):)?(?P<value>"[^"]*"|\S+)')


@dataclass
class RunFacts:
    """What a search token can look at for one run."""

    id: str
    run_name: str
    session_id: str
    project_name: str
    user_name: str
    status: str
    submitted: float
    labels: Iterable[str] = ()
    manifest_name: str = ""


@dataclass
class WorkflowQuery:
    """A parsed search string.

    >>> q = WorkflowQuery.parse("nf-core status:failed rnaseq runName:nightly")
    >>> q.text, q.filters
    ('nf-core rnaseq', [('status', 'failed'), ('runName', 'nightly')])
    """

    text: str = ""
    filters: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, search: str | None) -> WorkflowQuery:
        query = cls()
        free: list[str] = []
        for match in _TOKEN.finditer(search or ""):
            key, value = match.group("key"), match.group("value").strip('"')
            canonical = KEYS.get(key.lower()) if key else None
            if canonical is None:
                free.append(match.group(0).strip('"'))
            else:
                if canonical in ("after", "before"):
                    _parse_date(value, canonical)
                query.filters.append((canonical, value))
        query.text = " ".join(free)
        return query

    def matches(self, run: RunFacts) -> bool:
        return (not self.text or _text_matches(self.text, run)) and all(
            _filter_matches(key, value, run) for key, value in self.filters
        )


def _partial(text: str, value: str) -> bool:
    """``*text*`` (``*`` in ``text`` is a wildcard too), ignoring case."""
    pattern = f"*{text.lower().strip('*')}*".replace("[", "[[]")
    return fnmatchcase(value.lower(), pattern)


def _exact(wanted: str, value: str) -> bool:
    return wanted.lower() == value.lower()


def _text_matches(text: str, run: RunFacts) -> bool:
    fields = (run.run_name, run.project_name, run.session_id, run.manifest_name)
    return any(_partial(text, value) for value in fields if value)


def _parse_date(value: str, key: str) -> date:
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        raise ApiError(400, f"Invalid search date '{key}:{value}': expected YYYY-MM-DD") from None


def _filter_matches(key: str, value: str, run: RunFacts) -> bool:
    if key == "status":
        return run.status.lower() == value.lower()
    if key in ("after", "before"):
        day = datetime.fromtimestamp(run.submitted, tz=timezone.utc).date()
        bound = _parse_date(value, key)
        return day >= bound if key == "after" else day <= bound
    if key == "label":
        return any(_exact(value, name) for name in run.labels)
    if key == "is":
        return False  # starring is not emulated: no run is starred
    attribute = {
        "runName": run.run_name,
        "workflowId": run.id,
        "sessionId": run.session_id,
        "projectName": run.project_name,
        "userName": run.user_name,
    }[key]
    return _exact(value, attribute)
