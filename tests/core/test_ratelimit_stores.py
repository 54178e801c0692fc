"""The host-wide stores (a locked file, the default, and SQLite): what they keep, how they
date calls, how they share, fail and recover. Processes against the emulator:
test_ratelimit_processes.py."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from nftower import TowerClient
from nftower.ratelimit import (
    FileBackend,
    RateLimitBackend,
    RateLimiter,
    SQLiteBackend,
    get_limiter,
    reset_limiters,
)
from nftower.testing import TowerEmulator

#: A log entry in both files: time, 16-byte ticket (zeros: none).
ENTRY = struct.Struct("<d16s")
#: The locked file: a 32-byte header, then records of key SHA-256, capacity, count, last write.
HEADER = 32
RECORD = struct.Struct("<32sIId")

Logs = dict[str, list[tuple[float, str | None]]]


def _call(limiter: RateLimiter) -> None:
    """One call through the limiter (admitted, then dated as its answer arrives)."""
    with limiter.slot():
        pass


def _entries(data: bytes) -> list[tuple[float, str | None]]:
    return sorted((at, raw.rstrip(b"\0").decode() or None) for at, raw in ENTRY.iter_unpack(data))


def sqlite_logs(path: Path) -> Logs:
    """Each key's log as the SQLite file holds it, oldest entry first."""
    with closing(sqlite3.connect(path)) as conn:
        return {key: _entries(log) for key, log in conn.execute("SELECT key, log FROM windows")}


def file_records(path: Path) -> list[tuple[int, bytes, int, int, float]]:
    """(offset, key digest, capacity, count, last write) of each record of the locked file."""
    data = path.read_bytes()
    records, offset = [], HEADER
    while offset < len(data):
        digest, capacity, count, used = RECORD.unpack_from(data, offset)
        records.append((offset, digest, capacity, count, used))
        offset += RECORD.size + capacity * ENTRY.size
    return records


def rewrite_record(path: Path, index: int = 0, **changes: float) -> None:
    """Change fields (``count``, ``used``) of a record's header in the file."""
    offset, digest, capacity, count, used = file_records(path)[index]
    fields = {"count": count, "used": used} | changes
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(RECORD.pack(digest, capacity, int(fields["count"]), fields["used"]))


def file_logs(path: Path) -> Logs:
    """Each key's log as the locked file holds it (keyed by digest hex), oldest first."""
    data = path.read_bytes()
    return {
        digest.hex(): _entries(data[offset + RECORD.size : offset + RECORD.size + count * 24])
        for offset, digest, _, count, _ in file_records(path)
    }


STORES: dict[str, tuple[Callable[[Path], RateLimitBackend], str, Callable[[Path], Logs]]] = {
    "file": (FileBackend, "file://", file_logs),
    "sqlite": (SQLiteBackend, "sqlite://", sqlite_logs),
}


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    reset_limiters()
    yield
    reset_limiters()


@pytest.fixture(params=list(STORES))
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make(store: str, path: Path) -> RateLimitBackend:
    return STORES[store][0](path)


def logs(store: str, path: Path) -> list[list[tuple[float, str | None]]]:
    return list(STORES[store][2](path).values())


def test_a_call_in_flight_counts_until_released(store: str, tmp_path: Path) -> None:
    backend = make(store, tmp_path / "rl")
    assert backend.acquire("k", 1, 30.0, ticket="t1", hold=60.0) == 0.0
    assert backend.acquire("k", 1, 30.0) == pytest.approx(0.01)  # full of a call in flight
    before = time.time()
    backend.release("k", "t1")
    after = time.time()
    assert 29.0 < backend.acquire("k", 1, 30.0) <= 30.0  # dated when its response arrived
    [[(at, ticket)]] = logs(store, tmp_path / "rl")
    assert before <= at <= after
    assert ticket is None
    backend.release("k", "unknown-ticket")  # harmless
    backend.close()


def test_long_tickets_are_matched_by_digest(store: str, tmp_path: Path) -> None:
    backend = make(store, tmp_path / "rl")
    ticket = "a-ticket-much-longer-than-sixteen-bytes"
    assert backend.acquire("k", 1, 30.0, ticket=ticket, hold=60.0) == 0.0
    backend.release("k", ticket)
    assert 29.0 < backend.acquire("k", 1, 30.0) <= 30.0
    backend.close()


