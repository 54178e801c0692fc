"""The fault matrix: each cell is a fault a night can meet, armed on the Tower emulator the
same way for every layer (the core client, the Airflow operator and trigger, the Prefect
tasks and flow), with what must come of it. The emulator's launch count is the judge: a cell
never ends with a lost run or a second one.

A cell's faults hit one phase of the work:

- ``launch``: the launch ``POST`` itself (armed before the work starts);
- ``lookups``: the reads before the launch (the runs search, the pipeline, its saved launch);
- ``wait``: the status checks while the run is watched. :class:`MidWait` arms them once the
  watching has begun (a status read after the launch was answered), keeps the run RUNNING
  until every fault has hit, then lets it succeed, so that no cell passes without its faults.

The matrix runs the client's retry backoff five times faster (:func:`quick_backoff`): the
schedule itself is tested in tests/core/test_retry.py, and the cells test what the retries come
to. Every suite finds this module through ``pythonpath = ["tests"]`` (pyproject.toml).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from nftower.testing import TowerEmulator

LAUNCH = r"^/workflow/launch$"
#: the runs list and one run's description: what a wait reads (directly or batched)
STATUS_READS = r"^/workflow(/\w+)?$"
#: the launch grace (NFTOWER_LAUNCH_GRACE) of cells whose launch may never have reached Tower
GRACE = "1.0"


@dataclass(frozen=True)
class Cell:
    """One fault of the matrix and what must come of it."""

    id: str
    phase: str  # "launch", "lookups" or "wait"
    faults: tuple[dict[str, Any], ...] = ()
    #: client options (seconds per request, retries per call) the cell is run with
    timeout: float = 30.0
    max_retries: int = 5
    #: tries the work gets (a launch that may not have reached Tower needs the retry)
    tries: int = 1
    #: the server is gone for this many seconds mid-wait (stopped, then back on its port)
    outage: float = 0.0
    #: the run's emulator outcome and how long UNKNOWN is tolerated
    outcome: str = "succeed"
    unknown_timeout: float = 3600.0
    #: what the nftower log must say (a regular expression)
    log: str = ""
    #: how the work ends: "succeeded" (the run SUCCEEDED), "unknown" (it stayed UNKNOWN too
    #: long), "vanished" (the run was deleted in Tower while watched) or "refused" (the answer
    #: is not the API's: the work fails with ``error``, whose message matches ``says``)
    ends: str = "succeeded"
    error: str = ""
    says: str = ""
    #: runs the emulator sees launched
    launches: int = 1
    #: the run is deleted in Tower once the watching has begun
    vanish: bool = False
    env: dict[str, str] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, Any]:
        """Pipeline parameters: a run the cell holds RUNNING, or the cell's outcome."""
        return {"emulator_outcome": "hang" if self.phase == "wait" else self.outcome}


def _burst(kind: str, method: str, path: str | None, times: int, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "method": method, "path": path, "times": times, **extra}


_RETRIED = r"Retrying GET \S+ in [\d.]+ s \(attempt 1 of \d+ failed\)"
_ERROR_ID = r"Error ID: \w{10,}"
_UNKNOWN = r"outcome of the launch of run \S+ is unknown"

