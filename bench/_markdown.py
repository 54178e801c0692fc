"""Markdown pieces of the performance page."""

from __future__ import annotations

from typing import Any


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table.

    >>> print(table(["a", "b"], [[1, None]]))
    | a | b |
    |---|---|
    | 1 | None |
    """
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
