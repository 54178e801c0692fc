"""Small real servers on loopback for the answer and TLS tests: a Starlette app that records
the headers of every request it gets and answers from a script, over http or https (a
throwaway CA from ``trustme``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trustme
from nftower.testing._server import ServerThread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Answer = Callable[[Request], Response]


@dataclass
class Seen:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class RecordingServer:
    """A running server: its ``url`` and the requests it got (``seen``)."""

    url: str
    seen: list[Seen] = field(default_factory=list)

    def authorizations(self) -> list[str]:
        """Every ``Authorization`` header it received."""
        return [s.headers["authorization"] for s in self.seen if "authorization" in s.headers]


def service_info(_: Request) -> Response:
    """What ``GET /service-info`` answers on real Tower (trimmed)."""
    return JSONResponse({"serviceInfo": {"version": "24.1.0", "apiVersion": "1.30.0"}})


@contextmanager
def recording_server(
    answer: Answer = service_info,
    *,
    tls: tuple[str, str] | None = None,
    host: str = "127.0.0.1",
) -> Iterator[RecordingServer]:
    """Serve ``answer`` for every path and method; ``tls=(certfile, keyfile)`` serves https."""
    record: list[Seen] = []

    async def endpoint(request: Request) -> Response:
        record.append(Seen(request.method, request.url.path, dict(request.headers)))
        return answer(request)

    methods = ["GET", "POST", "PUT", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])
    certfile, keyfile = tls if tls else (None, None)
    server = ServerThread(app, host, 0, ssl_certfile=certfile, ssl_keyfile=keyfile)
    server.start()
    scheme = "https" if tls else "http"
    try:
        yield RecordingServer(f"{scheme}://{host}:{server.port}", record)
    finally:
        server.stop()


@dataclass(frozen=True)
class Certificates:
    """A throwaway CA (``ca_file``) and a server certificate it signed (``cert``/``key``)."""

    ca_file: str
    cert_file: str
    key_file: str

    @property
    def tls(self) -> tuple[str, str]:
        """``(certfile, keyfile)`` for :func:`recording_server`."""
        return self.cert_file, self.key_file


def make_certificates(directory: Path, *names: str) -> Certificates:
    """A new CA and a certificate for ``names`` (default ``127.0.0.1`` and ``localhost``)."""
    ca = trustme.CA()
    leaf = ca.issue_cert(*(names or ("127.0.0.1", "localhost")))
    ca_file, cert_file, key_file = (directory / n for n in ("ca.pem", "cert.pem", "key.pem"))
    ca.cert_pem.write_to_path(str(ca_file))
    leaf.cert_chain_pems[0].write_to_path(str(cert_file))
    for extra in leaf.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_file), append=True)
    leaf.private_key_pem.write_to_path(str(key_file))
    return Certificates(str(ca_file), str(cert_file), str(key_file))
