"""The look-ups flows build on: the workspace (an ``"org/workspace"`` name resolved once),
pagination, launchpad pipelines and runs by name. The first four are client operations too,
written here once (``ctx`` becomes ``self``).

Example (driving a flow by hand, as the tests do; ``Shared`` steps ask the host's records
whether another client resolved the name a moment ago, see :mod:`nftower._lookup_cache`):
    >>> from nftower import TowerConfig
    >>> from nftower.ratelimit._records import MemoryRecords
    >>> records = MemoryRecords()
    >>> def next_call(flow, answer=None):
    ...     step = flow.send(answer)
    ...     while hasattr(step, "action"):  # a Shared step: the records answer it
    ...         step = flow.send(step.action(records))
    ...     return step
    >>> cfg = TowerConfig(token="tower-access-token", workspace="acme/prod")
    >>> flow = workspace_id(FlowContext(cfg))
    >>> next_call(flow).operation
    'GET /user-info'
    >>> next_call(flow, {"user": {"id": 1, "userName": "ada"}}).operation
    'GET /user/{userId}/workspaces'
    >>> try:
    ...     next_call(flow, {"orgsAndWorkspaces": [
    ...         {"orgName": "acme", "workspaceName": "prod", "workspaceId": 42}]})
    ... except StopIteration as done:
    ...     print(done.value)
    42
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any, TypeVar

from . import _endpoints as ep
from ._endpoints import PAGE_SIZE, Call
from ._exceptions import NotFoundError, TowerConfigError
from ._flows import Emit, Flow, FlowContext, Listing
from ._lookup_cache import remembered
from ._models import Workflow
from ._resources import Pipeline, UserInfo, Workspace

__all__ = [
    "attempt_number",
    "close_matches",
    "collect",
    "created_at",
    "find_pipeline",
    "find_runs",
    "get_pipeline",
    "iterate",
    "list_workspaces",
    "listing",
    "user_info",
    "workspace_id",
]

T = TypeVar("T")


# --- workspace -----------------------------------------------------------------------------------


def workspace_id(ctx: FlowContext, /) -> Flow[int | None]:
    """The configured workspace id (``"org/workspace"`` resolved once); ``None`` = personal."""
    if ctx.resolved_workspace:
        return ctx.resolved_workspace[0]
    wanted = ctx.config.workspace_name
    if wanted is None:
        resolved = ctx.config.workspace_id
    else:  # shared by the host's clients for a while (see _lookup_cache)
        name = "/".join(wanted)
        resolved = yield from remembered(ctx, "workspace", name, _resolve(ctx, wanted), int, int)
    ctx.resolved_workspace[:] = [resolved]
    return resolved


def _resolve(ctx: FlowContext, wanted: tuple[str, str]) -> Flow[int | None]:
    """The id of the workspace named ``(org, workspace)`` among the token's workspaces."""
    workspaces = yield from list_workspaces(ctx)
    matches = [
        ws.workspace_id
        for ws in workspaces
        if (ws.org_name, ws.workspace_name) == wanted and ws.workspace_id is not None
    ]
    if not matches:
        raise TowerConfigError(_unknown_workspace("/".join(wanted), workspaces))
    return matches[0]


def _unknown_workspace(wanted: str, workspaces: list[Workspace]) -> str:
    """The error text for a workspace name the token has none of, with close matches."""
    names = sorted(ws.full_name for ws in workspaces if ws.full_name)
    close = close_matches(wanted, names)
    hint = f"close matches: {', '.join(close)}; " if close else ""
    hint += f"all: {', '.join(names) or 'none'}"
    return (
        f"Workspace {wanted!r} not found among this token's workspaces ({hint}); names are "
        "case-sensitive, or pass the numeric workspace id"
    )


def list_workspaces(ctx: FlowContext, /) -> Flow[list[Workspace]]:
    """The workspaces of the token's user."""
    user = yield from user_info(ctx)
    if user.id is None:
        raise TowerConfigError("GET /user-info returned no user id; cannot list workspaces")
    data = yield ep.user_workspaces(user.id)
    entries = (data or {}).get("orgsAndWorkspaces") or []
    return [ws for ws in map(Workspace.model_validate, entries) if ws.workspace_id is not None]


def user_info(ctx: FlowContext, /) -> Flow[UserInfo]:
    """The token's user (``GET /user-info``): a cheap credentials check."""
    return UserInfo.model_validate((yield ep.user_info()) or {})


# --- pagination ----------------------------------------------------------------------------------


def _page(data: Any, key: str, offset: int) -> tuple[list[Any], bool]:
    """Items of one page and whether another page may follow."""
    body = data if isinstance(data, dict) else {}
    items = body.get(key) or []
    total = body.get("totalSize", body.get("total"))
    more = len(items) >= PAGE_SIZE
    if body.get("hasMore") is False or (isinstance(total, int) and offset + len(items) >= total):
        more = False
    return items, more


def iterate(make_call: Callable[[int], Call], key: str, parse: Callable[[Any], T]) -> Listing[T]:
    """Emit every item of a paginated listing, fetching pages lazily (``max=100`` each)."""
    offset = 0
    while True:
        items, more = _page((yield make_call(offset)), key, offset)
        for item in items:
            yield Emit(parse(item))
        if not more:
            return
        offset += len(items)


