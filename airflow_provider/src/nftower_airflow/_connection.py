"""Read an Airflow ``tower`` connection into ``TowerConfig`` keyword arguments (no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

#: extra keys read from the connection, with the ``TowerConfig`` field they set
_EXTRA_FIELDS = {
    "workspace": "workspace",
    "workspace_id": "workspace",
    "rate_limit_backend": "rate_limit_backend",
    "timeout": "timeout",
    "max_retries": "max_retries",
    "rate_limit": "rate_limit",
    "rate_limit_window": "rate_limit_window",
    "ui_url": "ui_url",
    "accept_version": "accept_version",
    "verify": "verify",
}
_NUMERIC = {"timeout": float, "rate_limit_window": float, "max_retries": int, "rate_limit": int}
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
_TOKEN_EXTRAS = ("token", "access_token")
_DEFAULT_PORTS = {"https": 443, "http": 80}


class _ConnectionLike(Protocol):
    host: str | None
    schema: str | None
    port: int | None
    password: str | None


@dataclass(frozen=True)
class ConnectionSettings:
    """What a ``tower`` connection says, as ``TowerConfig`` keyword arguments."""

    values: dict[str, Any] = field(default_factory=dict)
    token_from_password: bool = False

    def overrides(self, *, workspace: str | int | None = None) -> dict[str, Any]:
        """Keyword arguments for ``TowerConfig.from_env``; ``workspace`` wins over the extra."""
        values = dict(self.values)
        if workspace not in (None, ""):
            values["workspace"] = workspace
        return values

    def settings_hint(self, conn_id: str) -> str:
        """What to check when Tower refuses the token: the connection's fields that set the
        token, the workspace and the API URL, and the variables the others fall back to.

        Example:
            >>> ConnectionSettings({"token": "t", "api_url": "u"}, True).settings_hint("tower")
            "connection 'tower' fields Password and API URL, and TOWER_WORKSPACE_ID"
        """
        from nftower._api_errors import describe_settings

        token = "Password" if self.token_from_password else "Extra 'token'"
        fields = [
            (token, "TOWER_ACCESS_TOKEN", "token" in self.values),
            ("Workspace", "TOWER_WORKSPACE_ID", "workspace" in self.values),
            ("API URL", "TOWER_API_ENDPOINT", "api_url" in self.values),
        ]
        return describe_settings(f"connection {conn_id!r}", fields)

    def __repr__(self) -> str:  # never show the token
        shown = {k: v for k, v in self.values.items() if k != "token"}
        return f"ConnectionSettings({shown!r}, token_from_password={self.token_from_password})"


def api_url_from_connection(host: str | None, schema: str | None, port: int | None) -> str | None:
    """The API URL a connection points at, or None (then ``TOWER_API_ENDPOINT`` or Seqera Cloud).

    ``host`` may be a full URL (``https://tower.example.org/api``); a bare host name takes
    ``https://``, the optional port and, as in py-orca's layout, ``schema`` as the path. A port
    given with a full URL is added when the URL has none and it is not the scheme's default
    (443 for https, 80 for http), so ``443`` (entered so that Airflow's "Test" works, see
    docs/airflow.md) changes nothing.

    Example:
        >>> api_url_from_connection("tower.example.org", "api", None)
        'https://tower.example.org/api'
        >>> api_url_from_connection("http://127.0.0.1:8800", "", None)
        'http://127.0.0.1:8800'
        >>> api_url_from_connection("https://api.cloud.seqera.io", None, 443)
        'https://api.cloud.seqera.io'
    """
    host = (host or "").strip()
    if not host:
        return None
    if "://" in host:
        url = host.rstrip("/")
        parts = urlsplit(url)
        if port and parts.port is None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
            url = parts._replace(netloc=f"{parts.netloc}:{port}").geturl()
        if schema and not urlsplit(url).path.strip("/"):
            url = f"{url}/{schema.strip('/')}"
        return url
    netloc = f"{host}:{port}" if port and ":" not in host else host
    path = f"/{schema.strip('/')}" if schema and schema.strip("/") else ""
    return f"https://{netloc.rstrip('/')}{path}"


def verify_from_extra(value: Any) -> bool | str:
    """The ``verify`` extra as ``TowerConfig.verify``: a bool (JSON ``true`` / ``false`` or
    the words ``"true"`` / ``"false"``, ``"yes"`` / ``"no"``, ``"1"`` / ``"0"``), else the
    path of a CA bundle.

    Example:
        >>> verify_from_extra("False"), verify_from_extra(True)
        (False, True)
        >>> verify_from_extra("/etc/ssl/certs/acme-ca.pem")
        '/etc/ssl/certs/acme-ca.pem'
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    return text


def _extra_value(extra: dict[str, Any], key: str) -> Any:
    for name in (key, f"extra__tower__{key}"):
        value = extra.get(name)
        if value not in (None, ""):
            return value
    return None


def settings_from_connection(
    conn: _ConnectionLike, extra: dict[str, Any] | str | None
) -> ConnectionSettings:
    """Collect the ``TowerConfig`` arguments a connection sets (unset ones fall back to env).

    Example:
        >>> from types import SimpleNamespace
        >>> conn = SimpleNamespace(host="tower.example.org", schema="api", port=None, password="t")
        >>> s = settings_from_connection(conn, {"workspace": "org/ws"})
        >>> s.values["api_url"], s.values["workspace"], s.token_from_password
        ('https://tower.example.org/api', 'org/ws', True)
    """
    if isinstance(extra, str):
        extra = json.loads(extra) if extra.strip() else {}
    extra = extra or {}
    values: dict[str, Any] = {}
    api_url = api_url_from_connection(conn.host, conn.schema, conn.port)
    if api_url:
        values["api_url"] = api_url
    token_from_password = bool(conn.password)
    if conn.password:
        values["token"] = conn.password
    else:
        for key in _TOKEN_EXTRAS:
            if token := _extra_value(extra, key):
                values["token"] = str(token)
                break
    for key, target in _EXTRA_FIELDS.items():
        value = _extra_value(extra, key)
        if value is None or target in values:
            continue
        if key == "verify":
            values[target] = verify_from_extra(value)
        else:
            values[target] = _NUMERIC[key](value) if key in _NUMERIC else value
    return ConnectionSettings(values=values, token_from_password=token_from_password)
