"""Every error class over real HTTP (emulator faults), and which failures are retried."""

from __future__ import annotations

from typing import Any

import pytest
from nftower import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TowerAPIError,
    TowerConnectionError,
    TowerTimeoutError,
)
from nftower.testing import TowerEmulator


def ops(emu: TowerEmulator, operation: str) -> int:
    return sum(1 for r in emu.requests if r.operation == operation)


def test_bad_token_is_an_authentication_error(
    tower_emulator: TowerEmulator, make_client: Any
) -> None:
    bad = "wrong-token-9f8e7d6c5b4a"
    tower = make_client(tower_emulator.url, bad, tower_emulator.workspace_id)
    with pytest.raises(AuthenticationError) as caught:
        tower.user_info()
    error = caught.value
    assert error.status_code in (401, 403)
    assert error.error_id is None  # Tower's 403 carries no Error ID
    assert error.operation == "GET /user-info"
    text = str(error)
    assert "invalid or expired" in text
    assert "Error ID" not in text
    assert bad not in text
    assert bad not in repr(error)
    assert ops(tower_emulator, "GET /user-info") == 1  # not retried


def test_invalid_input_is_a_bad_request_without_error_id(tower: Any) -> None:
    with pytest.raises(BadRequestError) as caught:
        tower.launch("hello", params={"emulator_outcome": "explode"})
    assert caught.value.status_code == 400
    assert caught.value.error_id is None  # Tower's validation errors carry none
    assert "Error ID" not in str(caught.value)
    assert caught.value.operation == "POST /workflow/launch"
    assert "emulator_outcome" in caught.value.message


def test_unknown_workflow_is_not_found(tower: Any, tower_emulator: TowerEmulator) -> None:
    with pytest.raises(NotFoundError) as caught:
        tower.get_workflow("nosuchworkflow")
    assert caught.value.status_code == 403  # as Tower answers; the token was checked good
    assert caught.value.operation == "GET /workflow/{workflowId}"
    assert ops(tower_emulator, "GET /workflow/nosuchworkflow") == 1
    assert ops(tower_emulator, "GET /user-info") == 1


def test_conflict(tower: Any, tower_emulator: TowerEmulator) -> None:
    tower_emulator.inject("status", path=r"^/workflow/[^/]+/launch$", status=409)
    workflow_id = tower.launch("hello")
    with pytest.raises(ConflictError) as caught:
        tower.relaunch(workflow_id)
    assert caught.value.status_code == 409
    assert caught.value.error_id


def test_server_errors_are_retried(
    tower: Any, tower_emulator: TowerEmulator, fast_sleep: list[float]
) -> None:
    tower_emulator.inject("status", method="GET", path=r"^/pipelines$", status=503, times=2)
    assert tower.get_pipeline("hello").name == "hello"
    assert ops(tower_emulator, "GET /pipelines") == 3
    assert len(fast_sleep) == 2


def test_a_500_that_repeats_is_raised_after_two_retries(
    tower: Any, tower_emulator: TowerEmulator, fast_sleep: list[float]
) -> None:
    tower_emulator.inject("status", method="GET", path=r"^/pipelines$", status=500, times=3)
    with pytest.raises(ServerError) as caught:
        tower.get_pipeline("hello")
    assert caught.value.status_code == 500
    assert caught.value.error_id
    assert len(fast_sleep) == 2


def test_server_errors_exhaust_retries(
    tower_emulator: TowerEmulator, make_client: Any, fast_sleep: list[float]
) -> None:
    tower = make_client(
        tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id, max_retries=2
    )
    tower_emulator.inject("status", method="GET", path=r"^/compute-envs$", status=502, times=None)
    with pytest.raises(ServerError):
        tower.list_compute_envs()
    assert ops(tower_emulator, "GET /compute-envs") == 3


def test_injected_429_honours_retry_after(
    tower: Any, tower_emulator: TowerEmulator, fast_sleep: list[float]
) -> None:
    tower_emulator.inject("rate_limit", path=r"^/compute-envs$", times=2, retry_after=0.05)
    assert tower.list_compute_envs()
    assert fast_sleep == [0.05, 0.05]


@pytest.mark.tower_emulator(rate_limit=5, rate_limit_window=0.2)
def test_429_storm_from_a_stricter_server(tower_emulator: TowerEmulator, make_client: Any) -> None:
    tower = make_client(
        tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id, rate_limit=100
    )
    workflow_id = tower.launch("hello", params={"emulator_outcome": "hang"})
    for _ in range(12):
        assert tower.get_workflow(workflow_id).id == workflow_id
    assert tower_emulator.stats()["rate_limited"] > 0


