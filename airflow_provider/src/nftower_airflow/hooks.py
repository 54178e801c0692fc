"""TowerHook: turns an Airflow ``tower`` connection into an ``nftower`` client.

The hook holds no HTTP code: it reads the connection once, builds one ``nftower.TowerConfig`` and
hands it to ``nftower.TowerClient`` (workers) or ``nftower.AsyncTowerClient`` (triggerer).
"""

from __future__ import annotations

from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseHook

from nftower_airflow._connection import ConnectionSettings, settings_from_connection
from nftower_airflow._version import __version__

if TYPE_CHECKING:
    from nftower import AsyncTowerClient, TowerClient, TowerConfig


class TowerHook(BaseHook):
    """Access Nextflow Tower / Seqera Platform through an Airflow connection of type ``tower``.

    Connection fields: ``host`` = API URL (default ``https://api.cloud.seqera.io``; scheme and
    path allowed), ``password`` = access token, extra ``workspace`` = numeric id or
    ``"org/workspace"``, extra ``rate_limit_backend`` = ``memory://``, ``file:///path``,
    ``sqlite:///path`` or ``redis://host:port/db`` (default ``file://``, host-wide). py-orca's
    layout (``host`` + ``schema`` -> ``https://host/schema``) works too.

    Example:
        >>> hook = TowerHook("tower_default")                       # doctest: +SKIP
        >>> with hook.get_conn() as client:                          # doctest: +SKIP
        ...     print(client.get_workflow("4Bi5xBK6E2Nbhj").status)
        >>> async with await hook.get_async_conn() as client:        # doctest: +SKIP
        ...     wf = await client.get_workflow("4Bi5xBK6E2Nbhj")

    :param tower_conn_id: Airflow connection id (type ``tower``).
    :param workspace: overrides the connection's workspace (id or ``"org/workspace"``).
    :param client_options: further ``TowerConfig`` fields (``timeout``, ``max_retries``, ...).
    """

    conn_name_attr = "tower_conn_id"
    default_conn_name = "tower_default"
    conn_type = "tower"
    hook_name = "Nextflow Tower / Seqera Platform"

    def __init__(
        self,
        tower_conn_id: str = default_conn_name,
        *,
        workspace: str | int | None = None,
        **client_options: Any,
    ) -> None:
        super().__init__()
        self.tower_conn_id = tower_conn_id
        self.workspace = workspace
        self.client_options = client_options
        self._async_config: TowerConfig | None = None

    # -- configuration -------------------------------------------------------------------------

    def _build_config(self, settings: ConnectionSettings) -> TowerConfig:
        """The configuration; its errors, and Tower's refusal of the token, name this
        connection and its fields (not ``TOWER_*`` variables it does not use)."""
        from nftower import TowerConfig, TowerConfigError

        overrides = settings.overrides(workspace=self.workspace)
        overrides.setdefault("user_agent", user_agent())
        overrides.setdefault("settings_hint", settings.settings_hint(self.tower_conn_id))
        overrides.update(self.client_options)
        try:
            return TowerConfig.from_env(**overrides)
        except TowerConfigError as err:
            where = f"Connection {self.tower_conn_id!r}"
            if "token" in settings.values and "token" in str(err).lower():
                field = "Password" if settings.token_from_password else "Extra 'token'"
                where = f"{where} field {field}"
            raise TowerConfigError(f"{where}: {err}") from None

    @cached_property
    def config(self) -> TowerConfig:
        """The ``TowerConfig`` for this connection (read once, on first use)."""
        from airflow.sdk.log import mask_secret

        conn = self.get_connection(self.tower_conn_id)
        settings = settings_from_connection(conn, conn.extra_dejson)
        config = self._build_config(settings)
        if not settings.token_from_password and config.token:
            mask_secret(config.token)
        return config

    async def aget_config(self) -> TowerConfig:
        """The ``TowerConfig``, read without blocking the event loop (for triggers)."""
        if self._async_config is not None:
            return self._async_config
        if "config" in self.__dict__:
            return self.config
        from airflow.providers.common.compat.connection import (
            get_async_connection,
            get_async_extra_dejson,
        )
        from airflow.sdk.log import amask_secret

        conn = await get_async_connection(self.tower_conn_id, hook=self)
        extra = await get_async_extra_dejson(conn)
        settings = settings_from_connection(conn, extra)
        config = self._build_config(settings)
        if not settings.token_from_password and config.token:
            await amask_secret(config.token)
        self._async_config = config
        return config

    # -- clients -------------------------------------------------------------------------------

    def get_conn(self) -> TowerClient:
        """A new synchronous ``nftower.TowerClient``; use it as a context manager."""
        from nftower import TowerClient

        return TowerClient(config=self.config)

    async def get_async_conn(self) -> AsyncTowerClient:
        """A new ``nftower.AsyncTowerClient``; use it with ``async with``."""
        from nftower import AsyncTowerClient

        return AsyncTowerClient(config=await self.aget_config())

    def test_connection(self) -> tuple[bool, str]:
        """Check the API URL, the token, TLS and the workspace (used by the UI's Test button).

        Fails with the client's words on a redirect (the web UI or a login page), an answer
        that is not the API's, a certificate that fails the check (the ``verify`` extra) or
        a user answer without a user name; never "connected" to something that is not Tower.
        """
        from nftower import TowerError

        try:
            with self.get_conn() as client:
                service = client.service_info()
                user = client.user_info()
                workspace_id = client.workspace_id()
        except TowerError as err:
            return False, str(err)
        version = getattr(service, "version", None) or "unknown version"
        user_name = getattr(user, "user_name", None)
        if not user_name:
            return False, (
                "GET /user-info: the answer names no user, so this is not a Tower API that "
                "knows the token; check the API URL (the API, e.g. https://tower.example.org/api)"
            )
        where = f"workspace {workspace_id}" if workspace_id is not None else "personal workspace"
        return True, f"Connected to Tower ({version}) as {user_name}, {where}."


@cache
def user_agent() -> str:
    """The provider's part of the User-Agent header (computed once per process).

    Example:
        >>> user_agent().startswith("airflow-provider-nftower/")
        True
    """
    from airflow import __version__ as airflow_version

    return f"airflow-provider-nftower/{__version__} apache-airflow/{airflow_version}"