CELLS: tuple[Cell, ...] = (
    Cell(
        "http-500-burst",
        "lookups",
        (_burst("status", "GET", None, 2, status=500),),
        log=rf"{_RETRIED}: 500 GET .*{_ERROR_ID}",
    ),
    Cell(
        "http-502-503-504-burst",
        "lookups",
        tuple(_burst("status", "GET", None, 1, status=status) for status in (502, 503, 504)),
        log=rf"{_RETRIED}: 502 GET .*{_ERROR_ID}(.|\n)*: 503 GET (.|\n)*: 504 GET .*{_ERROR_ID}",
    ),
    Cell(
        "http-500-burst-mid-wait",
        "wait",
        (_burst("status", "GET", STATUS_READS, 2, status=500),),
        log=rf"500 GET /workflow\S* .*{_ERROR_ID}",
    ),
    Cell(
        "http-429-storm-retry-after",
        "lookups",
        (_burst("rate_limit", "GET", None, 5, retry_after=0.2),),
        log=r"Retrying GET \S+ in 0.20 s .*: 429 GET",
    ),
    Cell(
        "http-429-storm-on-launch",
        "launch",
        (_burst("rate_limit", "POST", LAUNCH, 3, retry_after=0.2),),
        log=r"Retrying POST /workflow/launch in 0.20 s .*: 429 POST",
    ),
    Cell(
        "http-429-storm-no-retry-after",
        "lookups",
        (_burst("rate_limit", "GET", None, 3, retry_after=None),),
        log=rf"{_RETRIED}: 429 GET .*Maximum request rate exceeded",
    ),
    Cell(
        "read-timeout-mid-wait",
        "wait",
        (_burst("delay", "GET", STATUS_READS, 2, delay=1.0),),
        timeout=0.5,
        log=r"timed out \(ReadTimeout, timeout 0.5 s\)",
    ),
    Cell(
        "launch-answer-slower-than-timeout",
        "launch",
        (_burst("delay", "POST", LAUNCH, 1, delay=2.0),),
        timeout=0.5,
        log=rf"{_UNKNOWN} .*timed out",
    ),
    Cell(
        "reset-before-launch-reached-tower",
        "launch",
        (_burst("reset_before", "POST", LAUNCH, 1),),
        tries=2,
        env={"NFTOWER_LAUNCH_GRACE": GRACE},
        log=rf"{_UNKNOWN} .*ReadError",
    ),
    Cell(
        "reset-after-launch-recorded",
        "launch",
        (_burst("reset_after", "POST", LAUNCH, 1),),
        log=rf"{_UNKNOWN} .*ReadError",
    ),
    Cell(
        "malformed-json-reads",
        "lookups",
        (_burst("malformed_json", "GET", None, 1),),
        log=rf"{_RETRIED}: .*HTTP 200 .*JSON",
    ),
    Cell(
        "malformed-json-launch-answer",
        "launch",
        (_burst("malformed_json", "POST", LAUNCH, 1),),
        log=rf"{_UNKNOWN} .*JSON",
    ),
    Cell(
        "truncated-body-reads",
        "lookups",
        (_burst("truncated_body", "GET", None, 1),),
        log=rf"{_RETRIED}: .*RemoteProtocolError",
    ),
    Cell(
        "truncated-launch-answer",
        "launch",
        (_burst("truncated_body", "POST", LAUNCH, 1),),
        log=rf"{_UNKNOWN} .*RemoteProtocolError",
    ),
    Cell(
        "proxy-html-502-reads",
        "lookups",
        (_burst("html", "GET", None, 1, status=502),),
        log=rf"{_RETRIED}: 502 GET .*502 Bad Gateway",
    ),
    Cell(
        "proxy-html-502-launch",
        "launch",
        (_burst("html", "POST", LAUNCH, 1, status=502),),
        tries=2,
        env={"NFTOWER_LAUNCH_GRACE": GRACE},
        log=rf"{_UNKNOWN} .*502 POST /workflow/launch",
    ),
    Cell(
        "redirect-to-a-login-page",
        "lookups",
        (_burst("redirect", "GET", None, 1, location="https://sso.example.org/login"),),
        ends="refused",
        error="RedirectError",
        says=r"redirect to https://sso.example.org/login .*login or single sign-on page.*"
        r"not followed, so the access token was not sent there",
        launches=0,
    ),
    Cell(
        "redirect-of-the-launch",
        "launch",
        (_burst("redirect", "POST", LAUNCH, 1, location="/login"),),
        ends="refused",
        error="RedirectError",
        says=r"POST /workflow/launch.*redirect to \S+/login",
        launches=0,
    ),
    Cell(
        "empty-200-reads",
        "lookups",
        (_burst("empty_body", "GET", None, 1),),
        ends="refused",
        error="InvalidResponseError",
        says=r"HTTP 200 with an empty body where the Tower API answers JSON",
        launches=0,
    ),
    Cell(
        "empty-launch-answer",
        "launch",
        (_burst("empty_body", "POST", LAUNCH, 1),),
        log=rf"{_UNKNOWN} .*empty body",
    ),
    Cell(
        "run-stuck-unknown",
        "launch",
        outcome="unknown",
        unknown_timeout=1.0,
        tries=2,
        ends="unknown",
    ),
    Cell(
        "run-deleted-mid-wait",
        "wait",
        vanish=True,
        ends="vanished",
    ),
    Cell(
        "server-gone-mid-wait",
        "wait",
        outage=1.5,
        log=r"ConnectError",
    ),
)

BY_ID = {cell.id: cell for cell in CELLS}


#: how much faster the matrix runs the client's backoff
BACKOFF_SCALE = 0.2


