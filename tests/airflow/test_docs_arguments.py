"""docs/airflow.md lists the launch operator's arguments, their written defaults, its templated
fields and the connection's extras: each list is checked against the code."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from nftower_airflow import _connection
from nftower_airflow.operators import TowerLaunchOperator

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "airflow.md").read_text()


def _paragraph(starting: str) -> str:
    start = PAGE.index(starting)
    return PAGE[start : PAGE.index("\n\n", start)]


def _names(text: str) -> set[str]:
    return {name for name in re.findall(r"`(\w+)(?:=[^`]*)?`", text)}


def test_every_launch_argument_is_listed_with_its_default() -> None:
    arguments = _paragraph("Arguments (all keyword-only")
    parameters = inspect.signature(TowerLaunchOperator.__init__).parameters
    names = {name for name in parameters if name not in ("self", "kwargs")}
    assert names <= _names(arguments), sorted(names - _names(arguments))
    for name, default in re.findall(r"`(\w+)=([^`]+)`", arguments):
        value = ast.literal_eval(default)
        if not isinstance(value, (dict, list)):  # those are examples: the defaults are None
            assert value == parameters[name].default, name


def test_the_templated_fields_are_the_operators() -> None:
    templated = _paragraph("Arguments (all keyword-only").split("Templated:", 1)[1]
    assert _names(templated) == set(TowerLaunchOperator.template_fields)


def test_every_connection_extra_is_in_the_table() -> None:
    rows = "\n".join(line for line in PAGE.splitlines() if line.startswith("| Extra"))
    documented = _names(rows)
    extras = {key for key in _connection._EXTRA_FIELDS if key != "workspace_id"}
    assert extras <= documented, sorted(extras - documented)