def test_keys_are_independent_and_the_token_is_never_stored(store: str, tmp_path: Path) -> None:
    token = "tok-SECRET-0123456789"
    path = tmp_path / "rl"
    limiter = get_limiter(api_url="http://h", token=token, backend=f"{STORES[store][1]}{path}")
    other = get_limiter(api_url="http://h", token="other", backend=f"{STORES[store][1]}{path}")
    for _ in range(3):
        with limiter.slot(), other.slot():
            pass
    assert [len(log) for log in logs(store, path)] == [3, 3]
    assert token not in repr(limiter)
    reset_limiters()
    for file in tmp_path.iterdir():
        assert token.encode() not in file.read_bytes()


def test_an_unwritable_file_falls_back_in_process_with_one_warning(
    store: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory is needed")
    monkeypatch.setattr(tempfile, "tempdir", str(blocker))  # no host-wide stand-in either
    limiter = RateLimiter(make(store, blocker / "rl"), "k", limit=3, window=0.05)
    with caplog.at_level(logging.WARNING, logger="nftower.ratelimit"):
        for _ in range(7):
            _call(limiter)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "limiting calls within this process" in warnings[0]
    stats = limiter.stats()
    assert (stats.fallback, stats.outages, stats.admitted) == (True, 1, 7)
    assert stats.waits >= 1  # still limited: 7 calls at 3 per window had to wait


def test_a_client_keeps_working_when_the_store_cannot_be_used(
    store: str,
    tmp_path: Path,
    tower_emulator: TowerEmulator,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory is needed")
    monkeypatch.setattr(tempfile, "tempdir", str(blocker))  # no host-wide stand-in either
    emu = tower_emulator
    url = f"{STORES[store][1]}{blocker / 'rl'}"
    with (
        caplog.at_level(logging.WARNING, logger="nftower.ratelimit"),
        TowerClient(emu.url, emu.token, rate_limit_backend=url) as client,
    ):
        names = {client.user_info().user_name for _ in range(3)}
    assert names == {"demo-user"}
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "limiting calls within this process" in warning


HOLD_THE_LOCK = """
import fcntl, sqlite3, sys
if sys.argv[1] == "file":
    handle = open(sys.argv[2], "r+b")
    fcntl.lockf(handle, fcntl.LOCK_EX, 1 << 30, 0)
else:
    handle = sqlite3.connect(sys.argv[2], isolation_level=None)
    handle.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
"""


def hold_the_lock(store: str, path: Path) -> subprocess.Popen[str]:
    """Another process that holds the store's write lock until it reads a line."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, store, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "locked\n"
    return holder


async def test_async_calls_wait_for_another_process_off_the_event_loop(
    store: str, tmp_path: Path
) -> None:
    backend = make(store, tmp_path / "rl")
    assert await backend.aacquire("k", 5, 1.0, "t1", 60.0) == 0.0  # in the loop
    await backend.arelease("k", "t1")
    holder = await asyncio.to_thread(hold_the_lock, store, tmp_path / "rl")
    pending = asyncio.create_task(backend.aacquire("k", 5, 1.0))
    ticks = 0
    while not pending.done() and ticks < 5:  # the loop keeps running meanwhile
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks == 5
    holder.communicate("done\n", timeout=30)
    assert await pending == 0.0
    backend.close()


def test_a_torn_entry_is_left_out(store: str, tmp_path: Path) -> None:
    path = tmp_path / "rl"
    backend = make(store, path)
    backend.acquire("k", 2, 30.0)
    if store == "sqlite":
        with closing(sqlite3.connect(path)) as conn, conn:
            (log,) = conn.execute("SELECT log FROM windows").fetchone()
            conn.execute("UPDATE windows SET log = ?", (log + b"\x00\xff",))
    else:
        _, _, _, count, _ = file_records(path)[0]
        rewrite_record(path, count=count + 1)  # an entry too many, as after a crash
    assert backend.acquire("k", 2, 30.0) == 0.0
    assert backend.acquire("k", 2, 30.0) > 0
    backend.close()


def test_sqlite_errors_computing_a_log_surface_as_themselves(tmp_path: Path) -> None:
    backend = SQLiteBackend(tmp_path / "rl.sqlite3")
    with pytest.raises(TypeError, match="not supported between"):
        backend.acquire("k", "bad limit", 30.0)  # type: ignore[arg-type]
    assert backend.acquire("k", 1, 30.0) == 0.0  # the connection is still usable
    backend.close()


def age_every_key(store: str, path: Path, seconds: float) -> None:
    """Make every key of the store look unused for ``seconds`` more."""
    if store == "sqlite":
        with closing(sqlite3.connect(path)) as conn, conn:
            conn.execute("UPDATE windows SET used = used - ?", (seconds,))
    else:
        for index, (_, _, _, _, used) in enumerate(file_records(path)):
            rewrite_record(path, index, used=used - seconds)


def test_keys_unused_for_a_day_make_room_for_new_ones(store: str, tmp_path: Path) -> None:
    path = tmp_path / "rl"
    backend = make(store, path)
    backend.acquire("old-token", 5, 1.0)
    backend.close()
    age_every_key(store, path, 2 * 86400)
    backend = make(store, path)  # SQLite forgets them when a process opens the file
    backend.acquire("new-token", 5, 1.0)  # the file gives the old record to the new key
    backend.acquire("newer-token", 5, 1.0)  # nothing stale left: a record of its own
    backend.close()
    named = {"new-token", "newer-token"}
    if store == "file":
        named = {hashlib.sha256(key.encode()).hexdigest() for key in named}
        assert path.stat().st_size == HEADER + 2 * (RECORD.size + 256 * ENTRY.size)
    assert set(STORES[store][2](path)) == named


def test_file_of_another_kind_is_refused_not_overwritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("something else entirely\n")
    limiter = RateLimiter(FileBackend(path), "k", limit=3, window=0.05)
    with caplog.at_level(logging.WARNING, logger="nftower.ratelimit"):
        _call(limiter)
    assert "is not an nftower rate limit file" in caplog.records[0].getMessage()
    assert limiter.stats().fallback
    assert path.read_text() == "something else entirely\n"


def test_file_limits_above_the_record_capacity_are_capped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backend = FileBackend(tmp_path / "rl.bin")
    backend.acquire("k", 20, 60.0)  # the record holds 256 entries
    with caplog.at_level(logging.WARNING, logger="nftower.ratelimit"):
        admitted = sum(backend.acquire("k", 300, 60.0) == 0.0 for _ in range(300))
    assert admitted == 255
    assert len([r for r in caplog.records if "limiting to 256" in r.getMessage()]) == 1
    backend.close()


def test_file_record_of_a_first_high_limit_holds_it(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "rl.bin")
    assert sum(backend.acquire("k", 300, 60.0) == 0.0 for _ in range(301)) == 300
    backend.close()
    assert [r[2] for r in file_records(tmp_path / "rl.bin")] == [300]


def test_file_works_in_a_child_forked_while_a_thread_was_using_it(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "rl.bin")
    backend.acquire("k", 5, 30.0, ticket="parent", hold=60.0)
    backend.release("k", "parent")  # noted, not written yet
    with backend._file().lock:  # as if another thread were inside acquire() at fork()
        pid = os.fork()
        if pid == 0:  # the child: no thread holds the lock here
            admitted = backend.acquire("k", 5, 30.0) == 0.0
            os._exit(0 if admitted else 1)
    deadline = time.monotonic() + 30
    while (done := os.waitpid(pid, os.WNOHANG)) == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.01)
    if done == (0, 0):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung on the backend's lock")
    assert os.waitstatus_to_exitcode(done[1]) == 0
    backend.flush()
    [log] = file_logs(tmp_path / "rl.bin").values()
    assert [ticket for _, ticket in log] == [None, None]
    backend.close()


def test_backends_of_one_file_share_its_descriptor_and_locks(tmp_path: Path) -> None:
    # POSIX record locks belong to the process: two descriptors would not exclude each other,
    # and closing one would drop the locks taken through the other.
    first, second = FileBackend(tmp_path / "rl.bin"), FileBackend(tmp_path / "." / "rl.bin")
    handle = first._file()
    assert second._file() is handle
    assert first.acquire("k", 2, 30.0) == 0.0
    first.close()
    assert second.acquire("k", 2, 30.0) == 0.0  # still open for the other one
    assert second.acquire("k", 2, 30.0) > 0  # and it sees the first one's call
    second.close()  # the last one closes the file
    assert FileBackend(tmp_path / "rl.bin")._file() is not handle
