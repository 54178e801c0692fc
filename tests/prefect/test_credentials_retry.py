"""A flow run retried after a crash keeps its Tower token: Prefect stores a block passed as a
flow parameter with its token masked, and the retried run reloads the saved block by its
document id. A masked token is never sent to Tower. Also: the block's timeout and verify."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.encoders import jsonable_encoder
from flow_processes import final_state, mark_crashed, retry_flow_run, run_then_kill, write_nightly
from nftower import TowerConfigError
from nftower.testing import TowerEmulator
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from prefect_nftower import TowerCredentials
from tower_helpers import launches_of, requests_of

DESCRIBE = r"^/workflow/\w+$"  # GET: the describe right after a launch


def saved_block(emulator: TowerEmulator, token: str) -> str:
    """The name of a saved credentials block for the emulator."""
    name = f"retry-{secrets.token_hex(4)}"
    TowerCredentials(
        access_token=token,
        api_url=emulator.url,
        workspace=str(emulator.workspace_id),
        rate_limit_backend="memory://",
    ).save(name)
    return name


def stored_form(name: str) -> dict[str, Any]:
    """The block as Prefect stores a flow parameter (the token masked)."""
    stored: dict[str, Any] = jsonable_encoder(TowerCredentials.load(name))
    assert stored["access_token"] == "**********"
    return stored


def test_a_flow_retried_after_a_crash_reloads_the_saved_token(
    emulator: TowerEmulator, token: str, tmp_path: Path
) -> None:
    name = saved_block(emulator, token)
    script = write_nightly(tmp_path, credentials_parameter=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_")}
    env["PREFECT_API_URL"] = PREFECT_API_URL.value()  # no TOWER_ACCESS_TOKEN: only the block
    # The process dies (SIGKILL) while the launch task waits for Tower's answer.
    emulator.inject("delay", method="GET", path=DESCRIBE, times=1, delay=60)
    try:
        flow_run_id = run_then_kill(
            script,
            f"nightly(TowerCredentials.load({name!r}))",
            env,
            lambda: bool(launches_of(emulator, token)),
        )
    finally:
        emulator.clear_faults()
    killed_at = time.time()
    parameters = mark_crashed(flow_run_id)
    assert parameters["credentials"]["access_token"] == "**********"  # what the retry gets
    requests_before = len(emulator.requests)
    rerun = retry_flow_run(flow_run_id, script, env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert final_state(flow_run_id).is_completed()
    (launch,) = launches_of(emulator, token)  # the retry reattached with the real token
    workflow_id = launch.response_json["workflowId"]
    assert [r for r in requests_of(emulator, token) if r.time > killed_at and workflow_id in r.path]
    refused = [r for r in emulator.requests[requests_before:] if r.status in (401, 403)]
    assert refused == []  # the mask never reached Tower


def test_a_stored_block_is_reloaded_by_its_document_id(emulator: TowerEmulator, token: str) -> None:
    name = saved_block(emulator, token)
    rebuilt = TowerCredentials.model_validate(stored_form(name))
    assert rebuilt.get_config().token == token
    with rebuilt.get_client() as client:
        assert client.user_info().user_name
    assert [r.status for r in requests_of(emulator, token)] == [200]


def test_a_masked_token_whose_block_is_gone_is_a_clear_error_and_nothing_is_sent(
    emulator: TowerEmulator, token: str
) -> None:
    name = saved_block(emulator, token)
    stored = stored_form(name)
    asyncio.run(_delete_block(name))
    rebuilt = TowerCredentials.model_validate(stored)
    requests_before = len(emulator.requests)
    with pytest.raises(TowerConfigError) as raised:
        rebuilt.get_client()
    message = str(raised.value)
    assert f"'{name}'" in message
    assert stored["_block_document_id"] in message
    assert "mask" in message
    assert "**********" not in message
    assert token not in message
    assert len(emulator.requests) == requests_before


async def _delete_block(name: str) -> None:
    async with get_client() as client:
        document = await client.read_block_document_by_name(name, "tower-credentials")
        await client.delete_block_document(document.id)


def test_a_masked_token_never_saved_is_a_clear_error() -> None:
    with pytest.raises(TowerConfigError, match=r"never saved.*mask"):
        TowerCredentials(access_token="**********", api_url="http://127.0.0.1:1").get_config()


def test_timeout_and_verify_reach_the_client(tmp_path: Path) -> None:
    from nftower import TowerConfig

    bundle = tmp_path / "ca.pem"
    bundle.write_text("not read here")
    base = {"access_token": "tower-access-token-0123456789", "api_url": "https://t.example/api"}
    default = TowerCredentials(**base).get_config()
    assert (default.timeout, default.verify) == (TowerConfig(token="x" * 24).timeout, True)
    config = TowerCredentials(**base, timeout=5.5, verify=str(bundle)).get_config()
    assert (config.timeout, config.verify) == (5.5, str(bundle))
    assert TowerCredentials(**base, verify="false").get_config().verify is False
    with pytest.raises(TowerConfigError, match="no CA bundle"):
        TowerCredentials(**base, verify=str(tmp_path / "missing.pem")).get_config()
