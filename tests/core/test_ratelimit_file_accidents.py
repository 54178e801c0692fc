"""The host-wide rate limit file survives ordinary accidents while processes use it: cut short
or emptied, deleted, its header overwritten, its directory read-only. Each case runs several
client processes against the emulator, which counts the calls of every 1-s window."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from nftower.ratelimit import FileBackend, reset_limiters
from nftower.ratelimit._file_layout import MAGIC, parse
from nftower.testing import TowerEmulator

WORKER = """
import json, sys, time, logging
from nftower import TowerClient, RateLimitError
from nftower.ratelimit import get_limiter
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
url, token, backend, calls = sys.argv[1], sys.argv[2], sys.argv[3] or None, int(sys.argv[4])
client_429 = 0
with TowerClient(url, token, rate_limit_backend=backend) as client:
    time.sleep(max(0.0, float(sys.argv[5]) - time.time()))  # all processes start together
    for index in range(calls):
        try:
            client.user_info()
        except RateLimitError:
            client_429 += 1
        if index == 0 and len(sys.argv) > 6:
            open(sys.argv[6], "w").close()  # made its first call
stats = get_limiter(api_url=url, token=token, backend=backend).stats()
print(json.dumps({"client_429": client_429, "admitted": stats.admitted,
                  "fallback": stats.fallback, "backend": stats.backend}))
"""

#: Calls per process: at 20 per second, 3 processes keep the limit busy for about 6 s.
CALLS = 40


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    reset_limiters()
    yield
    reset_limiters()


def start(
    emu: TowerEmulator,
    backend: str,
    processes: int,
    *,
    delay: float = 5.0,
    env: dict[str, str] | None = None,
    wrap: list[str] | None = None,
    marker: Path | None = None,
) -> tuple[list[subprocess.Popen[str]], float]:
    """Client processes that start calling together ``delay`` s from now (and that time);
    each touches ``marker`` after its first call."""
    start_at = time.time() + delay
    command = [sys.executable, "-c", WORKER, emu.url, emu.token, backend, str(CALLS)]
    workers = [
        subprocess.Popen(
            [*(wrap or []), *command, str(start_at), *([str(marker)] if marker else [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(processes)
    ]
    return workers, start_at


def finish(workers: list[subprocess.Popen[str]]) -> list[dict]:
    """Each worker's report; every process must end normally (no SIGBUS, no traceback)."""
    outputs = [worker.communicate(timeout=180) for worker in workers]
    codes = [worker.returncode for worker in workers]
    assert codes == [0] * len(workers), [err for _, err in outputs]
    return [json.loads(out.strip().splitlines()[-1]) | {"stderr": err} for out, err in outputs]


def at(moment: float, action: Callable[[], None], path: Path) -> None:
    """Run ``action`` at ``moment``, once the processes have made the file ``path``."""
    time.sleep(max(0.0, moment - time.time()))
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    action()


def assert_one_window(emu: TowerEmulator, results: list[dict]) -> None:
    """No caller saw a 429, no process limited alone, and the server saw the limit kept."""
    assert [r["client_429"] for r in results] == [0] * len(results)
    assert [r["fallback"] for r in results] == [False] * len(results)
    answered = [r for r in emu.requests if r.path == "/user-info"]
    assert len(answered) == CALLS * len(results)
    assert [r.status for r in answered if r.status != 200] == []
    assert emu.max_calls_in_window(1.0, token=emu.token) <= 20


def assert_a_rate_limit_file(path: Path) -> None:
    layout = parse(path.read_bytes())
    assert layout.intact
    assert len(layout.records) == 1


