"""make_run_name: valid, deterministic Nextflow run names."""

from __future__ import annotations

import pytest
from nftower import TowerConfigError, make_run_name
from nftower._runname import RUN_NAME_PATTERN, check_run_name


@pytest.mark.parametrize(
    ("parts", "prefix", "expected"),
    [
        (("nightly",), None, "nightly"),
        (("Nightly RNAseq", "2024-06-01"), None, "nightly-rnaseq-2024-06-01"),
        (("dag", "scheduled__2024-06-01T00:00:00+00:00", "task", 3), None,
         "dag-scheduled_2024-06-01t00-00-00-00-00-task-3"),
        (("2024-06-01",), "rnaseq", "rnaseq-2024-06-01"),
        (("2024-06-01",), None, "run-2024-06-01"),
        (("--a__b--",), None, "a_b"),
        (("a", None, "", "b"), None, "a-b"),
        (("Ünïcode ✓ name",), None, "n-code-name"),
    ],
)  # fmt: skip
def test_examples(parts: tuple[object, ...], prefix: str | None, expected: str) -> None:
    assert make_run_name(*parts, prefix=prefix) == expected


@pytest.mark.parametrize(
    "parts",
    [
        ("x" * 300,),
        ("a-" * 100,),
        ("dag_with_a_very_long_name", "manual__2024-06-01T00:00:00.123456+00:00", "t" * 50),
        ("___", "%%%", "9"),
        ("UPPER", "CASE"),
    ],
)
def test_results_are_valid_and_deterministic(parts: tuple[object, ...]) -> None:
    name = make_run_name(*parts)
    assert RUN_NAME_PATTERN.match(name), name
    assert len(name) <= 74
    assert make_run_name(*parts) == name


def test_truncated_names_stay_unique() -> None:
    base = "p" * 90
    first, second = make_run_name(base, "one"), make_run_name(base, "two")
    assert first != second
    assert first[:60] == second[:60]


def test_max_length() -> None:
    assert len(make_run_name("y" * 100, max_length=80)) == 80
    with pytest.raises(TowerConfigError, match="max_length"):
        make_run_name("a", max_length=81)


@pytest.mark.parametrize("bad", [(), (None, "")])
def test_needs_a_part(bad: tuple[object, ...]) -> None:
    with pytest.raises(TowerConfigError, match="at least one"):
        make_run_name(*bad)


def test_prefix_must_start_with_a_letter() -> None:
    with pytest.raises(TowerConfigError, match="prefix"):
        make_run_name("x", prefix="1abc")


@pytest.mark.parametrize("bad", ["1abc", "a--b", "a_", "-a", "a b", "x" * 81, "", "nächtlich"])
def test_check_run_name_rejects_invalid_names(bad: str) -> None:
    with pytest.raises(TowerConfigError, match="run name"):
        check_run_name(bad)


def test_check_run_name_room() -> None:
    assert check_run_name("a" * 74, room=6) == "a" * 74
    with pytest.raises(TowerConfigError, match="-rN"):
        check_run_name("a" * 75, room=6)


def test_short_run_name_is_readable_deterministic_and_distinct() -> None:
    from nftower import short_run_name

    run_id = "manual__2026-12-02T17:32:34.336087+00:00"
    name = short_run_name("nightly_rnaseq", "2026-12-02", "rnaseq", key=run_id)
    assert name.startswith("nightly_rnaseq-2026-12-02-rnaseq-")
    assert len(name) == len("nightly_rnaseq-2026-12-02-rnaseq-") + 8
    assert name == short_run_name("nightly_rnaseq", "2026-12-02", "rnaseq", key=run_id)
    # another DAG run on the same day: same readable parts, another hash
    other = short_run_name("nightly_rnaseq", "2026-12-02", "rnaseq", key=run_id + "x")
    assert other != name
    assert other[:-8] == name[:-8]
    assert RUN_NAME_PATTERN.match(short_run_name("2024", "Ünïcode ✓", key="k"))
    long = short_run_name("a" * 100, "b" * 100, key="k")
    assert len(long) == 74
    assert RUN_NAME_PATTERN.match(long)
    with pytest.raises(TowerConfigError):
        short_run_name("x", key="k", max_length=10)


@pytest.mark.parametrize("name", ["Nightly-Run", "Upper", "RNAseq_2024-06-01", "A" * 80])
def test_run_names_are_case_insensitive_as_in_nextflow(name: str) -> None:
    assert check_run_name(name) == name