def collect(
    make_call: Callable[[int], Call],
    key: str,
    parse: Callable[[Any], T],
    until: Callable[[T], bool] | None = None,
) -> Flow[list[T]]:
    """Every item of a paginated listing (stops at the first item matching ``until``)."""
    found: list[T] = []
    offset = 0
    while True:
        items, more = _page((yield make_call(offset)), key, offset)
        for raw in items:
            item = parse(raw)
            found.append(item)
            if until is not None and until(item):
                return found
        if not more:
            return found
        offset += len(items)


def listing(
    ctx: FlowContext,
    endpoint: Callable[..., Call],
    key: str,
    parse: Callable[[Any], T],
    search: str | None,
) -> Listing[T]:
    """Emit every item of a searchable workspace listing (``endpoint(ws, search=, offset=)``)."""
    ws = yield from workspace_id(ctx)
    yield from iterate(lambda offset: endpoint(ws, search=search, offset=offset), key, parse)


# --- lookups -------------------------------------------------------------------------------------


def get_pipeline(ctx: FlowContext, /, name_or_id: str | int) -> Flow[Pipeline]:
    """A launchpad pipeline by id or exact name, including pipelines shared with the workspace
    by other workspaces; :class:`NotFoundError` listing close names if there is none,
    :class:`TowerConfigError` listing the ids if several have that name."""
    ws = yield from workspace_id(ctx)
    if isinstance(name_or_id, int) or str(name_or_id).strip().isdigit():
        data = yield ep.describe_pipeline(ws, int(name_or_id))
        return Pipeline.model_validate(data or {})
    name = str(name_or_id).strip()
    found = yield from find_pipeline(ctx, name)
    if found is not None:
        return found
    every = yield from collect(
        lambda offset: ep.list_pipelines(ws, search=None, offset=offset, visibility="all"),
        "pipelines",
        Pipeline.model_validate,
    )
    names = sorted({p.name for p in every if p.name})
    close = close_matches(name, names)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise NotFoundError(
        f"No launchpad pipeline named exactly {name!r} in workspace {ws or 'personal'}{hint}",
        status_code=404,
        operation="GET /pipelines",
    )


def find_pipeline(ctx: FlowContext, /, name: str) -> Flow[Pipeline | None]:
    """The launchpad pipeline named exactly ``name`` (own or shared), ``None`` if there is none;
    :class:`TowerConfigError` listing their ids when several have that name."""
    ws = yield from workspace_id(ctx)
    return (  # shared by the host's clients for a while (see _lookup_cache)
        yield from remembered(
            ctx,
            "pipeline",
            f"{ws}\n{name}",
            _find_pipeline(ws, name),
            _dump,
            Pipeline.model_validate,
        )
    )


def _dump(pipeline: Pipeline) -> dict[str, Any]:
    return pipeline.model_dump(mode="json", by_alias=True, exclude_none=True)


def _find_pipeline(ws: int | None, name: str) -> Flow[Pipeline | None]:
    """The look-up :func:`find_pipeline` shares (asked of Tower, not remembered)."""
    found = yield from collect(
        lambda offset: ep.list_pipelines(ws, search=name, offset=offset, visibility="all"),
        "pipelines",
        Pipeline.model_validate,
    )
    exact = [p for p in found if p.name == name and not p.deleted]
    if len(exact) > 1:
        listed = ", ".join(
            f"{p.pipeline_id} ({p.org_name}/{p.workspace_name})"
            if p.workspace_name
            else str(p.pipeline_id)
            for p in exact
        )
        raise TowerConfigError(
            f"{len(exact)} launchpad pipelines are named {name!r} in workspace "
            f"{ws or 'personal'}: ids {listed}; pass the id of the one to launch"
        )
    return exact[0] if exact else None


def close_matches(wanted: str, names: list[str], n: int = 5) -> list[str]:
    """Names like ``wanted``: the same but for case, then :func:`difflib.get_close_matches`.

    >>> close_matches("Hello", ["hello", "rnaseq", "hallo"])
    ['hello', 'hallo']
    """
    same_case = [name for name in names if name.lower() == wanted.lower() and name != wanted]
    folded = {name.lower(): name for name in names}
    similar = difflib.get_close_matches(wanted.lower(), list(folded), n=n, cutoff=0.6)
    return list(dict.fromkeys([*same_case, *(folded[s] for s in similar)]))[:n]


def find_runs(ctx: FlowContext, run_name: str, *, attempts: bool) -> Flow[list[Workflow]]:
    """Runs named exactly ``run_name`` (or ``run_name-rN`` too when ``attempts``)."""
    ws = yield from workspace_id(ctx)
    suffix = r"(?:-r[0-9]+)?" if attempts else ""
    pattern = re.compile(re.escape(run_name) + suffix)
    runs = yield from collect(
        lambda offset: ep.list_workflows(ws, search=run_name, offset=offset),
        "workflows",
        Workflow.model_validate,
    )
    return [
        run for run in runs if run.run_name and pattern.fullmatch(run.run_name) and not run.deleted
    ]


def attempt_number(run_name: str, base: str) -> int:
    """``0`` for ``base`` itself, ``N`` for ``base-rN``."""
    rest = run_name[len(base) :]
    return int(rest[2:]) if rest.startswith("-r") and rest[2:].isdigit() else 0


def created_at(run: Workflow) -> float:
    """When a run was created (a sort key for "newest"; ``0.0`` when unknown)."""
    when = run.date_created or run.submit or run.start
    return when.timestamp() if when else 0.0
