"""The token appears nowhere the Prefect collection emits, with the ``httpx`` and ``httpcore``
loggers at DEBUG: flow and task run parameters and states, logs, artifacts, events, the final
exception and its traceback, and ``repr()`` of the blocks, through a launch and wait that
succeeds, one that fails, and API errors (a 404 with an Error ID, a 403 for a bad token)."""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from typing import Any

import pytest
from nftower.testing import TowerEmulator
from prefect import flow
from prefect.logging.handlers import APILogHandler
from prefect_nftower import TowerCredentials, run_pipeline
from prefect_nftower.tasks import call_tower_endpoint, get_workflow
from test_token_never_leaks import everything_recorded
from tower_helpers import POLL, launches_of

LOGGERS = ("", "nftower", "httpx", "httpcore", "prefect")


def test_the_token_never_leaks_from_the_collection(
    credentials: TowerCredentials,
    token: str,
    emulator: TowerEmulator,
    events: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    bad = TowerCredentials(
        access_token=token + "-expired", api_url=emulator.url, workspace=str(emulator.workspace_id)
    )
    emulator.inject("status", method="GET", path=r"^/workflow/unknown0000000$", status=404)

    @flow
    def nightly(credentials: TowerCredentials, bad: TowerCredentials) -> None:
        run_pipeline(credentials, "hello", poll_interval=POLL)
        call_tower_endpoint(credentials, "GET", "/workflow/unknown0000000", return_state=True)
        get_workflow(bad, "unknown0000000", return_state=True)
        run_pipeline(credentials, "hello", params={"emulator_outcome": "fail"}, poll_interval=POLL)

    state = nightly(credentials, bad, return_state=True)
    assert state.is_failed()
    APILogHandler().flush()
    emitted = [asyncio.run(everything_recorded(state.state_details.flow_run_id))]
    emitted.append(json.dumps(events, default=str))
    emitted += [str(state.message), repr(state)]
    with pytest.raises(Exception) as caught:
        state.result()
    emitted += [str(caught.value), repr(caught.value)]
    emitted.append("".join(traceback.format_exception(caught.value)))
    emitted += [repr(credentials), repr(credentials.get_config()), str(credentials.model_dump())]
    emitted += [caplog.text, *(record.getMessage() for record in caplog.records)]
    text = "\n".join(emitted)
    assert "HTTP Request: POST" in text  # httpx's lines were captured
    assert "SUCCEEDED" in text
    assert "FAILED" in text
    assert "Error ID" in text
    for secret in (token, token[:12], token[-12:]):
        assert secret not in text
    assert len(launches_of(emulator, token)) == 2
