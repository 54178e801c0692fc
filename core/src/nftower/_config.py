"""Client configuration: :class:`TowerConfig` and its environment-variable defaults.

The configuration is a frozen value object. Both clients, the Airflow hook and the Prefect block
build one and pass it around; nothing in it is resolved over the network (an ``"org/workspace"``
name is resolved lazily by the client on first use).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ._exceptions import TowerConfigError
from ._secrets import check_token, redact_userinfo
from ._tls import check_verify

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_RATE_LIMIT_WINDOW",
    "DEFAULT_TIMEOUT",
    "ENV_API_ENDPOINT",
    "ENV_RATE_LIMIT_BACKEND",
    "ENV_TOKEN",
    "ENV_WORKSPACE",
    "NOT_GIVEN",
    "NotGiven",
    "TowerConfig",
    "given",
]

DEFAULT_API_URL = "https://api.cloud.seqera.io"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 5
DEFAULT_RATE_LIMIT = 20
DEFAULT_RATE_LIMIT_WINDOW = 1.0
DEFAULT_ACCEPT_VERSION = "1"

ENV_API_ENDPOINT = "TOWER_API_ENDPOINT"
ENV_TOKEN = "TOWER_ACCESS_TOKEN"
ENV_WORKSPACE = "TOWER_WORKSPACE_ID"
ENV_RATE_LIMIT_BACKEND = "NFTOWER_RATE_LIMIT_BACKEND"


class NotGiven:
    """The type of :data:`NOT_GIVEN`: an argument the caller left out.

    ``None`` cannot mark that, because ``None`` is a value some options take (``ui_url=None``:
    derive the UI from the API URL). A client option that is ``NOT_GIVEN`` keeps the value of
    ``config=`` (or the default of :class:`TowerConfig`); any other value, ``None`` included,
    wins.

    Example:
        >>> NOT_GIVEN, bool(NOT_GIVEN), NotGiven() is NOT_GIVEN
        (NOT_GIVEN, False, True)
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


def given(**options: Any) -> dict[str, Any]:
    """The options the caller passed (those that are not :data:`NOT_GIVEN`).

    Example:
        >>> given(timeout=NOT_GIVEN, ui_url=None, max_retries=2)
        {'ui_url': None, 'max_retries': 2}
    """
    return {key: value for key, value in options.items() if value is not NOT_GIVEN}


