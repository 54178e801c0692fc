"""The ``search`` query of ``GET /workflow``: free text plus ``key:value`` tokens (ANDed)."""

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


@dataclass
class WorkflowQuery:
    """A parsed search string.

    >>> q = WorkflowQuery.parse("hello status:failed runName:nightly-*")
    >>> q.text, q.filters
    (['hello'], [('status', 'failed'), ('runName', 'nightly-*')])
    """

    text: list[str] = field(default_factory=list)
    filters: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, search: str | None) -> WorkflowQuery:
        query = cls()
        for match in _TOKEN.finditer(search or ""):
            key, value = match.group("key"), match.group("value").strip('"')
            canonical = KEYS.get(key.lower()) if key else None
            if canonical is None:
                query.text.append(match.group(0).strip('"'))
            else:
                if canonical in ("after", "before"):
                    _parse_date(value, canonical)
                query.filters.append((canonical, value))
        return query

    def matches(self, run: RunFacts) -> bool:
        return all(_text_matches(term, run) for term in self.text) and all(
            _filter_matches(key, value, run) for key, value in self.filters
        )


def _like(pattern: str, value: str, *, partial: bool) -> bool:
    pattern, value = pattern.lower(), value.lower()
    if partial and not pattern.startswith("*"):
        pattern = "*" + pattern
    if partial and not pattern.endswith("*"):
        pattern += "*"
    return fnmatchcase(value, pattern.replace("[", "[[]"))


def _text_matches(term: str, run: RunFacts) -> bool:
    fields = (run.project_name, run.run_name, run.session_id)
    return any(_like(term, value, partial=True) for value in fields)


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
        return any(_like(value, name, partial=False) for name in run.labels)
    if key == "is":
        return False  # starring is not emulated: no run is starred
    attribute = {
        "runName": run.run_name,
        "workflowId": run.id,
        "sessionId": run.session_id,
        "projectName": run.project_name,
        "userName": run.user_name,
    }[key]
    return _like(value, attribute, partial=False)
