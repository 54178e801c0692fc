"""Fault injection: which requests get a failure, and how an answer is broken or a connection
is cut (closed, reset, or closed halfway through the body)."""

from __future__ import annotations

import asyncio
import re
import socket
import struct
import threading
from dataclasses import dataclass
from typing import Any

FAULT_KINDS = (
    "status",
    "rate_limit",
    "delay",
    "drop_before",
    "drop_after",
    "reset_before",
    "reset_after",
    "malformed_json",
    "truncated_body",
    "empty_body",
    "html",
    "redirect",
)
#: Kinds that cut the connection before the request is handled (nothing is processed).
CUT_BEFORE = frozenset({"drop_before", "reset_before"})
#: Kinds that cut the connection after the request was handled (a launch creates its run).
CUT_AFTER = frozenset({"drop_after", "reset_after"})


@dataclass
class Fault:
    """One injected fault; ``times=None`` keeps it active until cleared.

    ``retry_after=None`` makes a ``rate_limit`` fault answer without a ``Retry-After`` header;
    a ``redirect`` answers ``status`` when it is a 3xx (else 302) with ``Location: location``.

    >>> fault = Fault("status", method="POST", path=r"^/workflow/launch$")
    >>> fault.matches("POST", "/workflow/launch"), fault.matches("GET", "/workflow/launch")
    (True, False)
    """

    kind: str
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    status: int = 503
    retry_after: float | None = 1.0
    delay: float = 0.0
    location: str = "/login"

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be a positive integer or None")
        if not 100 <= int(self.status) <= 599:
            raise ValueError(f"status must be an HTTP status code, got {self.status}")
        if self.delay < 0 or (self.retry_after is not None and self.retry_after < 0):
            raise ValueError("delay and retry_after must not be negative")
        if not isinstance(self.location, str) or not self.location:
            raise ValueError("location must be a non-empty URL or path")
        self.method = self.method.upper() if self.method else None
        self._pattern = re.compile(self.path) if self.path else None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method.upper():
            return False
        return self._pattern is None or self._pattern.search(path) is not None

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "times": self.times,
            "status": self.status,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "location": self.location,
        }


class FaultBook:
    """The active faults, consumed first-in first-out by matching requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def take(self, method: str, path: str) -> Fault | None:
        """Return the first fault matching this request and count one use of it."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None


def proxy_error_page(status: int) -> bytes:
    """The HTML page a reverse proxy (nginx) serves when it cannot reach the API behind it.

    >>> proxy_error_page(502).splitlines()[2]
    b'<head><title>502 Bad Gateway</title></head>'
    """
    reasons = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
    title = f"{status} {reasons.get(status, 'Error')}"
    return (
        f"<html>\r\n\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n"
        "</html>\r\n"
    ).encode()


def _cycle_transport(send: Any) -> tuple[Any, Any]:
    """The request cycle behind uvicorn's ASGI ``send`` and the transport of its socket."""
    cycle = getattr(send, "__self__", None)
    return cycle, getattr(cycle, "transport", None)


async def drop_connection(send: Any, *, reset: bool = False) -> None:
    """Close the client connection without sending (the rest of) a response.

    The ASGI ``send`` callable uvicorn hands to the application is a bound method of the
    request cycle that owns the socket transport: closing that transport makes the client
    see a closed connection (a transport error), never an HTTP status. With ``reset`` the
    socket lingers for 0 s first, so the close is a TCP reset (``ECONNRESET`` on the client)
    rather than an orderly end of stream. If the transport is not reachable (another
    server), a response announcing a body that never comes is started instead, which the
    server ends by closing the connection: a transport error as well.
    """
    cycle, transport = _cycle_transport(send)
    if transport is not None and hasattr(transport, "close"):
        sock = transport.get_extra_info("socket") if reset else None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
        # Let the protocol observe connection_lost, so the server does not try to answer.
        for _ in range(10):
            if getattr(cycle, "disconnected", True):
                break
            await asyncio.sleep(0)
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
        }
    )


async def send_truncated(
    send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """Announce the whole ``body`` (``Content-Length``), send its first half, then close the
    connection: the client's read of the body fails (a transport error, not a parse error)."""
    headers = [h for h in headers if h[0].lower() != b"content-length"]
    headers.append((b"content-length", str(max(len(body), 2)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
    await drop_connection(send)
