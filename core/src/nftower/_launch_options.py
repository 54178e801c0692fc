"""Launch options, checked before any call: params (dict or JSON / YAML file), run name,
labels, and extra ``WorkflowLaunchRequest`` fields validated against the API's field list.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ._exceptions import TowerConfigError
from ._params import check_params, is_params_text, params_from_text
from ._runname import check_run_name

__all__ = [
    "KNOWN_LAUNCH_FIELDS",
    "LaunchOptions",
    "dump_params",
    "load_params",
    "parse_params_text",
]

#: Fields of ``WorkflowLaunchRequest`` (Tower API 1.187).
KNOWN_LAUNCH_FIELDS = frozenset(
    [
        "commitId",
        "computeEnvId",
        "configProfiles",
        "configText",
        "dateCreated",
        "entryName",
        "headJobCpus",
        "headJobMemoryMb",
        "id",
        "labelIds",
        "launchContainer",
        "mainScript",
        "nextflowVersion",
        "optimizationId",
        "optimizationTargets",
        "outputDir",
        "paramsText",
        "pipeline",
        "pipelineSchemaId",
        "postRunScript",
        "preRunScript",
        "pullLatest",
        "resume",
        "revision",
        "runName",
        "schemaName",
        "sessionId",
        "stubRun",
        "syntaxParser",
        "towerConfig",
        "userSecrets",
        "workDir",
        "workspaceSecrets",
    ]
)
#: Launch fields with a named ``launch()`` argument (not accepted as extra fields).
_NAMED = {
    "pipeline": "pipeline",
    "runName": "run_name",
    "paramsText": "params",
    "revision": "revision",
    "computeEnvId": "compute_env",
    "workDir": "work_dir",
    "configProfiles": "config_profiles",
    "configText": "config_text",
    "labelIds": "labels",
    "preRunScript": "pre_run_script",
    "postRunScript": "post_run_script",
    "pullLatest": "pull_latest",
    "stubRun": "stub_run",
}
_PARAM_SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


@dataclass(frozen=True)
class LaunchOptions:
    """Checked ``launch()`` keyword arguments (built before any call)."""

    params: dict[str, Any] | None = None
    params_mode: Literal["merge", "replace"] = "merge"
    run_name: str | None = None
    revision: str | None = None
    compute_env: str | None = None
    work_dir: str | None = None
    config_profiles: list[str] | None = None
    config_text: str | None = None
    labels: list[str | int] = field(default_factory=list)
    create_labels: bool = False
    pre_run_script: str | None = None
    post_run_script: str | None = None
    pull_latest: bool | None = None
    stub_run: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        params: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        params_mode: str = "merge",
        run_name: str | None = None,
        revision: str | None = None,
        compute_env: str | None = None,
        work_dir: str | None = None,
        config_profiles: Sequence[str] | str | None = None,
        config_text: str | None = None,
        labels: Sequence[str | int] | str | None = None,
        create_labels: bool = False,
        pre_run_script: str | None = None,
        post_run_script: str | None = None,
        pull_latest: bool | None = None,
        stub_run: bool | None = None,
        **extra_launch_fields: Any,
    ) -> LaunchOptions:
        """Validate and normalise; raises :class:`TowerConfigError` on bad input."""
        if params_mode not in ("merge", "replace"):
            raise TowerConfigError(f"params_mode must be 'merge' or 'replace', got {params_mode!r}")
        if run_name is not None:
            check_run_name(run_name)
        for name, value in (
            ("revision", revision),
            ("compute_env", compute_env),
            ("work_dir", work_dir),
            ("config_text", config_text),
            ("pre_run_script", pre_run_script),
            ("post_run_script", post_run_script),
        ):
            if value is not None and not isinstance(value, str):
                raise TowerConfigError(f"{name} must be a string, got {type(value).__name__}")
        for name, flag in (("pull_latest", pull_latest), ("stub_run", stub_run)):
            if flag is not None and not isinstance(flag, bool):
                raise TowerConfigError(f"{name} must be True, False or None, got {flag!r}")
        return cls(
            params=load_params(params),
            params_mode=params_mode,  # type: ignore[arg-type]
            run_name=run_name,
            revision=revision,
            compute_env=compute_env,
            work_dir=work_dir,
            config_profiles=_strings("config_profiles", config_profiles),
            config_text=config_text,
            labels=_labels(labels),
            create_labels=bool(create_labels),
            pre_run_script=pre_run_script,
            post_run_script=post_run_script,
            pull_latest=pull_latest,
            stub_run=stub_run,
            extra=_extra_fields(extra_launch_fields),
        )

    def with_run_name(self, run_name: str) -> LaunchOptions:
        """A copy launching under ``run_name``."""
        return dataclasses.replace(self, run_name=run_name)


def load_params(params: Mapping[str, Any] | str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """A params dict, or the mapping in a ``.json`` / ``.yaml`` file (read now)."""
    if params is None:
        return None
    if is_params_text(params):  # YAML / JSON text, as Airflow renders a templated dict
        return params_from_text(str(params))
    if isinstance(params, Mapping):
        result = dict(params)
    elif isinstance(params, (str, os.PathLike)):
        path = Path(params).expanduser()
        kind = _PARAM_SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise TowerConfigError(
                f"params must be a dict or a path to a .json / .yaml / .yml file, got {params!r}"
            )
        if not path.is_file():
            raise TowerConfigError(f"params file not found: {path}")
        text = path.read_text(encoding="utf-8")
        import yaml  # deferred: only params files and YAML paramsText need it

        try:
            loaded = json.loads(text) if kind == "json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise TowerConfigError(
                f"params file {path} is not valid {kind.upper()}: {exc}"
            ) from None
        if not isinstance(loaded, dict):
            raise TowerConfigError(f"params file {path} must hold a mapping of parameter names")
        result = loaded
    else:
        raise TowerConfigError(f"params must be a dict or a file path, got {type(params).__name__}")
    return check_params(result)  # fail now, not after some calls, if a value cannot be sent


def dump_params(params: Mapping[str, Any]) -> str:
    """``paramsText`` for a mapping (JSON; dates and paths become strings)."""

    def default(value: Any) -> Any:
        if isinstance(value, (dt.date, dt.datetime, dt.time)):
            return value.isoformat()
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        raise TowerConfigError(
            f"Pipeline parameter value {value!r} ({type(value).__name__}) cannot be sent as JSON"
        )

    return json.dumps(dict(params), default=default)


def parse_params_text(text: str | None) -> dict[str, Any]:
    """Parse a saved ``paramsText`` (JSON or YAML); empty -> ``{}``."""
    if not text or not text.strip():
        return {}
    try:
        loaded = json.loads(text)
    except ValueError:
        import yaml

        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise TowerConfigError(f"The saved launch has unreadable paramsText: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise TowerConfigError(
            "The saved launch's paramsText is not a mapping; use params_mode='replace'"
        )
    return loaded


def _strings(name: str, value: Sequence[str] | str | None) -> list[str] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(item, str) and item.strip() for item in items):
        raise TowerConfigError(f"{name} must be a list of non-empty strings, got {value!r}")
    return [item.strip() for item in items]


#: Seqera's rule for label names: 2 to 39 letters or digits, ``-`` / ``_`` only between them.
LABEL_NAME_PATTERN = re.compile(r"^[A-Za-z\d](?:[A-Za-z\d]|[-_](?=[A-Za-z\d])){1,38}\Z", re.ASCII)


def _labels(value: Sequence[str | int] | str | None) -> list[str | int]:
    if value is None:
        return []
    items = [value] if isinstance(value, (str, int)) else list(value)
    for item in items:
        ok = (isinstance(item, str) and item.strip()) or (isinstance(item, int) and item > 0)
        if not ok or isinstance(item, bool):
            raise TowerConfigError(f"labels must be names or positive label ids, got {item!r}")
        if isinstance(item, str):
            name, _, label_value = item.strip().partition("=")
            if not LABEL_NAME_PATTERN.fullmatch(name):
                raise TowerConfigError(
                    f"Invalid label name {name!r}: 2 to 39 letters or digits, separated by "
                    "single '-' or '_' (not at the start or end)"
                )
            if "=" in item and not label_value.strip():
                raise TowerConfigError(f"Resource label {item!r} has no value after '='")
    return [item.strip() if isinstance(item, str) else item for item in items]


def _extra_fields(extra: Mapping[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, value in extra.items():
        camel = key if key in KNOWN_LAUNCH_FIELDS else _camel(key)
        if camel not in KNOWN_LAUNCH_FIELDS:
            close = difflib.get_close_matches(camel, sorted(KNOWN_LAUNCH_FIELDS), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise TowerConfigError(f"Unknown launch field {key!r}{hint}")
        if camel in _NAMED:
            raise TowerConfigError(f"Use the {_NAMED[camel]}= argument instead of {key!r}")
        checked[camel] = value
    return checked


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
