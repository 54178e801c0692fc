"""The Tower emulator as a separate process, driven through its admin API."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from ._env import free_port

_EXPORT = re.compile(r"(TOWER_API_ENDPOINT|TOWER_ACCESS_TOKEN|TOWER_WORKSPACE_ID)=(\S+)")


class EmulatorProcess:
    """``nftower-emulator`` on a free loopback port; ``.url``, ``.token``, ``.workspace_id``.

    Server-side figures (request times, 429s) are read from ``/_emulator/requests`` and
    ``/_emulator/stats``; the emulator process does its own bookkeeping, so the benchmarked
    process pays nothing for it.
    """

    def __init__(self, *, speed: float = 20.0, rate_limit: int | None = 20) -> None:
        self.speed = speed
        self.rate_limit = rate_limit
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = ""
        self.workspace_id = 0
        self._process: subprocess.Popen[str] | None = None
        self._admin = httpx.Client(base_url=self.url, timeout=60.0)

    def __enter__(self) -> EmulatorProcess:
        script = Path(sys.executable).with_name("nftower-emulator")
        command = [str(script), "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--speed", str(self.speed), "--token", secrets.token_hex(16)]
        command += ["--rate-limit", str(self.rate_limit if self.rate_limit is not None else 0)]
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self._process.stdout is not None
        found: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while len(found) < 3:
            line = self._process.stdout.readline()
            if not line and self._process.poll() is not None:
                raise RuntimeError("nftower-emulator exited before it was ready")
            for key, value in _EXPORT.findall(line):
                found[key] = value.strip("'\"")
            if time.monotonic() > deadline:
                raise RuntimeError("nftower-emulator did not print its settings in time")
        self.url = found["TOWER_API_ENDPOINT"].rstrip("/")
        self.token = found["TOWER_ACCESS_TOKEN"]
        self.workspace_id = int(found["TOWER_WORKSPACE_ID"])
        self._admin = httpx.Client(base_url=self.url, timeout=60.0)
        while True:
            try:
                self._admin.get("/_emulator/stats").raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._admin.close()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    # -- admin API --------------------------------------------------------------------------

    def new_token(self) -> str:
        """A fresh valid token (its own rate-limit bucket on the server)."""
        token = secrets.token_hex(16)
        self._admin.post("/_emulator/tokens", json={"token": token}).raise_for_status()
        return token

    def requests(self) -> list[dict[str, Any]]:
        response = self._admin.get("/_emulator/requests")
        response.raise_for_status()
        body = response.json()
        items: list[dict[str, Any]] = body["requests"] if isinstance(body, dict) else body
        return items

    def clear_requests(self) -> None:
        self._admin.delete("/_emulator/requests").raise_for_status()

    def stats(self) -> dict[str, Any]:
        response = self._admin.get("/_emulator/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def set_status(self, workflow_id: str, status: str) -> None:
        self._admin.post(
            f"/_emulator/workflows/{workflow_id}/status", json={"status": status}
        ).raise_for_status()

    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid
