"""What both clients share, without any I/O: configuration, headers, building requests,
turning responses and transport failures into results or :mod:`nftower` errors, retry
bookkeeping and request logging.
"""

from __future__ import annotations

import logging
import platform
import re
from typing import Any

import httpx

from ._config import DEFAULT_MAX_RETRIES, DEFAULT_RATE_LIMIT, DEFAULT_RATE_LIMIT_WINDOW, TowerConfig
from ._endpoints import Call
from ._exceptions import (
    LaunchOutcomeUnknownError,
    RateLimitError,
    ServerError,
    TowerAPIError,
    TowerConnectionError,
    TowerError,
    TowerTimeoutError,
    api_error,
)
from ._flows import FlowContext
from ._retry import decide, parse_retry_after
from ._version import __version__
from .ratelimit import RateLimiter, get_limiter

__all__ = ["BaseTowerClient", "logger"]

logger = logging.getLogger("nftower")

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_OPTION_DEFAULTS: dict[str, Any] = {
    "timeout": 30.0,
    "max_retries": DEFAULT_MAX_RETRIES,
    "rate_limit": DEFAULT_RATE_LIMIT,
    "rate_limit_window": DEFAULT_RATE_LIMIT_WINDOW,
    "rate_limit_backend": None,
    "accept_version": "1",
    "ui_url": None,
    "user_agent": None,
}


def default_user_agent(extra: str | None = None) -> str:
    """``nftower/<version> python/<version> httpx/<version>`` plus an optional extra part."""
    agent = f"nftower/{__version__} python/{platform.python_version()} httpx/{httpx.__version__}"
    return f"{agent} {extra.strip()}" if extra and extra.strip() else agent