def env_seconds(name: str, default: float) -> float:
    """Seconds from the environment variable ``name``; ``default`` when it is unset, not a
    number, negative, NaN or infinite.

    Example:
        >>> env_seconds("NFTOWER_DOCTEST_UNSET", 60.0)
        60.0
    """
    text = os.environ.get(name, "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= 0 else default


_WORKSPACE_NAME = re.compile(r"^(?P<org>[^/\s]+)/(?P<workspace>[^/\s]+)$")


@dataclass(frozen=True, kw_only=True)
class TowerConfig:
    """Connection settings for a Tower / Seqera Platform API.

    The token is kept out of ``repr()`` and ``str()``. ``workspace`` is a numeric workspace id
    (``int`` or digits) or an ``"org/workspace"`` name, resolved by the client on first use.

    Example:
        >>> cfg = TowerConfig(token="my-secret-token-42", workspace="42")
        >>> cfg.workspace, cfg.api_url
        (42, 'https://api.cloud.seqera.io')
        >>> "my-secret-token-42" in repr(cfg)
        False
        >>> TowerConfig(token="tower-access-token", workspace="acme/prod").workspace_name
        ('acme', 'prod')
    """

    __module__ = "nftower"  # shown (and pickled) as nftower.TowerConfig

    token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    workspace: int | str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    rate_limit: int = DEFAULT_RATE_LIMIT
    rate_limit_window: float = DEFAULT_RATE_LIMIT_WINDOW
    rate_limit_backend: str | None = None
    accept_version: str = DEFAULT_ACCEPT_VERSION
    ui_url: str | None = None
    user_agent: str | None = None
    #: TLS: ``True`` (check certificates; ``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE`` apply),
    #: the path of a CA bundle, or ``False`` (no check, one warning). See :mod:`nftower._tls`.
    verify: bool | str = True
    #: What an "access denied" error tells the user to check, when the settings come from
    #: elsewhere than the ``TOWER_*`` variables (e.g. "connection 'tower_default' fields
    #: Password, Workspace and API URL"); ``None``: the token and those variables.
    settings_hint: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.token, str) or not self.token.strip():
            raise TowerConfigError(
                f"No Tower access token: pass token=... or set {ENV_TOKEN} "
                "(create one under 'Your tokens' in the Tower web UI)."
            )
        object.__setattr__(self, "token", check_token(self.token))
        object.__setattr__(self, "api_url", _normalise_url(self.api_url, "api_url"))
        if self.ui_url is not None:
            object.__setattr__(self, "ui_url", _normalise_url(self.ui_url, "ui_url"))
        object.__setattr__(self, "workspace", _parse_workspace(self.workspace))
        _check_number("timeout", self.timeout, minimum=0.0, exclusive=True)
        _check_number("rate_limit_window", self.rate_limit_window, minimum=0.0, exclusive=True)
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TowerConfigError(f"max_retries must be an integer >= 0, got {self.max_retries!r}")
        if self.max_retries < 0:
            raise TowerConfigError(f"max_retries must be >= 0, got {self.max_retries}")
        if isinstance(self.rate_limit, bool) or not isinstance(self.rate_limit, int):
            raise TowerConfigError(f"rate_limit must be an integer >= 1, got {self.rate_limit!r}")
        if self.rate_limit < 1:
            raise TowerConfigError(f"rate_limit must be >= 1, got {self.rate_limit}")
        object.__setattr__(self, "accept_version", str(self.accept_version).strip())
        _check_header_text("accept_version", self.accept_version)
        if self.user_agent is not None:
            _check_header_text("user_agent", self.user_agent)
        object.__setattr__(self, "verify", check_verify(self.verify))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, /, **overrides: Any) -> TowerConfig:
        """Build a configuration from ``TOWER_*`` environment variables plus overrides.

        ``TOWER_API_ENDPOINT`` (default ``https://api.cloud.seqera.io``), ``TOWER_ACCESS_TOKEN``
        (required unless ``token=`` is given), ``TOWER_WORKSPACE_ID`` (id or ``"org/workspace"``)
        and ``NFTOWER_RATE_LIMIT_BACKEND``. Overrides that are ``None`` fall back to the
        environment.

        Example:
            >>> env = {"TOWER_ACCESS_TOKEN": "tower-access-token"}
            >>> cfg = TowerConfig.from_env(env, workspace=7)
            >>> cfg.workspace
            7
        """
        environ = os.environ if env is None else env
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TowerConfigError(f"Unknown TowerConfig option(s): {', '.join(sorted(unknown))}")
        values = {key: value for key, value in overrides.items() if value is not None}
        from_env = {
            "api_url": environ.get(ENV_API_ENDPOINT),
            "token": environ.get(ENV_TOKEN),
            "workspace": environ.get(ENV_WORKSPACE),
            "rate_limit_backend": environ.get(ENV_RATE_LIMIT_BACKEND),
        }
        for key, value in from_env.items():
            if key not in values and value is not None and value.strip():
                values[key] = value.strip()
        values.setdefault("token", "")
        return cls(**values)

    def replace(self, **changes: Any) -> TowerConfig:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def workspace_id(self) -> int | None:
        """The workspace id when configured numerically, else ``None``."""
        return self.workspace if isinstance(self.workspace, int) else None

    @property
    def workspace_name(self) -> tuple[str, str] | None:
        """``(org, workspace)`` when configured by name, else ``None``."""
        if isinstance(self.workspace, str):
            match = _WORKSPACE_NAME.match(self.workspace)
            if match:
                return match["org"], match["workspace"]
        return None

    @property
    def web_url(self) -> str:
        """Base URL of the web UI: ``ui_url`` or the API URL without ``api.`` / ``/api``.

        Example:
            >>> TowerConfig(token="tower-access-token").web_url
            'https://cloud.seqera.io'
            >>> TowerConfig(token="tower-access-token", api_url="https://tower.example.org/api/").web_url
            'https://tower.example.org'
        """
        if self.ui_url:
            return self.ui_url
        parts = urlsplit(self.api_url)
        host = parts.netloc
        if host.startswith("api."):
            host = host[len("api.") :]
        path = parts.path
        if path.endswith("/api"):
            path = path[: -len("/api")]
        return urlunsplit((parts.scheme, host, path, "", "")).rstrip("/")


