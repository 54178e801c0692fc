"""Optional cross-process guard through a Prefect global concurrency limit.

The core client already keeps every process under the per-token limit. When the
credentials block names a Prefect global concurrency limit, each Tower operation of a
task also takes one slot of it first (`strict=True`: a missing limit is an error, not a
silent pass), so many processes sharing one token stay under a shared budget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .credentials import TowerCredentials

__all__ = ["aguard"]


async def aguard(credentials: TowerCredentials) -> None:
    """Take one slot of the configured Prefect rate limit (no-op when none is set).

    Sync tasks run their async twin (`run_sync`), so this one form serves both.
    """
    name = credentials.prefect_rate_limit
    if not name:
        return
    from prefect.concurrency.asyncio import rate_limit

    await rate_limit(name, occupy=1, strict=True)
