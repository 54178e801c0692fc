"""What both clients share, without any I/O: configuration, headers, building requests,
the retry loop, turning responses and transport failures into results or :mod:`nftower` errors,
request logging, and binding the operations of :mod:`nftower._operations` as methods.

A client drives each operation's flow through :meth:`BaseTowerClient._steps`, which answers
the flow's :class:`~nftower._endpoints.Call` steps itself (attempts, retry decisions, errors)
and leaves the driver nothing but I/O: :class:`Send` one request inside a rate-limit slot,
:class:`~nftower._flows.Sleep`, run a :class:`~nftower._flows.Notify` callback, hand over an
:class:`~nftower._flows.Emit` item. ``TowerClient`` does those with blocking calls,
``AsyncTowerClient`` with ``await``.
"""

from __future__ import annotations

import inspect
import logging
import platform
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import httpx
from pydantic import ValidationError

from ._answer_errors import InvalidResponseError, TowerTLSError
from ._answers import parse_answer, redirect_error, shape_error, status_error
from ._config import NOT_GIVEN, NotGiven, TowerConfig, given
from ._endpoints import Call, Sink
from ._exceptions import (
    LaunchOutcomeUnknownError,
    RateLimitError,
    ServerError,
    TowerConnectionError,
    TowerError,
    TowerTimeoutError,
)
from ._flows import Emit, Flow, FlowContext, Notify, Shared, Sleep
from ._models import Workflow
from ._reports import run_url
from ._resources import RunHandle
from ._retry import attempts_allowed, decide
from ._secrets import redact
from ._tls import FIX_HINT, TrustedCAs, cert_failure, trusted_cas, warn_unverified
from ._version import __version__
from .ratelimit import RateLimiter, get_limiter
from .ratelimit._records import SharedRecords, records_for

__all__ = ["BaseTowerClient", "IOStep", "Send", "as_method", "logger"]

logger = logging.getLogger("nftower")

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
TransportT = TypeVar("TransportT")
HttpT = TypeVar("HttpT", bound="httpx.Client | httpx.AsyncClient")

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_FLOW_RESULT = re.compile(r"(?P<kind>Flow|Listing)\[(?P<inner>.*)\]")


@dataclass(frozen=True)
class Send:
    """Send ``request`` in a rate-limit slot; answered ``(response or httpx error, seconds)``.

    With a ``sink``, the response is streamed: a 2xx body goes to the sink chunk by chunk
    (after the slot is released), any other body is read for its error message.
    """

    request: httpx.Request
    sink: Sink | None = None


#: What a driver does: the I/O left once :meth:`BaseTowerClient._steps` has handled the calls.
IOStep = Send | Sleep | Notify | Emit[Any] | Shared


def default_user_agent(extra: str | None = None) -> str:
    """``nftower/<version> python/<version> httpx/<version>`` plus an optional extra part."""
    agent = f"nftower/{__version__} python/{platform.python_version()} httpx/{httpx.__version__}"
    return f"{agent} {extra.strip()}" if extra and extra.strip() else agent


def as_method(method: F, operation: Callable[..., Any], *, awaited: bool) -> F:
    """Give ``method`` the name, documentation and signature of ``operation`` (whose ``ctx``
    becomes ``self``), so that ``help()`` and ``inspect`` show the operation."""
    signature = inspect.signature(operation)
    result = str(signature.return_annotation)
    match = _FLOW_RESULT.fullmatch(result)
    if match is not None:
        result = match["inner"]
        if match["kind"] == "Listing":
            result = f"{'AsyncIterator' if awaited else 'Iterator'}[{result}]"
    own = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    parameters = [own, *list(signature.parameters.values())[1:]]
    method.__name__ = method.__qualname__ = operation.__name__
    method.__doc__ = operation.__doc__
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=result
    )
    return method


