"""`TowerCredentials`: the access token and endpoint of a Tower / Seqera Platform account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect.blocks.abstract import CredentialsBlock
from pydantic import Field, SecretStr

if TYPE_CHECKING:
    from nftower import AsyncTowerClient, TowerClient, TowerConfig

__all__ = ["TowerCredentials"]


class TowerCredentials(CredentialsBlock):
    """Access token and endpoint for Nextflow Tower / Seqera Platform.

    Every field left empty falls back to the variables the `tw` CLI reads:
    `TOWER_ACCESS_TOKEN`, `TOWER_API_ENDPOINT` (else Seqera Cloud) and `TOWER_WORKSPACE_ID`.
    All clients of one token in a process share one rate limiter (20 calls/s by default).

    Examples:
        Load stored credentials and list the launchpad pipelines:
        ```python
        from prefect_nftower import TowerCredentials

        credentials = TowerCredentials.load("BLOCK_NAME")
        with credentials.get_client() as client:
            for pipeline in client.list_pipelines():
                print(pipeline.name)
        ```
    """

    _block_type_name = "Tower Credentials"
    _block_type_slug = "tower-credentials"
    # No logo and no documentation URL: the package publishes neither at an address that
    # can be checked, and Prefect's UI draws a broken image for a logo URL that fails.

    # Plain (non-optional) types with empty defaults: Prefect's form draws a masked input for
    # a `SecretStr` and a text input for a `str`, where an optional type would add a
    # type switch ("password | null") over an unmasked text area.
    access_token: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "Tower / Seqera Platform personal access token. "
            "Empty: the TOWER_ACCESS_TOKEN environment variable."
        ),
    )
    api_url: str = Field(
        default="",
        title="API URL",
        description=(
            "API endpoint, e.g. https://api.cloud.seqera.io or https://tower.example.org/api. "
            "Empty: TOWER_API_ENDPOINT, else Seqera Cloud."
        ),
    )
    workspace: str = Field(
        default="",
        description=(
            "Workspace as a numeric id or 'organization/workspace'. "
            "Empty: TOWER_WORKSPACE_ID, else the personal workspace."
        ),
    )
    rate_limit_backend: str = Field(
        default="",
        description=(
            "Where the per-token rate limit is counted: memory://, file:///path, "
            "sqlite:///path or redis://host:port/db. Empty: NFTOWER_RATE_LIMIT_BACKEND, else "
            "file:// (a locked file in the user's cache directory, host-wide)."
        ),
    )
    prefect_rate_limit: str = Field(
        default="",
        title="Prefect rate limit name",
        description=(
            "Name of a Prefect global concurrency limit with slot decay; every task takes one "
            "slot of it before calling Tower (an error if the limit does not exist), as a "
            "guard shared by all processes. Empty: none."
        ),
    )

    def get_config(self) -> TowerConfig:
        """The `nftower.TowerConfig` both clients are built from.

        Raises:
            nftower.TowerConfigError: no token here nor in TOWER_ACCESS_TOKEN.
        """
        from nftower import TowerConfig

        token = self.access_token.get_secret_value() if self.access_token else ""
        return TowerConfig.from_env(
            token=token or None,
            api_url=self.api_url or None,
            workspace=self.workspace or None,
            rate_limit_backend=self.rate_limit_backend or None,
        )

    def get_client(self) -> TowerClient:
        """A synchronous `nftower.TowerClient`; use it as a context manager.

        Examples:
            ```python
            with TowerCredentials.load("BLOCK_NAME").get_client() as client:
                print(client.user_info().user_name)
            ```
        """
        from nftower import TowerClient

        return TowerClient(config=self.get_config())

    def get_async_client(self) -> AsyncTowerClient:
        """An asynchronous `nftower.AsyncTowerClient`; use it with `async with`.

        Examples:
            ```python
            async with TowerCredentials.load("BLOCK_NAME").get_async_client() as client:
                print((await client.user_info()).user_name)
            ```
        """
        from nftower import AsyncTowerClient

        return AsyncTowerClient(config=self.get_config())