#: Hosts of Seqera Cloud (HTTPS only), each with its API host (the web UI's root is no API).
_CLOUD_API = {
    "api.cloud.seqera.io": "api.cloud.seqera.io",
    "cloud.seqera.io": "api.cloud.seqera.io",
    "api.tower.nf": "api.tower.nf",
    "tower.nf": "api.tower.nf",
}
_warned_plain_http: set[str] = set()


def _normalise_url(value: object, name: str) -> str:
    """``value`` without surrounding blanks and trailing ``/``, or :class:`TowerConfigError`:
    no scheme, ``user:password@``, a query or fragment, or ``http://`` for Seqera Cloud."""
    if not isinstance(value, str) or not value.strip():
        raise TowerConfigError(f"{name} must be a non-empty URL, got {value!r}")
    url = value.strip().rstrip("/")
    shown = redact_userinfo(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        hint = ""
        if "://" not in url and url[:1].isalnum():
            hint = f" (did you mean 'https://{shown}'?)"
        raise TowerConfigError(
            f"{name} must be an http(s) URL such as {DEFAULT_API_URL}, got {shown!r}{hint}"
        )
    if "@" in parts.netloc:
        raise TowerConfigError(
            f"{name} must not hold a user name or password ({shown!r}): Tower authenticates "
            "with the access token alone; a proxy's credentials go in HTTPS_PROXY"
        )
    if parts.query or parts.fragment:
        raise TowerConfigError(f"{name} must not contain a query string or fragment: {url!r}")
    host = (parts.hostname or "").lower()
    if host in _CLOUD_API and name == "api_url" and host != _CLOUD_API[host] and not parts.path:
        raise TowerConfigError(
            f"{name} {url!r} is the Seqera Cloud web UI, not its API: use "
            f"'https://{_CLOUD_API[host]}'"
        )
    if host in _CLOUD_API and parts.scheme == "http":
        raise TowerConfigError(
            f"{name} {url!r} uses http://, which Seqera Cloud does not serve: use "
            f"{'https' + url[len('http') :]!r}"
        )
    plain = parts.scheme == "http" and not _is_loopback(host) and name == "api_url"
    if plain and url not in _warned_plain_http:
        _warned_plain_http.add(url)
        logging.getLogger("nftower").warning(
            "%s %s uses plain http://: the access token is sent unencrypted; use https:// "
            "unless this is a trusted local network",
            name,
            url,
        )
    return url


def _check_header_text(name: str, value: object) -> None:
    """A header value httpx can send: printable ASCII on one line (else a raw error, retried)."""
    if not isinstance(value, str) or not all(" " <= char <= "~" for char in value):
        raise TowerConfigError(
            f"{name} must be printable ASCII text on one line (it is sent as an HTTP header), "
            f"got {value!r}"
        )


def _is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (``127.0.0.0/8``, ``::1``)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_workspace(value: object) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TowerConfigError(f"workspace must be an id or 'org/workspace', got {value!r}")
    if isinstance(value, int):
        if value <= 0:
            raise TowerConfigError(f"workspace id must be a positive integer, got {value}")
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.isdigit():
            return _parse_workspace(int(text))
        if _WORKSPACE_NAME.match(text):
            return text
    raise TowerConfigError(
        f"workspace must be a numeric workspace id or 'org/workspace' (for example "
        f"'acme/production'), got {value!r}"
    )


def _check_number(name: str, value: object, *, minimum: float, exclusive: bool) -> None:
    """A finite number above ``minimum`` (or at least it), else :class:`TowerConfigError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TowerConfigError(f"{name} must be a finite number, got {value!r}")
    if value < minimum or (exclusive and value == minimum):
        raise TowerConfigError(f"{name} must be > {minimum}, got {value}")
