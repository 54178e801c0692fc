"""Validation of launch requests (``POST /workflow/launch`` bodies), independent of state."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import yaml

from ._errors import ApiError
from ._runs import DEFAULT_DURATION, OUTCOMES
from ._seed import is_short_form

RUN_NAME_PATTERN = re.compile(
    r"^[a-z](?:[a-z\d]|[-_](?=[a-z\d])){0,79}\Z", re.IGNORECASE | re.ASCII
)
"""Nextflow's run name rule (``CmdRun.RUN_NAME_PATTERN``, case-insensitive: a letter first,
``-``/``_`` only between letters and digits, at most 80 characters)."""

#: ``WorkflowLaunchRequest`` fields by JSON type (``labelIds``, integers, is checked on its own).
LAUNCH_FIELD_TYPES: dict[str, str] = {
    **dict.fromkeys(
        ["id", "computeEnvId", "pipeline", "revision", "commitId", "runName", "workDir",
         "paramsText", "configText", "towerConfig", "preRunScript", "postRunScript", "mainScript",
         "entryName", "schemaName", "sessionId", "launchContainer", "optimizationId",
         "optimizationTargets", "nextflowVersion", "outputDir", "syntaxParser", "dateCreated"],
        "string",
    ),
    **dict.fromkeys(["pullLatest", "stubRun", "resume"], "boolean"),
    **dict.fromkeys(["configProfiles", "userSecrets", "workspaceSecrets"], "list of strings"),
    **dict.fromkeys(["headJobCpus", "headJobMemoryMb", "pipelineSchemaId"], "integer"),
}  # fmt: skip
_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "list of strings": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
}


class Problems:
    """Collects launch validation failures; one becomes an ``ErrorResponse``, several a
    ``WorkflowLaunchValidationErrorResponse`` with an ``errors`` list."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, code: str, message: str) -> None:
        self.items.append({"code": code, "message": message})

    def raise_if_any(self) -> None:
        if len(self.items) == 1:
            raise ApiError(400, self.items[0]["message"])
        if self.items:
            raise ApiError(400, "Invalid launch request", errors=self.items)


def read_launch_request(body: Any, problems: Problems) -> dict[str, Any]:
    """Check the envelope and field types; return the launch fields without nulls."""
    if not isinstance(body, dict) or not isinstance(body.get("launch"), dict):
        raise ApiError(400, 'Missing launch request: expected a JSON body {"launch": {...}}')
    launch = {k: v for k, v in body["launch"].items() if v is not None}
    for name, kind in LAUNCH_FIELD_TYPES.items():
        if name in launch and not _CHECKS[kind](launch[name]):
            article = "an" if kind == "integer" else "a"
            problems.add("invalid_type", f"Launch field '{name}' must be {article} {kind}")
    label_ids = launch.get("labelIds", [])
    if not isinstance(label_ids, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in label_ids
    ):
        problems.add("invalid_type", "Launch field 'labelIds' must be a list of integers")
        launch.pop("labelIds", None)
    syntax = launch.get("syntaxParser")
    if isinstance(syntax, str) and syntax not in ("v1", "v2"):
        problems.add("invalid_value", f"Unknown syntax parser '{syntax}': expected v1 or v2")
    return launch


def check_run_name(name: Any, problems: Problems) -> None:
    """Nextflow run names: at most 80 characters, see :data:`RUN_NAME_PATTERN`."""
    if isinstance(name, str) and not RUN_NAME_PATTERN.match(name):
        problems.add(
            "invalid_run_name",
            f"Invalid run name '{name}': it must start with a letter and contain only "
            "letters, digits, '-' and '_' (at most 80 characters)",
        )


def check_repository(pipeline: Any, problems: Problems) -> None:
    """A Git URL (``https://``, ``http://``, ``git@``) or GitHub's short form ``owner/repo``."""
    if not isinstance(pipeline, str) or not pipeline.strip():
        problems.add("missing_pipeline", "Missing pipeline repository")
    elif not ("://" in pipeline or pipeline.startswith("git@") or is_short_form(pipeline)):
        problems.add(
            "invalid_pipeline",
            f"Invalid pipeline repository '{pipeline}': expected a Git URL or owner/repo",
        )


def parse_params(text: Any, problems: Problems) -> dict[str, Any]:
    """``paramsText`` is JSON or YAML text describing a mapping."""
    if not isinstance(text, str) or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            problems.add("invalid_params", "Invalid pipeline parameters: not valid JSON or YAML")
            return {}
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add("invalid_params", "Invalid pipeline parameters: expected a JSON/YAML object")
        return {}
    return value


def outcome_controls(params: dict[str, Any], problems: Problems) -> tuple[str, float]:
    """Read ``emulator_outcome`` and ``emulator_duration`` from the run parameters."""
    outcome = params.get("emulator_outcome", "succeed")
    if outcome not in OUTCOMES:
        problems.add(
            "invalid_params", f"Invalid emulator_outcome {outcome!r}: expected one of {OUTCOMES}"
        )
        outcome = "succeed"
    duration = params.get("emulator_duration", DEFAULT_DURATION)
    if (
        isinstance(duration, bool)
        or not isinstance(duration, (int, float))
        or not math.isfinite(duration)
        or duration < 0
    ):
        problems.add("invalid_params", "Invalid emulator_duration: expected a non-negative number")
        duration = DEFAULT_DURATION
    return str(outcome), float(duration)