def test_429_storm_gives_up(
    tower_emulator: TowerEmulator, make_client: Any, fast_sleep: list[float]
) -> None:
    tower = make_client(
        tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id, max_retries=2
    )
    tower_emulator.inject("rate_limit", path=r"^/compute-envs$", times=None, retry_after=0.01)
    with pytest.raises(RateLimitError) as caught:
        tower.list_compute_envs()
    assert caught.value.retry_after == pytest.approx(0.01)
    assert ops(tower_emulator, "GET /compute-envs") == 3


@pytest.mark.parametrize("kind", ["drop_before", "drop_after", "malformed_json"])
def test_broken_responses_to_reads_are_retried(
    tower: Any, tower_emulator: TowerEmulator, fast_sleep: list[float], kind: str
) -> None:
    tower_emulator.inject(kind, method="GET", path=r"^/compute-envs$")
    assert tower.list_compute_envs()
    assert len(fast_sleep) == 1


def test_persistent_drops_raise_connection_error(
    tower_emulator: TowerEmulator, make_client: Any, fast_sleep: list[float]
) -> None:
    tower = make_client(
        tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id, max_retries=1
    )
    tower_emulator.inject("drop_before", path=r"^/compute-envs$", times=None)
    with pytest.raises(TowerConnectionError) as caught:
        tower.list_compute_envs()
    assert caught.value.operation == "GET /compute-envs"
    assert tower_emulator.url in str(caught.value)


def test_slow_answers_time_out_and_are_retried(
    tower_emulator: TowerEmulator, make_client: Any, fast_sleep: list[float]
) -> None:
    tower = make_client(
        tower_emulator.url,
        tower_emulator.token,
        tower_emulator.workspace_id,
        timeout=0.2,
        max_retries=1,
    )
    tower_emulator.inject("delay", path=r"^/compute-envs$", delay=1.0)
    assert tower.list_compute_envs()  # the second attempt is answered in time
    tower_emulator.inject("delay", path=r"^/compute-envs$", delay=1.0, times=2)
    with pytest.raises(TowerTimeoutError, match="timed out"):
        tower.list_compute_envs()


def test_refused_connection(make_client: Any, fast_sleep: list[float]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    tower = make_client(f"http://127.0.0.1:{port}", "tower-access-token", 1, max_retries=2)
    with pytest.raises(TowerConnectionError) as caught:
        tower.list_compute_envs()
    assert caught.value.request_sent is False
    assert len(fast_sleep) == 2


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (405, TowerAPIError),
        (409, ConflictError),
        (418, TowerAPIError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
    ],
)
def test_every_status_maps_to_its_error_and_reads_well(
    tower_emulator: TowerEmulator, make_client: Any, status: int, cls: type[TowerAPIError]
) -> None:
    token = "tok-VISIBLE-IF-LEAKED-0042"
    tower_emulator.add_token(token)
    tower = make_client(tower_emulator.url, token, tower_emulator.workspace_id, max_retries=0)
    tower_emulator.inject("status", method="GET", path=r"^/compute-envs$", status=status)
    with pytest.raises(TowerAPIError) as caught:
        tower.list_compute_envs()
    error = caught.value
    assert type(error) is cls
    assert (error.status_code, error.operation) == (status, "GET /compute-envs")
    sent = tower_emulator.requests[-1].response_json["message"]
    assert error.error_id is not None
    assert sent.endswith(f"Error ID: {error.error_id}")
    text = str(error)
    assert text.startswith(f"{status} GET /compute-envs: ")
    assert text.endswith(f" (Error ID: {error.error_id})")
    assert sent.split(" - Error ID:")[0] in text  # the server's message
    if cls is AuthenticationError:
        assert "access token is invalid or expired" in text
        assert "endpoint is not available" in text
    for shown in (text, repr(error), str(error.__dict__)):
        assert token not in shown


def _nftower_frames(error: BaseException) -> list[str]:
    import traceback
    from pathlib import Path

    import nftower

    package = str(Path(nftower.__file__).parent)
    frames = traceback.extract_tb(error.__traceback__)
    return [f"{f.filename}:{f.name}" for f in frames if f.filename.startswith(package)]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_api_errors_are_raised_from_the_public_call(tower_emulator: Any, kind: str) -> None:
    """The user's traceback ends at the method they called, not 16 frames inside nftower."""
    import asyncio

    from nftower import AsyncTowerClient, NotFoundError, TowerClient

    args = (tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id)

    def sync_call() -> None:
        with TowerClient(*args) as client:
            client.get_workflow("missing12345")

    async def async_call() -> None:
        async with AsyncTowerClient(*args) as client:
            await client.get_workflow("missing12345")

    call = sync_call if kind == "sync" else lambda: asyncio.run(async_call())
    with pytest.raises(NotFoundError) as caught:
        call()
    assert len(_nftower_frames(caught.value)) == 1, _nftower_frames(caught.value)
    with pytest.raises(NotFoundError) as listed, TowerClient(*args) as client:
        list(client.list_tasks("missing12345"))
    assert len(_nftower_frames(listed.value)) == 1