def quick_backoff(monkeypatch: Any) -> None:
    """Make the client's exponential backoff five times shorter for this test (in-process)."""
    from nftower import _retry

    normal = _retry.backoff

    def quick(attempt: int, **kwargs: Any) -> float:
        return normal(attempt, **kwargs) * BACKOFF_SCALE

    monkeypatch.setattr(_retry, "backoff", quick)


def token_hash(token: str) -> str:
    """How the emulator records a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def arm(emu: TowerEmulator, cell: Cell) -> None:
    """Inject the faults of a ``launch`` or ``lookups`` cell (before the work starts)."""
    emu.clear_faults()
    if cell.phase != "wait":
        for fault in cell.faults:
            emu.inject(**fault)


def faults_left(emu: TowerEmulator) -> list[dict[str, Any]]:
    """The injected faults not used up yet (a cell passes only once all have hit)."""
    return emu.faults


def launches(emu: TowerEmulator, token: str | None = None) -> list[Any]:
    """The launches that created a run (of ``token`` only when given)."""
    return [r for r in emu.launches if token is None or r.token_hash == token_hash(token)]


class MidWait:
    """Drives a ``wait`` cell from a thread: once the work reads the status of the run it
    launched, arm the faults (or take the server away for ``outage`` seconds), hold the run
    RUNNING until every fault has hit, then let it succeed. Other cells: nothing.

    Use as a context manager around the work; ``error`` holds what went wrong in the thread.
    """

    def __init__(self, emu: TowerEmulator, cell: Cell, token: str | None = None) -> None:
        self.emu, self.cell, self.token = emu, cell, token
        self.error: BaseException | None = None
        self.workflow_id: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._drive, daemon=True)

    def __enter__(self) -> MidWait:
        if self.cell.phase == "wait":
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(30)
        self.emu.clear_faults()

    def _ours(self, record: Any) -> bool:
        return self.token is None or record.token_hash == token_hash(self.token)

    def _until(self, probe: Any, timeout: float = 120.0) -> Any:
        deadline = time.monotonic() + timeout
        while not self._done.is_set():
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.cell.id}: timed out in {probe.__name__}")
            time.sleep(0.02)
        return None

    def _read_since(self, since: float) -> Callable[[], bool]:
        """A probe: has a status read of ours that arrived after ``since`` been answered?"""
        pattern = re.compile(STATUS_READS)

        def watching() -> bool:
            return any(
                r.time > since
                and r.method == "GET"
                and pattern.search(r.path)
                and r.status == 200
                and self._ours(r)
                for r in self.emu.requests
            )

        return watching

    def _drive(self) -> None:
        try:

            def launched() -> Any:
                mine = [r for r in self.emu.launches if self._ours(r)]
                return mine[-1] if mine else None

            launch = self._until(launched)
            if launch is None:
                return
            self.workflow_id = launch.workflow_id
            if not self._until(self._read_since(launch.time)):
                return
            if self.cell.vanish:
                self._delete(launch.workflow_id)
                return
            if self.cell.outage:
                self.emu.stop()
                time.sleep(self.cell.outage)
                self.emu.start()
            for fault in self.cell.faults:
                self.emu.inject(**fault)

            def used_up() -> bool:
                return not faults_left(self.emu)

            self._until(used_up)
            # one more status check sees it RUNNING (the wait rode the faults out), then it ends
            self._until(self._read_since(time.time()))
            self.emu.set_status(launch.workflow_id, "SUCCEEDED")
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _delete(self, workflow_id: str) -> None:
        answer = httpx.delete(
            f"{self.emu.url}/workflow/{workflow_id}",
            params={"workspaceId": self.emu.workspace_id, "force": "true"},
            headers={"Authorization": f"Bearer {self.emu.token}"},
        )
        assert answer.status_code == 204, answer.text


def vanished_text(workflow_id: str) -> str:
    """What the error of a deleted run says (it names the run)."""
    return f"Run '{workflow_id}' is unknown or not visible"


def check_refusal(cell: Cell, error: object) -> None:
    """A refused cell ends with its error class and message."""
    assert type(error).__name__ == cell.error, repr(error)
    assert re.search(cell.says, str(error), flags=re.DOTALL), str(error)


def check_log(cell: Cell, text: str) -> None:
    """The log says what happened (the cell's pattern)."""
    if cell.log:
        assert re.search(cell.log, text), f"{cell.id}: no {cell.log!r} in the log:\n{text[-3000:]}"
