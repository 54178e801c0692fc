"""Helpers shared by the Prefect collection tests."""

from __future__ import annotations

import hashlib
from typing import Any

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
