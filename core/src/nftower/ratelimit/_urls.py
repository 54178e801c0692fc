"""Choosing a backend from a URL."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from .._exceptions import TowerConfigError
from ._file import FileBackend, default_file_path, file_locks_available
from ._memory import MemoryBackend
from ._protocol import RateLimitBackend
from ._redis import RedisBackend, redact_url
from ._sqlite import SQLiteBackend, default_sqlite_path

__all__ = ["ENV_VAR", "backend_from_url", "resolve_backend_url"]

ENV_VAR = "NFTOWER_RATE_LIMIT_BACKEND"


def resolve_backend_url(url: str | None = None) -> str:
    """The backend URL in force: ``url``, else ``$NFTOWER_RATE_LIMIT_BACKEND``, else the
    host-wide default: a file in the user's cache directory (``file://``; a SQLite file,
    ``sqlite://``, where the platform has no POSIX file locks).

    >>> resolve_backend_url("memory://")
    'memory://'
    >>> resolve_backend_url("file://").endswith("ratelimit.bin")
    True
    >>> resolve_backend_url("sqlite://").endswith("ratelimit.sqlite3")
    True
    """
    chosen = (url or os.environ.get(ENV_VAR) or "").strip()
    if not chosen:
        chosen = "file://" if file_locks_available() else "sqlite://"
    if chosen == "file://":
        return f"file://{default_file_path()}"
    if chosen == "sqlite://":
        return f"sqlite://{default_sqlite_path()}"
    return chosen


def backend_from_url(url: str | None = None) -> RateLimitBackend:
    """Build the backend a URL names.

    - ``memory://``: this process only;
    - ``file:///abs/path`` (``file://`` = the default file): every process on this host that
      uses the same file. This is the default;
    - ``sqlite:///abs/path.sqlite3`` (``sqlite://`` = a default file): the same with a SQLite
      file, on any platform;
    - ``redis://[:password@]host:port/db`` or ``rediss://...``: every host using that server
      (needs the ``redis`` extra).

    >>> backend_from_url("memory://")
    MemoryBackend()
    >>> backend_from_url("file:///tmp/nftower-rl.bin")
    FileBackend('/tmp/nftower-rl.bin')
    >>> backend_from_url("sqlite:///tmp/nftower-rl.sqlite3")
    SQLiteBackend('/tmp/nftower-rl.sqlite3')
    >>> backend_from_url("ftp://x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nftower.TowerConfigError: Unsupported rate limit backend 'ftp://x': use memory://, ...
    """
    resolved = resolve_backend_url(url)
    scheme = urlsplit(resolved).scheme.lower()
    if scheme == "memory":
        return MemoryBackend()
    if scheme in ("file", "sqlite"):
        path = unquote(resolved[len(scheme) + len("://") :])
        if not path.startswith("/") or not path.strip("/"):
            raise TowerConfigError(
                f"Invalid {scheme} rate limit backend {resolved!r}: "
                f"use {scheme}:///absolute/path (an absolute path after {scheme}://)"
            )
        path = "/" + path.lstrip("/")
        return FileBackend(path) if scheme == "file" else SQLiteBackend(path)
    if scheme in ("redis", "rediss"):
        return RedisBackend(resolved)
    raise TowerConfigError(
        f"Unsupported rate limit backend {redact_url(resolved)!r}: "
        "use memory://, file:///path, sqlite:///path or redis://host:port/db"
    )
