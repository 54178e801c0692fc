"""Fixtures for the Prefect collection: one Prefect test server and one Tower emulator per session.

Both live for the whole session (the Prefect server takes ~13 s to start). Every test gets
its own Tower token (an emulator token of its own), so launches and requests of one test
are told apart from the others' by `token_hash`.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from typing import Any

# Results of cached tasks and the Prefect profile go to a throwaway home, never ~/.prefect.
_HOME = tempfile.mkdtemp(prefix="prefect-nftower-tests-")
os.environ.setdefault("PREFECT_HOME", _HOME)
os.environ.setdefault("PREFECT_LOCAL_STORAGE_PATH", os.path.join(_HOME, "storage"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
os.environ.setdefault("NFTOWER_RATE_LIMIT_BACKEND", "memory://")
for _name in ("TOWER_ACCESS_TOKEN", "TOWER_API_ENDPOINT", "TOWER_WORKSPACE_ID"):
    os.environ.pop(_name, None)

import pytest  # noqa: E402
from nftower.testing import TowerEmulator  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402
from prefect_nftower import TowerCredentials  # noqa: E402
from tower_helpers import SPEED  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    """A Prefect server on a temporary SQLite database for the whole session."""
    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture(scope="session")
def emulator() -> Iterator[TowerEmulator]:
    """The Tower emulator, fast (50x) and with the per-token limit on."""
    with TowerEmulator(speed=SPEED) as emu:
        yield emu


@pytest.fixture
def token(emulator: TowerEmulator) -> str:
    """A token of this test only (its own rate-limit bucket and request records)."""
    value = "tok-" + secrets.token_hex(16)
    emulator.add_token(value)
    return value


@pytest.fixture
def credentials(emulator: TowerEmulator, token: str) -> TowerCredentials:
    """Credentials for the emulator's seeded workspace."""
    return TowerCredentials(
        access_token=token,
        api_url=emulator.url,
        workspace=str(emulator.workspace_id),
        rate_limit_backend="memory://",
    )


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every event the collection emits during the test (still sent to the server)."""
    import prefect.events

    sent: list[dict[str, Any]] = []
    original = prefect.events.emit_event

    def record(event: str, **kwargs: Any) -> Any:
        sent.append({"event": event, **kwargs})
        return original(event, **kwargs)

    monkeypatch.setattr(prefect.events, "emit_event", record)
    return sent
