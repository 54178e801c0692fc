"""``GET /workflow?search=`` over HTTP, as Tower's documentation reads it: the free text is one
partial match, ``key:value`` tokens are exact; the client's run look-up still finds runs by
exact name."""

from __future__ import annotations

from typing import Any

from nftower.testing import TowerEmulator


def test_free_text_is_one_partial_match_and_tokens_are_exact(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    nightly = tower.launch("hello", run_name="nightly-2024")
    rnaseq = tower.launch("rnaseq", run_name="adhoc-rnaseq")

    def search(query: str) -> set[str]:
        return {wf.id for wf in tower.list_workflows(search=query)}

    assert search("ghtly-20") == {nightly}  # partial, in the run name
    assert search("NF-CORE/RNA") == {rnaseq}  # project / manifest name, ignoring case
    assert search("nightly 2024") == set()  # one string, not two words ANDed
    assert search("runName:nightly-2024") == {nightly}
    assert search("runName:nightly") == set()  # exact
    assert search("runName:nightly-*") == set()
    assert search("projectName:nf-core/rnaseq") == {rnaseq}
    assert search(f"userName:{tower_emulator.user_name[:4]}") == set()


def test_ensure_run_still_finds_runs_by_exact_name(
    tower: Any, tower_emulator: TowerEmulator
) -> None:
    tower.launch("hello", run_name="nightly-x-long")  # a longer name holding the wanted one
    first = tower.ensure_run("hello", run_name="nightly-x")
    assert first.action == "launched"
    again = tower.ensure_run("hello", run_name="nightly-x")
    assert again.action == "reattached"
    assert again.workflow_id == first.workflow_id
    assert len(tower_emulator.launches) == 2
