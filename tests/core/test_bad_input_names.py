"""Bad run names and labels: refused before any call, naming what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from nftower import TowerConfigError, make_run_name
from nftower.testing import TowerEmulator

BAD_RUN_NAMES: dict[str, tuple[str, str]] = {
    "space": ("nightly run", "(it holds a space, not an ASCII letter"),
    "accented letter": ("nächtlich", "(it holds 'ä' (U+00E4)"),
    "non-ASCII digit": ("run\u0663", "(it holds '\u0663' (U+0663)"),
    "letter that folds to ASCII": ("nightly-\u017f", "(U+017F)"),  # long s: 's' ignoring case
    "Kelvin sign": ("\u212aelvin", "(U+212A)"),  # folds to 'k'
    "trailing newline": ("nightly\n", "(it holds a line break"),
    "81 characters": ("n" * 81, "(81 characters, more than 80)"),
    "starts with a digit": ("2024-nightly", "(it starts with '2', not a letter)"),
    "doubled dash": ("nightly--run", "('-' or '_' doubled, or at the end)"),
    "empty": ("", "(empty)"),
}


@pytest.mark.parametrize("case", sorted(BAD_RUN_NAMES))
@pytest.mark.parametrize("operation", ["launch", "ensure_run"])
def test_bad_run_names_are_refused_before_any_call(
    case: str, operation: str, tower: Any, tower_emulator: TowerEmulator
) -> None:
    name, words = BAD_RUN_NAMES[case]
    with pytest.raises(TowerConfigError, match="Invalid run name") as caught:
        getattr(tower, operation)("hello", run_name=name)
    assert words in str(caught.value)
    assert "make_run_name() builds one from any parts" in str(caught.value)
    assert tower_emulator.requests == []


def test_make_run_name_turns_any_text_into_a_valid_name(tower: Any) -> None:
    name = make_run_name("Nächtlich run ✓", "\u212a" * 90)
    assert name.isascii()
    assert len(name) <= 74
    tower.launch("hello", run_name=name)  # Tower takes it


def test_the_emulator_refuses_what_nextflow_refuses(tower_emulator: TowerEmulator) -> None:
    import httpx

    answer = httpx.post(
        f"{tower_emulator.url}/workflow/launch",
        params={"workspaceId": tower_emulator.workspace_id},
        headers={"Authorization": f"Bearer {tower_emulator.token}"},
        json={
            "launch": {"pipeline": "https://github.com/nextflow-io/hello", "runName": "run\u0663"}
        },
    )
    assert answer.status_code == 400
    assert tower_emulator.launches == []


BAD_LABELS: dict[str, tuple[str, str]] = {
    "space": ("night run", "Invalid label name 'night run'"),
    "one character": ("x", "2 to 39 letters or digits"),
    "40 characters": ("l" * 40, "2 to 39 letters or digits"),
    "non-ASCII": ("qualité", "Invalid label name 'qualité'"),
    "non-ASCII digit": ("lane\u0663", "Invalid label name"),
    "newline before the value": ("owner\n=ann", "Invalid label name 'owner\\n'"),
    "resource label without a value": ("owner=", "has no value after '='"),
}


@pytest.mark.parametrize("case", sorted(BAD_LABELS))
def test_bad_labels_are_refused_before_any_call(
    case: str, tower: Any, tower_emulator: TowerEmulator
) -> None:
    label, words = BAD_LABELS[case]
    with pytest.raises(TowerConfigError) as caught:
        tower.launch("hello", labels=[label], create_labels=True)
    assert words in str(caught.value)
    assert tower_emulator.requests == []
