"""The optional Prefect global concurrency limit named on the credentials block."""

from __future__ import annotations

import secrets

import pytest
from nftower.testing import TowerEmulator
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect_nftower import TowerCredentials
from prefect_nftower.tasks import aget_workflow, call_tower_endpoint
from tower_helpers import requests_of


def with_limit(credentials: TowerCredentials, name: str) -> TowerCredentials:
    return credentials.model_copy(update={"prefect_rate_limit": name})


def test_each_task_takes_a_slot(credentials: TowerCredentials) -> None:
    name = "tower-api-" + secrets.token_hex(4)
    with get_client(sync_client=True) as client:
        # slow decay: the slots taken stay visible for the assertion
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=name, limit=50, slot_decay_per_second=0.01)
        )
    guarded = with_limit(credentials, name)

    @flow
    def two_calls(credentials: TowerCredentials) -> None:
        call_tower_endpoint(credentials, "GET", "/user-info")
        call_tower_endpoint(credentials, "GET", "/user-info")

    two_calls(guarded)
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(name)
    assert limit.active_slots == 2


async def test_missing_limit_fails_before_any_tower_call(
    credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError

    guarded = with_limit(credentials, "no-such-limit-" + secrets.token_hex(4))
    with pytest.raises(ConcurrencySlotAcquisitionError):
        await aget_workflow.fn(guarded, "abc")
    assert requests_of(emulator, token) == []
