"""docs/reliability.md's Faults table holds to the tests: every cell of the fault matrix has its
row, every row names tests that exist, and each row gives a launch count."""

from __future__ import annotations

import re
from pathlib import Path

from fault_cells import BY_ID

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
FAULTS = TEXT.split("\n## Faults", 1)[1].split("\n## ", 1)[0]
ROWS = [line for line in FAULTS.splitlines() if line.startswith("| ") and "---" not in line][1:]


def _cells(row: str) -> list[str]:
    return [part.strip() for part in row.strip().strip("|").split(" | ")]


def test_every_matrix_cell_has_its_row_and_no_row_names_another() -> None:
    named = [
        cell
        for row in ROWS
        if "matrix `" in _cells(row)[2]
        for cell in re.findall(r"`([\w-]+)`", _cells(row)[2].split(";")[0])
    ]
    assert sorted(named) == sorted(BY_ID)


def test_every_row_names_tests_that_exist_and_a_launch_count() -> None:
    for row in ROWS:
        fault, _, tests, count = _cells(row)
        assert count not in ("", "-"), fault
        path: Path | None = None
        for item in re.findall(r"`([^`]+)`", tests):
            if item.startswith("tests/"):
                file, _, name = item.partition("::")
                path = ROOT / file
                assert path.is_file(), (fault, item)
            elif item.startswith("test_") or item.startswith("Test"):
                name = item
            else:
                continue
            assert path is not None, (fault, item)
            function = re.sub(r"\[.*\]$", "", name).split("::")[-1]
            assert re.search(rf"def {function}\(", path.read_text()), (fault, item)


def test_the_faults_table_is_one_table_with_four_cells_a_row() -> None:
    """A row below the note on *matrix* would leave the table and show as plain text."""
    lines = FAULTS.strip("\n").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Fault |"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    assert lines[start + 1] == "|---|---|---|---|"
    assert not [line for line in lines[end:] if line.startswith("|")], "rows after the table"
    assert all(len(_cells(row)) == 4 for row in lines[start + 2 : end])
