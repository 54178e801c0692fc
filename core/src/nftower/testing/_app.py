"""The ASGI application: faults, authentication, rate limiting and recording around the
Tower API routes, plus the unauthenticated admin API under ``/_emulator`` and run pages."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._admin import admin_routes
from ._datasets import DatasetApi, DatasetStore, form_summary
from ._dtos import complete, operation_of, response_dto
from ._errors import (
    ApiError,
    ceil_seconds,
    error_body,
    error_id,
    format_retry_after,
    internal_error_body,
    rate_limited_body,
)
from ._faults import (
    CUT_AFTER,
    CUT_BEFORE,
    Fault,
    FaultBook,
    drop_connection,
    proxy_error_page,
    send_truncated,
)
from ._records import RecordedRequest, RequestLog, SlidingWindowLimiter, token_hash
from ._routes import TowerApi
from ._run_files import RunFileMarks, RunFilesApi
from ._run_page import RUN_PAGE_PATH, run_page_routes
from ._world import World

logger = logging.getLogger("nftower.testing")

PUBLIC_OPERATIONS = frozenset({("GET", "/service-info")})
ADMIN_PREFIX = "/_emulator"
HTML = b"text/html"
Message = dict[str, Any]


@dataclass
class EmulatorState:
    """Everything the application shares with the :class:`~nftower.testing.TowerEmulator`."""

    world: World
    limiter: SlidingWindowLimiter
    log: RequestLog = field(default_factory=RequestLog)
    faults: FaultBook = field(default_factory=FaultBook)
    token_hashes: set[str] = field(default_factory=set)
    tokens_lock: threading.Lock = field(default_factory=threading.Lock)
    datasets: DatasetStore = field(default_factory=DatasetStore)
    run_files: RunFileMarks = field(default_factory=RunFileMarks)
    retry_after: bool = True
    bad_token_status: int = 403

    def add_token(self, token: str) -> None:
        if not isinstance(token, str) or not token.strip():
            raise ValueError("a token must be a non-empty string")
        with self.tokens_lock:
            self.token_hashes.add(token_hash(token))

    def is_valid(self, hashed: str | None) -> bool:
        with self.tokens_lock:
            return hashed is not None and hashed in self.token_hashes


@dataclass
class Answer:
    """A complete HTTP response, held back so a fault can still replace or drop it."""

    status: int
    body: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    @classmethod
    def error(cls, status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
        """A refused request: ``{"message": ...}`` without Error ID."""
        return cls.of(status, error_body(message), headers)

    @classmethod
    def internal_error(cls) -> Answer:
        """An unexpected server error: Tower's ``Oops...`` text with an Error ID."""
        return cls.of(500, internal_error_body())

    @classmethod
    def of(cls, status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
        raw = [(b"content-type", b"application/json")]
        raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        return cls(status, json.dumps(body).encode(), raw)

    @property
    def content_type(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == b"content-type":
                return value.decode("latin-1")
        return None

    @property
    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    async def send(self, send: Any) -> None:
        headers = [h for h in self.headers if h[0] != b"content-length"]
        if self.status not in (204, 304):
            headers.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: "Resource not found", 405: "Method not allowed"}
    message = messages.get(exc.status_code, str(exc.detail))
    return JSONResponse(
        error_body(f"{message}: {request.method} {request.url.path}"),
        status_code=exc.status_code,
    )


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


def _workspace_id(query: dict[str, str]) -> int | None:
    try:
        return int(query["workspaceId"])
    except (KeyError, ValueError):
        return None


def _merge_slashes(scope: Message) -> Message:
    """The scope with runs of slashes in its path merged (``//user-info`` is ``/user-info``),
    as the web server in front of Tower does."""
    path = scope["path"]
    if "//" not in path:
        return scope
    merged = re.sub("/{2,}", "/", path)
    return {**scope, "path": merged, "raw_path": merged.encode("latin-1")}


class EmulatorApp:
    """ASGI callable served by uvicorn (see :mod:`nftower.testing._server`)."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        handlers = {ApiError: _api_error, HTTPException: _http_error}
        routes = TowerApi(state.world).routes()
        routes += DatasetApi(state.world, state.datasets).routes()
        routes += RunFilesApi(state.world, state.run_files).routes()
        self.api = Starlette(routes=routes, exception_handlers=handlers)
        self.admin = Starlette(routes=admin_routes(state), exception_handlers=handlers)
        self.pages = Starlette(routes=run_page_routes(state.world))

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        scope = _merge_slashes(scope)
        if scope["path"] == ADMIN_PREFIX or scope["path"].startswith(ADMIN_PREFIX + "/"):
            await self.admin(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD") and RUN_PAGE_PATH.match(scope["path"]):
            await self.pages(scope, receive, send)
            return
        await self._api_call(scope, receive, send)

    async def _api_call(self, scope: Message, receive: Any, send: Any) -> None:
        arrived = time.time()
        body = await _read_body(receive)
        method, path = scope["method"], scope["path"]
        query_string = scope.get("query_string", b"").decode("latin-1")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        token = _bearer(headers.pop("authorization", None))
        hashed = token_hash(token) if token else None
        parsed: Any = None
        multipart = headers.get("content-type", "").startswith("multipart/form-data")
        if body and not multipart:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        form = form_summary(headers.get("content-type", ""), body) if multipart else None
        scope = {**scope, "state": {"json": parsed}, "nftower_multipart": multipart}
        fault = self.state.faults.take(method, path)
        kind = fault.kind if fault else None

        def record(answer: Answer | None) -> None:
            self.state.log.append(
                RecordedRequest(
                    method=method,
                    path=path,
                    query=query,
                    json=parsed,
                    status=None if answer is None or kind in CUT_AFTER else answer.status,
                    response_json=answer.json if answer is not None else None,
                    token_hash=hashed,
                    time=arrived,
                    workspace_id=_workspace_id(query),
                    fault=kind,
                    workflow_id=scope["state"].get("workflow_id"),
                    headers=headers,
                    query_string=query_string,
                    form=form,
                    response_content_type=answer.content_type if answer is not None else None,
                )
            )

        if fault is not None and kind == "delay":
            await asyncio.sleep(fault.delay)
        if kind in CUT_BEFORE:
            record(None)
            await drop_connection(send, reset=kind == "reset_before")
            return
        answer = await self._answer(scope, fault, body, parsed, hashed, arrived)
        if kind in CUT_AFTER:
            record(answer)
            await drop_connection(send, reset=kind == "reset_after")
            return
        if kind == "truncated_body":
            record(answer)
            await send_truncated(send, answer.status, answer.headers, answer.body)
            return
        if kind == "empty_body":
            answer = Answer(answer.status, b"", [(b"content-type", b"application/json")])
        if kind == "malformed_json":
            truncated = answer.body[: len(answer.body) // 2] or b'{"message": '
            answer = Answer(200, truncated, [(b"content-type", b"application/json")])
        record(answer)
        await answer.send(send)

    async def _answer(
        self,
        scope: Message,
        fault: Fault | None,
        body: bytes,
        parsed: Any,
        hashed: str | None,
        arrived: float,
    ) -> Answer:
        if fault is not None and fault.kind == "status":
            if fault.status >= 500:
                return Answer.of(fault.status, internal_error_body())
            # An injected 4xx keeps an Error ID, so that tests can show one on any status.
            message = f"Injected failure (HTTP {fault.status}) - Error ID: {error_id()}"
            return Answer.error(fault.status, message)
        if fault is not None and fault.kind == "rate_limit":
            wait = fault.retry_after
            retry = {} if wait is None else {"Retry-After": format_retry_after(wait)}
            return Answer.of(429, rate_limited_body(wait or 0.0), retry)
        if fault is not None and fault.kind == "redirect":
            status = fault.status if 300 <= fault.status < 400 else 302
            headers = [(b"location", fault.location.encode()), (b"content-type", HTML)]
            return Answer(status, b"", headers)
        if fault is not None and fault.kind == "html":
            return Answer(fault.status, proxy_error_page(fault.status), [(b"content-type", HTML)])
        if (scope["method"], scope["path"]) not in PUBLIC_OPERATIONS:
            if not self.state.is_valid(hashed):
                return self._bad_token()
            assert hashed is not None
            wait = self.state.limiter.hit(hashed, arrived)
            if wait > 0:
                retry = {"Retry-After": str(ceil_seconds(wait))} if self.state.retry_after else {}
                return Answer.of(429, rate_limited_body(wait), retry)
        multipart = scope.get("nftower_multipart", False)
        if body and parsed is None and not multipart:
            return Answer.error(400, "Malformed JSON request body")
        return await self._dispatch(scope, body)

    def _bad_token(self) -> Answer:
        """403 with the schema's "Operation not allowed" by default; 401 with an empty body
        when the emulator is told to answer as an authenticating proxy does."""
        if self.state.bad_token_status == 401:
            return Answer(401)
        return Answer.error(403, "Operation not allowed")

    async def _dispatch(self, scope: Message, body: bytes) -> Answer:
        messages: list[MutableMapping[str, Any]] = []
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                await asyncio.Event().wait()  # the request has no more body
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: MutableMapping[str, Any]) -> None:
            messages.append(message)

        try:
            await self.api(scope, receive, capture)
        except Exception:
            logger.exception("emulator error on %s %s", scope["method"], scope["path"])
            return Answer.internal_error()
        start = next(m for m in messages if m["type"] == "http.response.start")
        content = b"".join(
            m.get("body", b"") for m in messages if m["type"] == "http.response.body"
        )
        try:
            content = _with_every_property(scope["method"], scope["path"], start["status"], content)
        except KeyError:
            logger.exception("emulator answer on %s %s", scope["method"], scope["path"])
            return Answer.internal_error()
        return Answer(start["status"], content, list(start.get("headers", [])))


def _with_every_property(method: str, path: str, status: int, content: bytes) -> bytes:
    """The body with every property its DTO declares (``null`` where unset), as Tower
    serialises its DTOs."""
    operation = operation_of(method, path)
    name = response_dto(operation, status) if operation and content else None
    if name is None:
        return content
    return json.dumps(complete(name, json.loads(content))).encode()
