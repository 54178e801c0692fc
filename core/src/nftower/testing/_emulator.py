"""The :class:`TowerEmulator` facade."""

from __future__ import annotations

import secrets
from types import TracebackType
from typing import Any

from ._app import EmulatorApp, EmulatorState
from ._faults import Fault
from ._records import RecordedRequest, SlidingWindowLimiter
from ._seed import ORG_NAME, USER_NAME, WORKSPACE_ID, WORKSPACE_NAME
from ._server import ServerThread
from ._world import World


class TowerEmulator:
    """A local Seqera Platform (Nextflow Tower) API over real HTTP, for tests and demos.

    Runs advance on a clock scaled by ``speed`` (emulated seconds per real second), so a
    default 20-second run finishes in about one real second at ``speed=20``.
    ``retry_after=False`` sends 429s without a ``Retry-After`` header;
    ``bad_token_status=401`` answers a bad token with 401 and an empty body (default: 403);
    ``unknown_run_status=404`` answers an unknown, deleted or hidden run id with 404 (default:
    403, as Tower does, with the body of a bad token).

    >>> import httpx
    >>> with TowerEmulator(speed=100) as emu:
    ...     headers = {"Authorization": f"Bearer {emu.token}"}
    ...     body = {"launch": {"pipeline": "https://github.com/nextflow-io/hello"}}
    ...     answer = httpx.post(f"{emu.url}/workflow/launch", params={"workspaceId":
    ...         emu.workspace_id}, json=body, headers=headers)
    ...     answer.status_code, len(emu.launches)
    (200, 1)
    """

    def __init__(
        self,
        speed: float = 20.0,
        token: str | None = None,
        rate_limit: int | None = 20,
        rate_limit_window: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: bool = True,
        retry_after: bool = True,
        bad_token_status: int = 403,
        unknown_run_status: int = 403,
    ) -> None:
        if bad_token_status not in (401, 403):
            raise ValueError("bad_token_status must be 401 or 403")
        if rate_limit is not None and rate_limit < 1:
            raise ValueError("rate_limit must be a positive integer or None")
        if rate_limit_window <= 0:
            raise ValueError("rate_limit_window must be positive")
        self.token: str = token or secrets.token_urlsafe(32)
        self._state = EmulatorState(
            world=World(speed=float(speed), seed=seed, unknown_run_status=unknown_run_status),
            limiter=SlidingWindowLimiter(rate_limit, rate_limit_window),
            retry_after=retry_after,
            bad_token_status=bad_token_status,
        )
        self._state.add_token(self.token)
        self._host, self._port = host, port
        self._server: ServerThread | None = None
        self.workspace_id: int | None = WORKSPACE_ID if seed else None
        self.org_name = ORG_NAME
        self.workspace_name = WORKSPACE_NAME
        self.user_name = USER_NAME

    def __repr__(self) -> str:
        where = self.url if self._server else "stopped"
        return f"TowerEmulator({where}, speed={self.speed})"

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> TowerEmulator:
        """Start serving (idempotent); returns ``self``."""
        if self._server is None:
            server = ServerThread(EmulatorApp(self._state), self._host, self._port)
            server.start()
            self._server = server
            self._port = server.port  # a restart after stop() serves on the same port
        return self

    def stop(self) -> None:
        """Stop serving (idempotent); runs, records and faults are kept, and ``start()``
        serves them again on the same port (a server gone for a while, then back)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> TowerEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """API base URL, e.g. ``http://127.0.0.1:41234`` (official paths are appended)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() or use `with`")
        host = f"[{self._server.host}]" if ":" in self._server.host else self._server.host
        return f"http://{host}:{self._server.port}"

    @property
    def speed(self) -> float:
        return self._state.world.speed

    # -- tokens and records ------------------------------------------------------------
    def add_token(self, token: str) -> None:
        """Accept another access token (it gets its own rate-limit bucket)."""
        self._state.add_token(token)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Copy of every API request recorded so far (admin calls excluded)."""
        return self._state.log.snapshot()

    @property
    def launches(self) -> list[RecordedRequest]:
        """Recorded ``POST /workflow/launch`` requests that created a run."""
        return self._state.log.launches()

    def clear_requests(self) -> None:
        self._state.log.clear()

    def max_calls_in_window(self, window: float = 1.0, token: str | None = None) -> int:
        """Peak number of recorded requests within any ``window`` seconds, for ``token``
        (or the busiest token when ``None``)."""
        return self._state.log.max_calls_in_window(window, token)

    def stats(self) -> dict[str, Any]:
        """Counters: requests, rate_limited (429s), launches, max_calls_in_window, ..."""
        data = self._state.log.stats(self._state.limiter.window)
        with self._state.world.lock:
            data["workflows"] = len(self._state.world.runs)
        return data

    # -- faults ----------------------------------------------------------------------
    def inject(
        self,
        kind: str,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
        status: int = 503,
        retry_after: float | None = 1.0,
        delay: float = 0.0,
        location: str = "/login",
    ) -> None:
        """Make the next ``times`` matching requests fail (see docs/emulator.md).

        ``kind``: ``status``, ``rate_limit``, ``delay``, ``drop_before``, ``drop_after``,
        ``reset_before``, ``reset_after``, ``malformed_json``, ``truncated_body``,
        ``empty_body``, ``html`` or ``redirect``; ``path`` is a regex searched in the URL path.
        """
        fault = Fault(kind, method, path, times, status, retry_after, delay, location)
        self._state.faults.add(fault)

    def clear_faults(self) -> None:
        self._state.faults.clear()

    @property
    def faults(self) -> list[dict[str, Any]]:
        """The injected faults not used up yet, as ``GET /_emulator/faults`` lists them."""
        return self._state.faults.active()

    # -- runs ------------------------------------------------------------------------
    def set_status(self, workflow_id: str, status: str) -> None:
        """Force a run's status from now on (e.g. ``"FAILED"``)."""
        with self._state.world.lock:
            self._state.world.set_status(workflow_id, status)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` emulated seconds pass at once for every existing run.

        With a low ``speed`` this makes state changes deterministic in tests: launch, check
        SUBMITTED, ``advance(5)``, check RUNNING, ``advance(60)``, check SUCCEEDED.
        """
        with self._state.world.lock:
            self._state.world.advance(seconds)

    def workflow(self, workflow_id: str) -> dict[str, Any]:
        """The emulator's raw record of a run: status, outcome, launch, tasks, log."""
        with self._state.world.lock:
            return self._state.world.raw(workflow_id)

    # -- launchpad and compute environments ------------------------------------------
    def add_pipeline(
        self,
        name: str,
        repository: str,
        *,
        workspace_id: int | None = WORKSPACE_ID,
        launch: dict[str, Any] | None = None,
    ) -> int:
        """Add a launchpad pipeline (default: to the seeded workspace) whose saved launch has
        ``launch``'s fields (e.g. ``{"revision": "v1"}``); returns its id."""
        with self._state.world.lock:
            world = self._state.world
            ctx = world.context(workspace_id)
            return world.add_pipeline(name, repository, ctx, dict(launch or {})).id

    def set_compute_env_status(self, name_or_id: str, status: str) -> None:
        """Set a compute environment's status (``AVAILABLE``, ``INVALID``, ``ERRORED``, ...)."""
        with self._state.world.lock:
            envs = self._state.world.compute_envs.values()
            found = [ce for ce in envs if name_or_id in (ce.id, ce.name)]
            if not found:
                raise KeyError(f"no compute environment {name_or_id!r}")
            for ce in found:
                ce.status = status

    # -- run files -------------------------------------------------------------------
    def mark_cli_run(self, workflow_id: str) -> None:
        """Make a run look launched from the Nextflow CLI: its file downloads answer 400."""
        with self._state.world.lock:
            self._state.run_files.cli_runs.add(workflow_id)

    def expire_run_files(self, workflow_id: str, *file_names: str) -> None:
        """Make files of a run gone (their downloads answer 404), e.g. ``".command.err"``."""
        with self._state.world.lock:
            self._state.run_files.gone.update((workflow_id, name) for name in file_names)
