"""The launch request: the pipeline resolved (launchpad name, ``owner/repo`` or URL), the
compute environment chosen, labels resolved, and the request merged over a saved launch.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from . import _endpoints as ep
from ._exceptions import TowerConfigError
from ._flows import Flow, FlowContext
from ._launch_options import KNOWN_LAUNCH_FIELDS, LaunchOptions, dump_params, parse_params_text
from ._lookups import collect, find_pipeline, get_pipeline
from ._models import Label
from ._resources import ComputeEnv, Pipeline

__all__ = [
    "apply_options",
    "build_request",
    "choose_compute_env",
    "copy_launch",
    "resolve_labels",
    "use_compute_env",
]

logger = logging.getLogger("nftower")

#: Saved-launch fields not carried into a new launch: a copy is a fresh launch, not a resume of
#: the saved session, and the saved schema and date belong to the saved record.
_NOT_COPIED = frozenset({"dateCreated", "runName", "sessionId", "resume", "pipelineSchemaId"})
#: GitHub's short form of a repository, ``owner/repo``, as Nextflow and Tower accept it.
_SHORT_FORM = re.compile(r"^[A-Za-z\d][\w.-]*/[\w.-]*[\w-]$")

# --- building the request ------------------------------------------------------------------------


def _is_url(pipeline: str | int) -> bool:
    """A Git URL (``https://``, ``http://``, ``file:/``, ``git@host:``): a repository, never a
    launchpad name."""
    return isinstance(pipeline, str) and ("://" in pipeline or pipeline.startswith("git@"))


def _is_short_form(pipeline: str | int) -> bool:
    return isinstance(pipeline, str) and bool(_SHORT_FORM.match(pipeline))


def _pipeline_kind(ctx: FlowContext, pipeline: str | int) -> Flow[Pipeline | None]:
    """The launchpad pipeline to launch, or ``None`` to launch ``pipeline`` as a repository.

    ``owner/repo`` is a launchpad pipeline of that exact name if there is one, else the GitHub
    repository; which one was chosen is logged.
    """
    if _is_url(pipeline):
        return None
    if not _is_short_form(pipeline):
        return (yield from get_pipeline(ctx, pipeline))
    found = yield from find_pipeline(ctx, str(pipeline))
    if found is None:
        logger.info(
            "No launchpad pipeline is named %r: launching it as the GitHub repository %s",
            pipeline,
            f"https://github.com/{pipeline}",
        )
    else:
        logger.info(
            "Launching the launchpad pipeline named %r (id %s), not the repository of that name",
            pipeline,
            found.pipeline_id,
        )
    return found


def copy_launch(saved: Mapping[str, Any]) -> dict[str, Any]:
    """The launch fields of a saved launch (or a run's launch) to launch again: no nulls, and
    none of :data:`_NOT_COPIED`."""
    return {
        key: value
        for key, value in saved.items()
        if key in KNOWN_LAUNCH_FIELDS and key not in _NOT_COPIED and value is not None
    }


def _compute_envs(ws: int | None, status: str | None) -> Flow[list[ComputeEnv]]:
    data = yield ep.list_compute_envs(ws, status=status)
    return [ComputeEnv.model_validate(e) for e in (data or {}).get("computeEnvs") or []]


def choose_compute_env(ctx: FlowContext, ws: int | None, wanted: str | None) -> Flow[ComputeEnv]:
    """The AVAILABLE compute environment named or with id ``wanted``; the primary one when
    ``None``. Listed with ``status=AVAILABLE`` as tw lists them; a missing or unavailable one is
    a :class:`TowerConfigError` before the launch."""
    envs = yield from _compute_envs(ws, "AVAILABLE")

    def pick(among: list[ComputeEnv]) -> list[ComputeEnv]:
        if wanted is None:
            return [e for e in among if e.primary]
        return [e for e in among if e.id == wanted] or [e for e in among if e.name == wanted]

    chosen = pick(envs)
    if chosen:
        return chosen[0]
    unavailable = pick((yield from _compute_envs(ws, None)))
    known = ", ".join(sorted(f"{e.name} ({e.id})" for e in envs)) or "none"
    if unavailable:
        env = unavailable[0]
        role = "primary compute environment" if wanted is None else "compute environment"
        what = f"its {role} {env.name!r} ({env.id}) is {env.status or 'not AVAILABLE'}"
    elif wanted is None:
        what = "no primary compute environment; pass compute_env="
    else:
        what = f"no compute environment with id or name {wanted!r}"
    raise TowerConfigError(
        f"Cannot launch in workspace {ws or 'personal'}: {what} (available: {known})"
    )


def use_compute_env(
    ctx: FlowContext, ws: int | None, request: dict[str, Any], wanted: str | None
) -> Flow[None]:
    """Launch ``request`` in another compute environment than its saved one (``wanted``, else
    the primary one): that environment's ``workDir``, and its pre- / post-run scripts where it
    has them (options given by the caller are applied later and win)."""
    env = yield from choose_compute_env(ctx, ws, wanted)
    settings = yield from _env_settings(ws, env)
    request["computeEnvId"] = env.id
    request["workDir"] = settings["workDir"]
    request.update((key, value) for key, value in settings.items() if value)


def _env_settings(ws: int | None, env: ComputeEnv) -> Flow[dict[str, Any]]:
    """``workDir`` and pre- / post-run scripts of a compute environment (its description)."""
    described = ComputeEnv.model_validate((yield ep.describe_compute_env(ws, env.id or "")) or {})
    config = described.config or {}
    return {
        "workDir": described.effective_work_dir or env.effective_work_dir,
        "preRunScript": config.get("preRunScript"),
        "postRunScript": config.get("postRunScript"),
    }


def resolve_labels(ctx: FlowContext, ws: int | None, opts: LaunchOptions) -> Flow[list[int]]:
    """Label ids for the launch: ids as given, names looked up (created with
    ``create_labels=True``)."""
    ids = [label for label in opts.labels if isinstance(label, int)]
    names = [label for label in opts.labels if isinstance(label, str)]
    if not names:
        return ids
    existing = yield from collect(
        lambda offset: ep.list_labels(ws, search=None, offset=offset),
        "labels",
        Label.model_validate,
    )
    by_key = {(lab.name, lab.value): lab.id for lab in existing if lab.id is not None}
    missing: list[tuple[str, str | None]] = []
    for text in names:
        name, _, value = text.partition("=")
        key = (name, value or None)
        if key in by_key:
            ids.append(by_key[key])  # type: ignore[arg-type]
        else:
            missing.append(key)
    if missing and not opts.create_labels:
        shown = ", ".join(n if v is None else f"{n}={v}" for n, v in missing)
        raise TowerConfigError(
            f"Label(s) not found in workspace {ws or 'personal'}: {shown}; "
            "pass create_labels=True to create them"
        )
    for label_name, label_value in missing:
        created = yield ep.create_label(ws, label_name, label_value)
        ids.append(int((created or {})["id"]))
    return ids


def apply_options(
    request: dict[str, Any], opts: LaunchOptions, label_ids: list[int]
) -> dict[str, Any]:
    """``request`` with the caller's options over it (params merged or replaced), no nulls."""
    if opts.params is not None:
        base = {} if opts.params_mode == "replace" else parse_params_text(request.get("paramsText"))
        request["paramsText"] = dump_params({**base, **opts.params})
    overrides = {
        "runName": opts.run_name,
        "revision": opts.revision,
        "workDir": opts.work_dir,
        "configProfiles": opts.config_profiles,
        "configText": opts.config_text,
        "preRunScript": opts.pre_run_script,
        "postRunScript": opts.post_run_script,
        "pullLatest": opts.pull_latest,
        "stubRun": opts.stub_run,
        "labelIds": label_ids or None,
        **opts.extra,
    }
    request.update((key, value) for key, value in overrides.items() if value is not None)
    return {key: value for key, value in request.items() if value is not None}


def build_request(
    ctx: FlowContext, ws: int | None, pipeline: str | int, opts: LaunchOptions
) -> Flow[tuple[dict[str, Any], int | None]]:
    """The ``WorkflowLaunchRequest`` and its ``sourceWorkspaceId`` (shared pipelines)."""
    source_ws: int | None = None
    found = yield from _pipeline_kind(ctx, pipeline)
    if found is None:
        env = yield from choose_compute_env(ctx, ws, opts.compute_env)
        request: dict[str, Any] = {
            "pipeline": pipeline,
            "computeEnvId": env.id,
            **(yield from _env_settings(ws, env)),
        }
    else:
        if found.workspace_id is not None and ws is not None and found.workspace_id != ws:
            source_ws = found.workspace_id
        data = yield ep.describe_pipeline_launch(
            ws, found.pipeline_id or 0, source_workspace_id=source_ws
        )
        saved = (data or {}).get("launch") or {}
        request = copy_launch(saved)
        saved_env = ComputeEnv.model_validate(saved.get("computeEnv") or {})
        if opts.compute_env is not None or source_ws is not None or not saved_env.id:
            # a shared pipeline's saved environment belongs to its own workspace
            yield from use_compute_env(ctx, ws, request, opts.compute_env)
        else:
            request["computeEnvId"] = saved_env.id
            request["workDir"] = request.get("workDir") or saved_env.effective_work_dir
    label_ids = yield from resolve_labels(ctx, ws, opts)
    return apply_options(request, opts, label_ids), source_ws
