"""Helpers shared by the Prefect collection tests."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any
from uuid import UUID

from nftower.testing import TowerEmulator

SPEED = 50.0
POLL = 0.2


def token_hash(token: str) -> str:
    """How the emulator records a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def launches_of(emulator: TowerEmulator, token: str) -> list[Any]:
    """Launch requests made with `token`."""
    return [r for r in emulator.launches if r.token_hash == token_hash(token)]


def requests_of(emulator: TowerEmulator, token: str) -> list[Any]:
    """All requests made with `token`."""
    return [r for r in emulator.requests if r.token_hash == token_hash(token)]


def run_logs(flow_run_id: UUID) -> list[str]:
    """The messages the Prefect server holds for a flow run (its task runs included)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # send queued run logs first

    async def read() -> list[str]:
        async with get_client() as client:
            logs = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
        return [log.message for log in logs]

    return asyncio.run(read())
