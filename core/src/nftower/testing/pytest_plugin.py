"""Pytest fixtures for the Tower emulator (registered through the ``pytest11`` entry point).

``tower_emulator`` yields a started :class:`~nftower.testing.TowerEmulator` (speed 50) per
test; ``tower_env`` also points ``TOWER_API_ENDPOINT``, ``TOWER_ACCESS_TOKEN`` and
``TOWER_WORKSPACE_ID`` at it. Options go through a marker::

    @pytest.mark.tower_emulator(speed=200, rate_limit=None)
    def test_fast(tower_emulator): ...

Nothing heavy is imported until a fixture is used, so users without the ``emulator``
extra can still run pytest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from nftower.testing import TowerEmulator

DEFAULT_SPEED = 50.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "tower_emulator(**options): keyword arguments for the tower_emulator fixture's "
        "TowerEmulator (speed, token, rate_limit, rate_limit_window, seed)",
    )


@pytest.fixture
def tower_emulator(request: pytest.FixtureRequest) -> Iterator[TowerEmulator]:
    """A running Tower emulator (speed 50 unless the ``tower_emulator`` marker says else)."""
    from nftower.testing import TowerEmulator

    options: dict[str, Any] = {"speed": DEFAULT_SPEED}
    marker = request.node.get_closest_marker("tower_emulator")
    if marker is not None:
        options.update(marker.kwargs)
    with TowerEmulator(**options) as emulator:
        yield emulator


@pytest.fixture
def tower_env(tower_emulator: TowerEmulator, monkeypatch: pytest.MonkeyPatch) -> TowerEmulator:
    """The ``tower_emulator``, with the TOWER_* environment variables pointing at it."""
    monkeypatch.setenv("TOWER_API_ENDPOINT", tower_emulator.url)
    monkeypatch.setenv("TOWER_ACCESS_TOKEN", tower_emulator.token)
    if tower_emulator.workspace_id is not None:
        monkeypatch.setenv("TOWER_WORKSPACE_ID", str(tower_emulator.workspace_id))
    else:
        monkeypatch.delenv("TOWER_WORKSPACE_ID", raising=False)
    return tower_emulator
