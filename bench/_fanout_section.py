"""The fan-out section of the performance page: one row per orchestrator, a verdict against
the goal (wall time within 1.1x of ``calls / 20`` s) and the calls by kind."""

from __future__ import annotations

from typing import Any

from ._markdown import table

GOAL = 1.1
HEADERS = ["orchestrator", "launches", "launched", "launched twice", "calls", "calls per launch",
           "429 at server", "max in any 1 s", "wall s", "calls / 20 s", "ratio", "floor s",
           "start-up s", "ratio after start-up"]  # fmt: skip


def _or_dash(value: object) -> object:
    """``value``, or a dash in a table cell where it was not measured."""
    return "-" if value is None else value


def _row(r: dict[str, Any]) -> list[Any]:
    return [r["orchestrator"], r["launches_asked"], r["launched"], r["run_names_launched_twice"],
            r["calls"], r["calls_per_launch"], r["server_429"], r["max_in_1s"], r["seconds"],
            r["ideal_seconds"], r["ratio"], _or_dash(r.get("floor_seconds")),
            _or_dash(r.get("startup_seconds")), _or_dash(r.get("ratio_after_startup"))]  # fmt: skip


def _verdict(rows: list[dict[str, Any]]) -> str:
    def listed(key: str, within: bool) -> str:
        chosen = [r for r in rows if r.get(key) is not None and (r[key] <= GOAL) == within]
        return ", ".join(f"{r['orchestrator']} ({r[key]})" for r in chosen) or "none"

    twice = sum(r["run_names_launched_twice"] for r in rows)
    launched = (
        "Every run name was launched once" if not twice else f"{twice} run names launched twice"
    )
    no_429 = all(r["server_429"] == 0 for r in rows)
    after = "ratio_after_startup"
    return (
        f"Within {GOAL}x of calls / 20 s: {listed('ratio', True)}; above: "
        f"{listed('ratio', False)}. After the start-up: within {listed(after, True)}; "
        f"above: {listed(after, False)}. {launched}"
        + (" and no 429 reached the server." if no_429 else ".")
    )


def fanout_section(data: dict[str, Any]) -> str:
    """The section's table, verdict and calls by kind, from ``results["fanout"]``."""
    rows = data["rows"]
    kinds = [
        f"- {r['orchestrator']}: "
        + ", ".join(f"{kind} x{count}" for kind, count in r["calls_by_kind"].items())
        for r in rows
    ]
    return "\n\n".join(
        [
            table(HEADERS, [_row(r) for r in rows]),
            _verdict(rows),
            "Calls by kind:",
            "\n".join(kinds),
        ]
    )