class BaseTowerClient(Generic[TransportT, HttpT]):
    """Configuration, the retry loop and response handling shared by both clients.

    Subclasses provide ``_open`` (their httpx client) and the I/O of a driver.
    """

    _config: TowerConfig
    _limiter: RateLimiter
    _ctx: FlowContext
    _http: HttpT
    _trust: TrustedCAs

    def __init__(
        self,
        api_url: str | None = None,
        token: str | None = None,
        workspace: int | str | None = None,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        rate_limit: int | NotGiven = NOT_GIVEN,
        rate_limit_window: float | NotGiven = NOT_GIVEN,
        rate_limit_backend: str | NotGiven | None = NOT_GIVEN,
        accept_version: str | NotGiven = NOT_GIVEN,
        ui_url: str | NotGiven | None = NOT_GIVEN,
        user_agent: str | NotGiven | None = NOT_GIVEN,
        verify: bool | str | NotGiven = NOT_GIVEN,
        transport: TransportT | None = None,
        config: TowerConfig | None = None,
    ) -> None:
        identity = {"api_url": api_url, "token": token, "workspace": workspace}
        options = given(
            timeout=timeout,
            max_retries=max_retries,
            rate_limit=rate_limit,
            rate_limit_window=rate_limit_window,
            rate_limit_backend=rate_limit_backend,
            accept_version=accept_version,
            ui_url=ui_url,
            user_agent=user_agent,
            verify=verify,
        )
        self._setup(config, {k: v for k, v in identity.items() if v is not None}, options)
        self._http = self._open(transport)

    def _open(self, transport: TransportT | None) -> HttpT:
        """The httpx client (sync or async) with :meth:`_http_options`."""
        raise NotImplementedError

    def _http_options(self) -> dict[str, Any]:
        """httpx options: base URL, headers, timeout, the TLS context; redirects not followed."""
        cfg = self._config
        if not self._trust.verify and cfg.api_url.startswith("https:"):
            warn_unverified(cfg.api_url)
        return {
            "base_url": cfg.api_url,
            "headers": self._headers(),
            "timeout": cfg.timeout,
            "verify": self._trust.context,
            "follow_redirects": False,
        }

    def _setup(
        self, config: TowerConfig | None, identity: dict[str, Any], options: dict[str, Any]
    ) -> None:
        """The configuration: ``config`` (else the environment) with every option that was
        given on top; ``None`` for ``api_url`` / ``token`` / ``workspace`` means not given."""
        if config is None:
            self._config = TowerConfig.from_env(**identity, **options)
        else:
            changes = {**identity, **options}
            self._config = config.replace(**changes) if changes else config
        cfg = self._config
        self._trust = trusted_cas(cfg.verify)
        self._limiter = get_limiter(
            api_url=cfg.api_url,
            token=cfg.token,
            limit=cfg.rate_limit,
            window=cfg.rate_limit_window,
            backend=cfg.rate_limit_backend,
        )
        self._ctx = FlowContext(cfg)

    def _records(self) -> SharedRecords:
        """The shared records (leases, launches in flight) kept next to the limiter's windows."""
        return records_for(self._limiter.backend)

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
            >>> with TowerClient("https://tower.example.org/api", "tower-access-token") as client:
            ...     str(client.build_request(describe_workflow(7, "abc")).url)
            'https://tower.example.org/api/workflow/abc?workspaceId=7'
        """
        files = None
        if call.upload is not None:
            part = call.upload
            files = {part.field: (part.file_name, part.open(), part.content_type)}
        return self._http.build_request(
            call.method,
            call.url_path,
            params=dict(call.params) or None,
            json=call.json,
            files=files,
            headers={"Accept": call.accept} if call.accept else None,
        )

    def run_url(self, workflow: Workflow | RunHandle) -> str | None:
        """The run page in the web UI (org or personal form; ``None`` without org and user
        names). No I/O, so a plain method on both clients.

        For a :class:`RunHandle` (what :meth:`ensure_run` returns) the names come from the
        configured ``"org/workspace"``, so the link needs no describe call; ``None`` when the
        workspace was given by id or is the personal one.
        """
        if isinstance(workflow, RunHandle):
            names = self._config.workspace_name
            if names is None:
                return None
            org, workspace = names
            workflow = Workflow(id=workflow.workflow_id, org_name=org, workspace_name=workspace)
        return run_url(self._config.web_url, workflow)

    # --- flows: every call answered here, only I/O left for the driver ------------------------

    def _steps(self, flow: Flow[T]) -> Generator[IOStep, Any, T]:
        """Run ``flow``, answering its calls (attempts, retries, errors thrown into the flow);
        yield the I/O steps for the driver and return the flow's result."""
        reply: Any = None
        error: TowerError | None = None
        answered: Call | None = None  # the call whose answer the flow is reading
        try:
            while True:
                try:
                    step = flow.send(reply) if error is None else flow.throw(error)
                except StopIteration as stop:
                    return cast(T, stop.value)
                except ValidationError as exc:
                    if answered is None:  # not about an answer
                        raise
                    raise shape_error(answered, exc) from None
                reply, error = None, None
                if isinstance(step, Call):
                    answered = step
                    try:
                        reply = yield from self._attempts(step)
                    except TowerError as exc:
                        error = exc
                else:
                    reply = yield step
        finally:
            flow.close()  # ended early (cancelled, or an error not for the flow): its cleanup runs

    def _attempts(self, call: Call) -> Generator[IOStep, Any, Any]:
        """One call: send, map the outcome, retry after a sleep or raise the final error."""
        attempt = 0
        while True:
            attempt += 1
            outcome, elapsed = yield Send(self.build_request(call), call.sink)
            error: TowerError
            if isinstance(outcome, httpx.Response):
                try:
                    return self._handle_response(call, outcome, elapsed, attempt)
                except TowerError as exc:
                    error = exc
            else:
                error = self._transport_error(call, outcome, elapsed, attempt)
            delay = self._retry_delay(call, attempt, error)
            if delay is None or (call.sink is not None and not call.sink.restart()):
                raise self._final_error(call, error)
            yield Sleep(delay)

    # --- one attempt: response or failure -> result or error ------------------------------------

    def _scrub(self, text: str) -> str:
        return redact(text, self._config.token)

    def _handle_response(self, call: Call, response: httpx.Response, elapsed: float, n: int) -> Any:
        """The parsed answer of a 2xx response once it is shown to be the API's
        (:func:`~nftower._answers.parse_answer`), else raise the matching error."""
        status = response.status_code
        if status >= 400:
            error = status_error(call, response, self._scrub, self._config.settings_hint)
            self._log(call, str(status), elapsed, n, error.error_id)
            if isinstance(error, RateLimitError):
                self._limiter.report_rate_limited(error.retry_after)
            raise error
        self._log(call, str(status), elapsed, n, None)
        if 300 <= status < 400:
            raise redirect_error(call, response, self._config.api_url, self._scrub)
        if call.sink is not None:  # the body went to the sink
            return None
        return parse_answer(call, response, self._config.api_url, self._scrub)

    def _transport_error(self, call: Call, exc: Exception, elapsed: float, n: int) -> TowerError:
        """Map an httpx exception (once, here) to the matching nftower error."""
        self._log(call, type(exc).__name__, elapsed, n, None)
        never_sent = isinstance(exc, _NEVER_SENT)
        detail = self._scrub(str(exc)) or type(exc).__name__
        error: TowerConnectionError
        bad_cert = cert_failure(exc)
        if bad_cert is not None:
            reason = bad_cert.verify_message or bad_cert.reason or str(bad_cert)
            error = TowerTLSError(
                f"TLS certificate verification failed for {self._config.api_url}: {reason} "
                f"(trusted CAs: {self._trust.source}). Not retried: {FIX_HINT}.",
                operation=call.operation,
                request_sent=False,
            )
        elif isinstance(exc, httpx.TimeoutException):
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
        if isinstance(error, TowerTLSError):  # a certificate does not pass on a second try
            return None
        if isinstance(error, InvalidResponseError) and not error.retryable:
            return None
        delay = decide(call, attempt, error, max_retries=self._config.max_retries)
        if delay is not None:
            asked = getattr(error, "retry_after", None)
            capped = f" (Tower asked for {asked:g} s; waits are capped)" if asked else ""
            logger.warning(
                "Retrying %s in %.2f s%s (attempt %d of %d failed): %s",
                call.operation,
                delay,
                capped if asked and asked > delay else "",
                attempt,
                attempts_allowed(error, self._config.max_retries),
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