class BaseTowerClient:
    """Configuration, request building and response handling shared by both clients."""

    _config: TowerConfig
    _limiter: RateLimiter
    _ctx: FlowContext
    _http: httpx.Client | httpx.AsyncClient

    def _setup(self, config: TowerConfig | None, **options: Any) -> None:
        identity = {key: options.pop(key) for key in ("api_url", "token", "workspace")}
        if config is None:
            self._config = TowerConfig.from_env(**identity, **options)
        else:
            changes = {key: value for key, value in identity.items() if value is not None}
            changes.update(
                (key, value) for key, value in options.items() if value != _OPTION_DEFAULTS[key]
            )
            self._config = config.replace(**changes) if changes else config
        cfg = self._config
        self._limiter = get_limiter(
            api_url=cfg.api_url,
            token=cfg.token,
            limit=cfg.rate_limit,
            window=cfg.rate_limit_window,
            backend=cfg.rate_limit_backend,
        )
        self._ctx = FlowContext(cfg)

    @property
    def config(self) -> TowerConfig:
        """The (frozen) configuration of this client."""
        return self._config

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._config.token}",
            "Accept": "application/json",
            "Accept-Version": self._config.accept_version,
            "User-Agent": default_user_agent(self._config.user_agent),
        }

    def __repr__(self) -> str:
        cfg = self._config
        return f"{type(self).__name__}(api_url={cfg.api_url!r}, workspace={cfg.workspace!r})"

    def build_request(self, call: Call) -> httpx.Request:
        """The :class:`httpx.Request` for ``call`` (headers, workspace query, JSON body); no I/O.

        Example:
            >>> from nftower import TowerClient
            >>> from nftower._endpoints import describe_workflow
            >>> with TowerClient("https://tower.example.org/api", "tok") as client:
            ...     str(client.build_request(describe_workflow(7, "abc")).url)
            'https://tower.example.org/api/workflow/abc?workspaceId=7'
        """
        return self._http.build_request(
            call.method, call.url_path, params=dict(call.params) or None, json=call.json
        )

    # --- one attempt: response or failure -> result or error ------------------------------------

    def _scrub(self, text: str) -> str:
        return text.replace(self._config.token, "***") if self._config.token else text

    def _handle_response(self, call: Call, response: httpx.Response, elapsed: float, n: int) -> Any:
        """Parsed JSON of a 2xx response (``None`` when empty), else raise the matching error."""
        status = response.status_code
        if status >= 400:
            error = self._status_error(call, response)
            self._log(call, str(status), elapsed, n, error.error_id)
            if isinstance(error, RateLimitError):
                self._limiter.report_rate_limited(error.retry_after)
            raise error
        self._log(call, str(status), elapsed, n, None)
        if status == 204 or not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise TowerConnectionError(
                f"Tower answered HTTP {status} with a body that is not valid JSON: "
                f"{self._snippet(response)}",
                operation=call.operation,
            ) from None

    def _status_error(self, call: Call, response: httpx.Response) -> TowerAPIError:
        message: str | None = None
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]
            details = [
                str(item.get("message"))
                for item in body.get("errors") or []
                if isinstance(item, dict) and item.get("message")
            ]
            if details:
                message = f"{message} [{'; '.join(details)}]"
        elif response.content.strip():
            message = (
                f"HTTP {response.status_code} (not a JSON error body: {self._snippet(response)})"
            )
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return api_error(
            response.status_code,
            call.operation,
            self._scrub(message) if message else None,
            retry_after=retry_after,
        )

    def _snippet(self, response: httpx.Response) -> str:
        text = re.sub(r"\s+", " ", response.text).strip()
        return repr(self._scrub(text[:200] + ("..." if len(text) > 200 else "")))

    def _transport_error(self, call: Call, exc: Exception, elapsed: float, n: int) -> TowerError:
        """Map an httpx exception (once, here) to the matching nftower error."""
        self._log(call, type(exc).__name__, elapsed, n, None)
        never_sent = isinstance(exc, _NEVER_SENT)
        detail = self._scrub(str(exc)) or type(exc).__name__
        error: TowerConnectionError
        if isinstance(exc, httpx.TimeoutException):
            error = TowerTimeoutError(
                f"Request to {self._config.api_url} timed out ({type(exc).__name__}, "
                f"timeout {self._config.timeout:g} s): {detail}",
                operation=call.operation,
                request_sent=not never_sent,
            )
        else:
            error = TowerConnectionError(
                f"Could not talk to Tower at {self._config.api_url} ({type(exc).__name__}): "
                f"{detail}",
                operation=call.operation,
                request_sent=not never_sent,
            )
        error.__cause__ = exc
        return error

    # --- retry bookkeeping ---------------------------------------------------------------------

    def _retry_delay(self, call: Call, attempt: int, error: TowerError) -> float | None:
        delay = decide(call, attempt, error, max_retries=self._config.max_retries)
        if delay is not None:
            logger.warning(
                "Retrying %s in %.2f s (attempt %d of %d failed): %s",
                call.operation,
                delay,
                attempt,
                self._config.max_retries + 1,
                error,
            )
        return delay

    def _final_error(self, call: Call, error: TowerError) -> TowerError:
        """The error to raise once retries are over (the launch gets its own)."""
        reached = (isinstance(error, TowerConnectionError) and error.request_sent) or isinstance(
            error, ServerError
        )
        if not (call.is_launch and reached):
            return error
        name = call.run_name
        check = (
            f"look for run {name!r} first (client.find_workflow({name!r}) or the workspace's "
            "runs list)"
            if name
            else "look for a run submitted just now in the workspace's runs list "
            "(client.list_workflows())"
        )
        unknown = LaunchOutcomeUnknownError(
            f"The launch request failed after it may have reached Tower ({error}); the run may "
            f"or may not have started. It was not retried. Before launching again, {check}, or "
            "use ensure_run(), which does this for you.",
            operation=call.operation,
            run_name=name,
        )
        unknown.__cause__ = error
        return unknown

    def _log(self, call: Call, outcome: str, elapsed: float, n: int, error_id: str | None) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s in %.1f ms (attempt %d)%s",
                call.method,
                call.url_path,
                outcome,
                elapsed * 1000.0,
                n,
                f" Error ID: {error_id}" if error_id else "",
            )
