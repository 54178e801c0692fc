"""Bad input to the Prefect flows, tasks and blocks: refused before the launch (no run to
orphan) or before any call."""

from __future__ import annotations

import math
from typing import Any

import pytest
from nftower import TowerConfigError
from nftower.testing import TowerEmulator
from prefect import flow
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
    @flow
    def waits(credentials: TowerCredentials) -> Any:
        return wait_for_workflow(credentials, "4Bi5xBK6E2Nbhj", unknown_timeout=math.nan)

    state = waits(credentials, return_state=True)
    with pytest.raises(TowerConfigError, match="unknown_timeout must be a finite number"):
        state.result()
    assert requests_of(emulator, token) == []


TOKEN = "eyJ0aWQiOiA0Mn0.c2VjcmV0LXZhbHVlLTAxMjM0"


@pytest.mark.parametrize(
    ("access_token", "words"),
    [
        (TOKEN[:20] + "\n" + TOKEN[20:], "contains a line break (at character 21)"),
        (f"\u201c{TOKEN}\u201d", "wrapped in quotes (U+201C LEFT DOUBLE QUOTATION MARK)"),
    ],
    ids=["newline", "typographic quotes"],
)
def test_a_bad_token_in_the_block_is_refused_before_any_call(
    access_token: str, words: str, emulator: TowerEmulator
) -> None:
    requests_before = len(emulator.requests)
    credentials = TowerCredentials(access_token=access_token, api_url=emulator.url)
    with pytest.raises(TowerConfigError) as caught:
        credentials.get_client()
    assert words in str(caught.value)
    assert TOKEN[:12] not in str(caught.value)
    assert len(emulator.requests) == requests_before