@pytest.mark.parametrize("size", [0, 16], ids=["emptied", "cut-in-its-header"])
def test_a_file_truncated_while_processes_use_it_is_written_again_without_a_crash(
    size: int, tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    # A memory-mapped file cut short made every process die of SIGBUS.
    path = tmp_path / "rl.bin"
    workers, start_at = start(tower_emulator, f"file://{path}", 3)
    for moment in (1.0, 2.0, 3.0):
        at(start_at + moment, lambda: os.truncate(path, size), path)
    results = finish(workers)
    # Each process puts back its own entries of the last second at its next call; one whose
    # next call comes late cannot, and the server may answer a 429 in the second after a cut,
    # which the clients wait out and retry: none reaches a caller.
    assert [r["client_429"] for r in results] == [0, 0, 0]
    assert [r["fallback"] for r in results] == [False, False, False]
    answered = [r for r in tower_emulator.requests if r.path == "/user-info" and r.status == 200]
    assert len(answered) == 3 * CALLS
    assert_a_rate_limit_file(path)


def test_a_file_deleted_while_processes_use_it_keeps_one_window(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    # Processes that had the file open kept the old inode and new ones made a new file: two
    # windows, 40 calls in one second and 429s that reached callers.
    path = tmp_path / "rl.bin"
    workers, start_at = start(tower_emulator, f"file://{path}", 3)
    at(start_at + 1.0, path.unlink, path)
    # The running processes move to a new file at their next call; a process started then
    # opens that one and shares their window.
    at(start_at + 1.0, lambda: None, path)
    called = tmp_path / "late-called"
    late, _ = start(tower_emulator, f"file://{path}", 1, delay=0.0, marker=called)
    at(start_at + 2.0, lambda: None, called)
    path.unlink()  # again, with the late process among them
    results = finish(workers + late)
    assert_one_window(tower_emulator, results)
    assert_a_rate_limit_file(path)


def test_a_file_replaced_while_processes_use_it_keeps_one_window(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    # A restore from a backup, or a copy: the path names another inode than the open one.
    path = tmp_path / "rl.bin"
    workers, start_at = start(tower_emulator, f"file://{path}", 3)

    def replace() -> None:
        shutil.copyfile(path, tmp_path / "copy.bin")
        os.replace(tmp_path / "copy.bin", path)

    at(start_at + 1.5, replace, path)
    late, _ = start(tower_emulator, f"file://{path}", 1, delay=0.0)  # opens the copy
    results = finish(workers + late)
    assert_one_window(tower_emulator, results)
    assert_a_rate_limit_file(path)


def test_a_corrupt_header_is_rebuilt_and_the_window_kept(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    # Every process that opened the file after the damage limited alone, for ever: 75 calls
    # in one second.
    path = tmp_path / "rl.bin"
    workers, start_at = start(tower_emulator, f"file://{path}", 2)

    def overwrite_header() -> None:
        with path.open("r+b") as handle:
            handle.write(b"\xde\xad\xbe\xef" * 8)

    at(start_at + 1.0, overwrite_header, path)
    late, _ = start(tower_emulator, f"file://{path}", 2, delay=0.0)  # read the damaged header
    results = finish(workers + late)
    assert_one_window(tower_emulator, results)
    assert_a_rate_limit_file(path)
    warnings = [line for r in results for line in r["stderr"].splitlines() if "damaged" in line]
    assert 1 <= len(warnings) <= 2  # by whichever late process rebuilt it (once per process)


def read_only(directory: Path) -> list[str]:
    """A command prefix that runs a process with ``directory`` read-only.

    Permissions do not stop root, so as root the directory is mounted read-only in the
    process's own mount namespace; otherwise it is ``chmod 555``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return []
    remount = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
    return ["unshare", "--mount", "sh", "-c", remount, str(directory)]


def test_a_read_only_cache_directory_shares_the_limit_through_the_temp_dir(
    tower_emulator: TowerEmulator, tmp_path: Path
) -> None:
    # Each process limited alone: with 4 processes the server saw 64 calls in one second.
    cache, shared_tmp = tmp_path / "cache", tmp_path / "tmp"
    shared_tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "NFTOWER_RATE_LIMIT_BACKEND"}
    env |= {"XDG_CACHE_HOME": str(cache), "TMPDIR": str(shared_tmp)}
    workers, _ = start(tower_emulator, "", 4, env=env, wrap=read_only(cache))
    results = finish(workers)
    assert_one_window(tower_emulator, results)
    for result in results:
        warnings = [line for line in result["stderr"].splitlines() if "cannot be written" in line]
        assert len(warnings) == 1, result["stderr"]
        assert str(shared_tmp / f"nftower-{os.getuid()}") in warnings[0]
    [used] = list((shared_tmp / f"nftower-{os.getuid()}").glob("ratelimit-*.bin"))
    assert_a_rate_limit_file(used)
    assert not (cache / "nftower").exists()


def test_a_damaged_record_is_rebuilt_keeping_the_readable_ones(tmp_path: Path) -> None:
    path = tmp_path / "rl.bin"
    backend = FileBackend(path)
    backend.acquire("a", 3, 60.0)
    backend.acquire("b", 3, 60.0)
    backend.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])  # the second record cut off
    backend = FileBackend(path)
    assert backend.acquire("c", 3, 60.0) == 0.0
    assert [backend.acquire("a", 3, 60.0) for _ in range(3)][-1] > 0  # a's entry was kept
    backend.close()
    layout = parse(path.read_bytes())
    assert layout.intact
    assert len(layout.records) == 2  # a and c; b was unreadable
    assert path.read_bytes().startswith(MAGIC)


def test_a_process_puts_back_its_entries_into_an_emptied_file(tmp_path: Path) -> None:
    path = tmp_path / "rl.bin"
    backend = FileBackend(path)
    assert [backend.acquire("k", 3, 60.0, f"t{i}", 1.0) for i in range(3)] == [0.0] * 3
    os.truncate(path, 0)  # a cleanup script: the window's entries are gone from the file
    assert backend.acquire("k", 3, 60.0, "t3", 1.0) > 0  # still 3 calls in this window
    assert len(parse(path.read_bytes()).records) == 1
    backend.close()


def test_a_forked_child_never_puts_back_a_call_of_its_parent(tmp_path: Path) -> None:
    # The parent's call in flight at fork() ends in the parent; the child must not put the
    # in-flight entry back into the record, where it would hold a slot for its whole hold.
    backend = FileBackend(tmp_path / "rl.bin")
    assert backend.acquire("k", 2, 60.0, "parent", 60.0) == 0.0
    ready_read, ready_write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.read(ready_read, 1)
        os._exit(0 if backend.acquire("k", 2, 60.0, "child", 60.0) == 0.0 else 1)
    backend.release("k", "parent")
    backend.flush()
    os.write(ready_write, b"x")
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    backend.close()
