"""One limiter per token per process."""

from __future__ import annotations

import hashlib
import threading

from ._limiter import RateLimiter
from ._protocol import RateLimitBackend
from ._records import reset_records
from ._urls import backend_from_url, resolve_backend_url

__all__ = ["get_limiter", "limiter_key", "reset_limiters"]

_lock = threading.Lock()
_limiters: dict[tuple[str, str], RateLimiter] = {}
_backends: dict[str, RateLimitBackend] = {}


def limiter_key(api_url: str, token: str) -> str:
    """SHA-256 (hex) of the API URL and the token: the only form in which a token is kept.

    >>> len(limiter_key("https://api.cloud.seqera.io", "secret"))
    64
    >>> limiter_key("https://x/", "t") == limiter_key("https://x", "t")
    True
    """
    return hashlib.sha256(f"{api_url.rstrip('/')}\n{token}".encode()).hexdigest()


def get_limiter(
    *,
    api_url: str,
    token: str,
    limit: int = 20,
    window: float = 1.0,
    backend: str | RateLimitBackend | None = None,
) -> RateLimiter:
    """The process-wide limiter for this token (created on first use).

    ``backend`` is a URL (see :func:`backend_from_url`; ``None`` = ``$NFTOWER_RATE_LIMIT_BACKEND``
    or the host-wide default) or a backend instance. Every client of the same API URL and token
    in the process gets the same limiter; when they ask for different limits, the stricter wins.

    >>> a = get_limiter(api_url="http://127.0.0.1:1", token="t", backend="memory://")
    >>> b = get_limiter(api_url="http://127.0.0.1:1", token="t", limit=10, backend="memory://")
    >>> a is b, a.limit
    (True, 10)
    """
    if isinstance(backend, str) or backend is None:
        url = resolve_backend_url(backend)
        instance: RateLimitBackend | None = None
    else:
        url, instance = backend.url, backend
    key = limiter_key(api_url, token)
    with _lock:
        limiter = _limiters.get((key, url))
        if limiter is not None:
            limiter.tighten(limit, window)
            return limiter
        if instance is None:
            instance = _backends.get(url)
            if instance is None:
                instance = _backends[url] = backend_from_url(url)
        limiter = _limiters[(key, url)] = RateLimiter(instance, key, limit=limit, window=window)
        return limiter


def reset_limiters() -> None:
    """Forget every limiter and close their backends (tests, or after a configuration change)."""
    with _lock:
        backends = list(_backends.values())
        _limiters.clear()
        _backends.clear()
    for backend in backends:
        backend.close()
    reset_records()
