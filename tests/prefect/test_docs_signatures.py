"""docs/prefect.md writes the tasks' and the flow's signatures and the blocks' defaults out in
full: each is checked against the code, so the page cannot drift from it."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from prefect_nftower.credentials import TowerCredentials
from prefect_nftower.flows import run_pipeline
from prefect_nftower.pipeline import TowerPipeline
from prefect_nftower.tasks import launch_workflow, wait_for_workflow

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "prefect.md").read_text()


def _written(name: str) -> dict[str, Any]:
    """The arguments of ``name(...)`` as the page writes them: name -> default (or empty)."""
    match = re.search(rf"`{name}\(([^`]*)\)`", PAGE)
    assert match, f"docs/prefect.md does not write {name}(...) out"
    call = ast.parse(f"f({match.group(1)})", mode="eval").body
    assert isinstance(call, ast.Call)
    written: dict[str, Any] = {arg.id: inspect.Parameter.empty for arg in call.args}  # type: ignore[attr-defined]
    written.update({kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg})
    return written


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("launch_workflow", launch_workflow),
        ("wait_for_workflow", wait_for_workflow),
        ("run_pipeline", run_pipeline),
    ],
)
def test_signatures_are_written_as_they_are(name: str, function: Any) -> None:
    actual = {p.name: p.default for p in inspect.signature(function.fn).parameters.values()}
    assert _written(name) == actual


def test_the_credentials_table_lists_every_field_with_its_default() -> None:
    table = re.findall(r"^\| `(\w+)`(?: \(secret\))? \|", PAGE, flags=re.M)
    fields = set(TowerCredentials.model_fields)
    assert fields <= set(table), sorted(fields - set(table))


def test_the_pipeline_block_paragraph_names_every_field() -> None:
    start = PAGE.index("### `TowerPipeline` and `TowerWorkflowRun`")
    paragraph = PAGE[start : PAGE.index("\n\n", PAGE.index("A `JobBlock`", start))]
    named = set(re.findall(r"`(\w+)`", paragraph))
    fields = set(TowerPipeline.model_fields)
    assert fields <= named, sorted(fields - named)


def test_the_pipeline_block_defaults_are_the_fields_defaults() -> None:
    fields = TowerPipeline.model_fields
    assert f"`poll_interval` (default {fields['poll_interval'].default:g} s)" in PAGE
    assert fields["timeout"].default == 0
    assert "`timeout` (default 0: no limit)" in PAGE
    assert fields["cancel_on_exit"].default is True
    assert "`cancel_on_exit` (default true)" in PAGE
