"""`TowerCredentials`: the access token and endpoint of a Tower / Seqera Platform account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect.blocks.abstract import CredentialsBlock
from pydantic import Field, ModelWrapValidatorHandler, SecretStr, model_validator

from ._saved_block import describe, is_mask, reattach, saved_secret

if TYPE_CHECKING:
    from nftower import AsyncTowerClient, TowerClient, TowerConfig
    from typing_extensions import Self

__all__ = ["TowerCredentials"]


class TowerCredentials(CredentialsBlock):
    """Access token and endpoint for Nextflow Tower / Seqera Platform.

    Every field left empty falls back to the variables the `tw` CLI reads:
    `TOWER_ACCESS_TOKEN`, `TOWER_API_ENDPOINT` (else Seqera Cloud) and `TOWER_WORKSPACE_ID`.
    All clients of one token in a process share one rate limiter (20 calls/s by default).

    Passed as a flow parameter, a saved block is stored by Prefect with its token masked;
    a retried flow run gets the block back from that stored form, and the token is then
    reloaded from the saved block by its document id (a masked token is never sent to Tower).

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

    timeout: float = Field(
        default=30.0,  # TowerConfig's default
        title="Timeout",
        description="Seconds to wait for each answer from Tower before retrying it.",
    )
    verify: str = Field(
        default="",
        title="TLS verification",
        description=(
            "How Tower's certificate is checked. Empty: against REQUESTS_CA_BUNDLE / "
            "SSL_CERT_FILE when set, else the usual public CAs. A path: the CA bundle of your "
            "organisation (a PEM file or a directory). 'false': not checked (one warning)."
        ),
    )

    @model_validator(mode="wrap")
    @classmethod
    def _keep_the_saved_document(
        cls, data: Any, handler: ModelWrapValidatorHandler[TowerCredentials]
    ) -> TowerCredentials:
        """A block rebuilt from a flow run's stored parameters keeps its document id."""
        block = handler(data)
        reattach(block, data)
        return block

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        """As `Block.model_validate`, which drops the document id before validation."""
        stored = dict(obj) if isinstance(obj, dict) else None
        block = super().model_validate(obj if stored is None else dict(stored), **options)
        reattach(block, stored)
        return block

    def get_config(self) -> TowerConfig:
        """The `nftower.TowerConfig` both clients are built from.

        Raises:
            nftower.TowerConfigError: no token here nor in TOWER_ACCESS_TOKEN; a masked token
                whose saved block cannot be reloaded; a bad timeout or verify value.
        """
        import os

        from nftower import TowerConfig, TowerConfigError

        token = self._token()
        if not token and not os.environ.get("TOWER_ACCESS_TOKEN", "").strip():
            raise TowerConfigError(
                f"No access token: the Access Token field of the TowerCredentials block "
                f"{describe(self)} is empty and TOWER_ACCESS_TOKEN is not set (create a token "
                "under 'Your tokens' in the Tower web UI)."
            )
        return TowerConfig.from_env(
            token=token or None,
            api_url=self.api_url or None,
            workspace=self.workspace or None,
            rate_limit_backend=self.rate_limit_backend or None,
            timeout=self.timeout,
            verify=_verify(self.verify),
            settings_hint=self.settings_hint(),
        )

    def settings_hint(self) -> str:
        """What to check when Tower refuses the token: this block's fields that set the token,
        the workspace and the API URL, and the variables the empty ones fall back to.

        Examples:
            >>> TowerCredentials(access_token="x" * 20, workspace="acme/prod").settings_hint()
            'the TowerCredentials block that was never saved: fields Access Token and Workspace, and TOWER_API_ENDPOINT'
        """  # noqa: E501
        from nftower._api_errors import describe_settings

        token = self.access_token.get_secret_value().strip() if self.access_token else ""
        fields = [
            ("Access Token", "TOWER_ACCESS_TOKEN", bool(token)),
            ("Workspace", "TOWER_WORKSPACE_ID", bool(self.workspace)),
            ("API URL", "TOWER_API_ENDPOINT", bool(self.api_url)),
        ]
        return describe_settings(f"the TowerCredentials block {describe(self)}:", fields)

    def _token(self) -> str:
        token = self.access_token.get_secret_value().strip() if self.access_token else ""
        if not is_mask(token):
            return token
        try:
            return saved_secret(self, "access_token")
        except LookupError as error:
            from nftower import TowerConfigError

            raise TowerConfigError(
                f"The access token of the TowerCredentials block {describe(self)} is Prefect's "
                f"mask of a secret, not a token (the block was rebuilt from a flow run's "
                f"stored parameters), and the saved block could not be reloaded: {error}. "
                "Save the block (TowerCredentials(...).save('NAME')) and pass "
                "TowerCredentials.load('NAME'), or load it inside the flow."
            ) from None

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


_OFF = {"false", "0", "no", "off"}


def _verify(value: str) -> bool | str:
    """The client's ``verify`` from the block's text field.

    >>> _verify(""), _verify("False"), _verify("/etc/ssl/certs")
    (True, False, '/etc/ssl/certs')
    """
    text = value.strip()
    if not text or text.lower() in {"true", "1", "yes", "on"}:
        return True
    if text.lower() in _OFF:
        return False
    return text
