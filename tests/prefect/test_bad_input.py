"""Bad input to the Prefect flows and tasks: refused before the launch (no run to orphan)."""

from __future__ import annotations

import math

import pytest
from nftower import TowerConfigError
from nftower.testing import TowerEmulator
from prefect_nftower import TowerCredentials, run_pipeline, wait_for_workflow
from tower_helpers import launches_of, requests_of


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"poll_interval": math.nan}, "poll_interval must be a finite number of seconds, got nan"),
        ({"timeout": math.inf}, "timeout must be a finite number of seconds, got inf"),
    ],
    ids=["poll_interval nan", "timeout inf"],
)
def test_bad_wait_values_fail_run_pipeline_before_the_launch(
    options: dict[str, float],
    words: str,
    credentials: TowerCredentials,
    emulator: TowerEmulator,
    token: str,
) -> None:
    state = run_pipeline(credentials, "hello", return_state=True, **options)
    assert state.is_failed()
    with pytest.raises(TowerConfigError) as caught:
        state.result()
    assert words in str(caught.value)
    assert launches_of(emulator, token) == []
    assert requests_of(emulator, token) == []


def test_nan_params_fail_run_pipeline_before_the_launch(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    state = run_pipeline(credentials, "hello", params={"ratio": math.nan}, return_state=True)
    with pytest.raises(TowerConfigError, match=r"params\['ratio'\] is nan"):
        state.result()
    assert launches_of(emulator, token) == []


def test_unknown_timeout_nan_is_refused_by_the_wait_task(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    state = wait_for_workflow(
        credentials, "4Bi5xBK6E2Nbhj", unknown_timeout=math.nan, return_state=True
    )
    with pytest.raises(TowerConfigError, match="unknown_timeout must be a finite number"):
        state.result()
    assert requests_of(emulator, token) == []
