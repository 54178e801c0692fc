"""A refused or missing token names the credentials block and its field, where a Prefect user
fixes it, rather than only tw's environment variables."""

from __future__ import annotations

import secrets

import pytest
from nftower import AuthenticationError, TowerConfigError
from nftower.testing import TowerEmulator
from prefect_nftower import TowerCredentials
from prefect_nftower.tasks import get_workflow


def test_a_refused_token_names_the_block_and_its_fields(
    emulator: TowerEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOWER_API_ENDPOINT", raising=False)
    name = "refused-" + secrets.token_hex(4)
    unknown = "tok-" + secrets.token_hex(16)  # well formed, but Tower does not know it
    TowerCredentials(access_token=unknown, api_url=emulator.url).save(name)
    with pytest.raises(AuthenticationError) as caught:
        get_workflow.fn(TowerCredentials.load(name), "4Bi5xBK6E2Nbhj")
    message = str(caught.value)
    assert f"the TowerCredentials block {name!r}" in message
    assert "fields Access Token and API URL, and TOWER_WORKSPACE_ID" in message
    assert unknown not in message


def test_a_missing_token_names_the_block_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOWER_ACCESS_TOKEN", raising=False)
    name = "tokenless-" + secrets.token_hex(4)
    TowerCredentials(api_url="https://tower.example.org/api").save(name)
    with pytest.raises(TowerConfigError, match=rf"Access Token field .* block '{name}'"):
        TowerCredentials.load(name).get_config()
