"""Runs an ASGI application with uvicorn in a background thread on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from typing import Any

import uvicorn


class _QuickServer(uvicorn.Server):
    """uvicorn tuned for short-lived test servers: it stops as soon as asked (instead of
    polling every 0.1 s) and closes idle keep-alive connections at once."""

    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def request_exit(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop may be closed already
                self._loop.call_soon_threadsafe(self._wake.set)

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 10) % 864000  # on_tick refreshes the Date header every 10
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        servers = getattr(self, "servers", None)
        state = getattr(self, "server_state", None)
        if servers is None or state is None:  # pragma: no cover - other uvicorn versions
            await super().shutdown(sockets)
            return
        for server in servers:
            server.close()
        for connection in list(state.connections):
            connection.shutdown()
        deadline = time.monotonic() + (self.config.timeout_graceful_shutdown or 1.0)
        while (state.connections or state.tasks) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        for task in list(state.tasks):
            task.cancel()
        for server in servers:
            await server.wait_closed()


class ServerThread:
    """uvicorn in a daemon thread; ``start()`` returns once the port accepts connections.

    The listening socket is bound before the thread starts, so ``port`` is known at once
    (``port=0`` picks a free one). ``ssl_certfile`` / ``ssl_keyfile`` (PEM) serve https.
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> None:
        self.host = host
        self._sock = socket.socket(
            socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM
        )
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit TCP_NODELAY: without it the body, written after the
        # headers, waits for the client's delayed ACK (~40 ms per response).
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            http="h11",
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
        )
        self._server = _QuickServer(config)
        self._thread = threading.Thread(target=self._run, name=f"tower-emulator-{self.port}")
        self._thread.daemon = True
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # reported by start()
            self._error = exc

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"the emulator server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start in time")
            time.sleep(0.005)

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self._server.request_exit()
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout)
        self._sock.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and self._server.started
