"""Blocks: Prefect standards, configuration, save/load with the secret masked, registration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from nftower import AsyncTowerClient, TowerClient, TowerConfigError
from prefect.blocks.core import Block
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from prefect.testing.standard_test_suites import BlockStandardTestSuite
from prefect_nftower import TowerCredentials, TowerPipeline

TOKEN = "s3cr3t-token-value-for-blocks"


@pytest.mark.parametrize("block_class", [TowerCredentials, TowerPipeline])
class TestBlockStandards(BlockStandardTestSuite):
    @pytest.fixture
    def block(self, block_class: type[Block]) -> type[Block]:
        return block_class

    def test_has_a_valid_image(self, block: type[Block]) -> None:
        """No logo: the package publishes none at a checkable address (a failing URL is a
        broken image in Prefect's UI)."""
        assert block._logo_url is None

    def test_has_a_documentation_url(self, block: type[Block]) -> None:
        """No documentation URL for the same reason: no link to a page that may not exist."""
        assert block._documentation_url is None


def test_fields_are_plain_types_with_empty_defaults() -> None:
    """Optional types draw as a "str | None" switch in Prefect's form; plain ones do not."""
    for block in (TowerCredentials, TowerPipeline):
        for name, prop in block.model_json_schema()["properties"].items():
            assert "anyOf" not in prop, (block.__name__, name)
    token = TowerCredentials.model_json_schema()["properties"]["access_token"]
    assert token["format"] == "password"
    assert TowerCredentials().access_token.get_secret_value() == ""


def test_config_from_block_fields() -> None:
    creds = TowerCredentials(
        access_token=TOKEN, api_url="https://tower.example.org/api", workspace="acme/prod"
    )
    config = creds.get_config()
    assert config.token == TOKEN
    assert config.api_url == "https://tower.example.org/api"
    assert config.workspace_name == ("acme", "prod")
    assert TOKEN not in repr(creds)
    assert TOKEN not in repr(config)


def test_empty_fields_fall_back_to_tw_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWER_ACCESS_TOKEN", "env-token-0123456789")
    monkeypatch.setenv("TOWER_API_ENDPOINT", "https://env.example.org/api")
    monkeypatch.setenv("TOWER_WORKSPACE_ID", "123")
    config = TowerCredentials().get_config()
    assert (config.token, config.api_url, config.workspace) == (
        "env-token-0123456789",
        "https://env.example.org/api",
        123,
    )
    # a field set on the block wins over the environment
    assert TowerCredentials(workspace="7").get_config().workspace == 7


def test_missing_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOWER_ACCESS_TOKEN", raising=False)
    with pytest.raises(TowerConfigError, match="TOWER_ACCESS_TOKEN"):
        TowerCredentials(api_url="https://tower.example.org/api").get_client()


async def test_both_clients_come_from_one_config(credentials: TowerCredentials) -> None:
    with credentials.get_client() as client:
        assert isinstance(client, TowerClient)
        sync_workspace = client.workspace_id()
    async with credentials.get_async_client() as aclient:
        assert isinstance(aclient, AsyncTowerClient)
        assert await aclient.workspace_id() == sync_workspace


async def test_save_load_round_trip_masks_the_secret() -> None:
    creds = TowerCredentials(access_token=TOKEN, api_url="https://tower.example.org/api")
    pipeline = TowerPipeline(
        credentials=creds, pipeline="rnaseq", params={"outdir": "s3://b/out"}, poll_interval=5
    )
    await pipeline.save("nightly-rnaseq", overwrite=True)

    loaded = await TowerPipeline.load("nightly-rnaseq")
    assert loaded.credentials.access_token is not None
    assert loaded.credentials.access_token.get_secret_value() == TOKEN
    assert loaded.params == {"outdir": "s3://b/out"}
    assert loaded.poll_interval == 5

    async with get_client() as client:
        document = await client.read_block_document_by_name(
            "nightly-rnaseq", block_type_slug="tower-pipeline", include_secrets=False
        )
        credential_documents = await client.read_block_documents(include_secrets=False)
    assert TOKEN not in document.model_dump_json()
    assert all(TOKEN not in doc.model_dump_json() for doc in credential_documents)
    schema_secrets = TowerCredentials.model_json_schema()["secret_fields"]
    assert schema_secrets == ["access_token"]


def test_block_register_command_against_the_server() -> None:
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value())
    cli = Path(sys.executable).with_name("prefect")
    result = subprocess.run(
        [str(cli), "block", "register", "-m", "prefect_nftower"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Successfully registered 2 blocks" in result.stdout
    listing = subprocess.run(
        [str(cli), "block", "type", "ls"], env=env, capture_output=True, text=True, timeout=120
    )
    assert "tower-credentials" in listing.stdout
    assert "tower-pipeline" in listing.stdout


def test_top_level_import_is_light() -> None:
    code = (
        "import sys, prefect, time; t = time.perf_counter(); import prefect_nftower; "
        "print(time.perf_counter() - t); "
        "print(any(m.startswith('nftower') for m in sys.modules)); "
        "print('prefect_nftower.tasks' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    # neither the core client nor the tasks/flows load until used
    assert out[1:] == ["False", "False"]


def test_entry_point_lets_any_prefect_process_load_the_blocks() -> None:
    """A process that never imports prefect_nftower loads its blocks by slug."""
    TowerCredentials(access_token=TOKEN).save("entry-point-check", overwrite=True)
    code = (
        "from prefect.blocks.core import Block\n"
        "block = Block.load('tower-credentials/entry-point-check')\n"
        "print(type(block).__module__, type(block).__name__)\n"
    )
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value())
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["prefect_nftower.credentials", "TowerCredentials"]
