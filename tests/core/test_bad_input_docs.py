"""docs/reliability.md's Bad input table holds to the tests: every row names test functions
(and parameter cases) that exist, and gives a launch count."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
SECTION = TEXT.split("\n## Bad input", 1)[1].split("\n## ", 1)[0]
ROWS = [line for line in SECTION.splitlines() if line.startswith("| ") and "---" not in line][1:]


def _cells(row: str) -> list[str]:
    return [part.strip() for part in row.strip().strip("|").split(" | ")]


def test_the_table_has_rows() -> None:
    assert len(ROWS) >= 40


@pytest.mark.parametrize("row", ROWS, ids=lambda row: _cells(row)[0][:60])
def test_each_row_names_existing_tests_and_a_launch_count(row: str) -> None:
    case, seen, tests, count = _cells(row)
    assert seen, case
    assert re.match(r"\d+( \(.+\))?$", count), (case, count)
    path: Path | None = None
    named = 0
    for item in re.findall(r"`([^`]+)`", tests):
        if item.startswith("tests/"):
            file, _, item = item.partition("::")
            path = ROOT / file
            assert path.is_file(), (case, file)
        if path is None or not item.lstrip(":").startswith(("test_", "[")):
            continue  # prose in backquotes
        source = path.read_text(encoding="utf-8")
        function, _, param = item.lstrip(":").partition("[")
        if function:
            assert re.search(rf"def {function}\(", source), (case, function)
            named += 1
        if param:
            assert param.rstrip("]") in source, (case, param)
    assert named, case
