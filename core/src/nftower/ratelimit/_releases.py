"""Ends of calls noted in memory until the file backend writes them."""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping

__all__ = ["FLUSH_DELAY", "PendingReleases"]

#: Longest delay before the end of a call is written when no other call follows.
FLUSH_DELAY = 0.02
#: The flush thread ends after this many rounds with nothing to write (a new one starts later).
IDLE_ROUNDS = 50


class PendingReleases:
    """Per key, the tickets of calls whose response arrived, and when.

    Writing each release under a lock of its own would double the cost of a call. A release
    only makes an entry count for less time, so writing it a little later is safe: the next
    acquisition of the process writes it under the same lock, and a daemon thread calls
    ``flush`` for whatever is left ``FLUSH_DELAY`` seconds later (and at exit). The thread
    ends after about a second without releases.

    >>> releases = PendingReleases(flush=lambda: None)   # a store would write them
    >>> releases.add("key", b"t1", 100.0)
    >>> releases.unwritten(), releases.take("key")
    (['key'], {b't1': 100.0})
    >>> releases.unwritten(), releases.take("key")
    ([], {})
    >>> releases.stop()
    """

    def __init__(self, flush: Callable[[], None]) -> None:
        self._flush = flush
        self._lock = threading.Lock()
        self._items: dict[str, dict[bytes, float]] = {}
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._exit_hook = False
        _ALL.add(self)

    def add(self, key: str, ticket: bytes, at: float) -> None:
        """Note that call ``ticket`` of ``key`` ended at ``at``."""
        with self._lock:
            self._items.setdefault(key, {})[ticket] = at
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._run, name="nftower-ratelimit-flush", daemon=True
                )
                self._thread.start()
            if not self._exit_hook:
                self._exit_hook = True
                atexit.register(self._flush)

    def take(self, key: str) -> dict[bytes, float]:
        """Remove and return the releases of ``key`` (ticket -> end) for the store to write."""
        with self._lock:
            return self._items.pop(key, None) or {}

    def restore(self, key: str, ended: Mapping[bytes, float]) -> None:
        """Put back what :meth:`take` returned when the store could not write it."""
        if ended:
            with self._lock:
                self._items[key] = {**ended, **self._items.get(key, {})}

    def unwritten(self) -> list[str]:
        """Keys with releases not written yet."""
        with self._lock:
            return list(self._items)

    def forked(self) -> None:
        """In a child process after fork(): no thread runs here, and no lock is held."""
        self._lock = threading.Lock()
        self._thread = None

    def stop(self) -> None:
        """No background flush from now on."""
        with self._lock:
            self._stopped = True

    def _run(self) -> None:
        idle = 0
        while True:
            time.sleep(FLUSH_DELAY)
            with self._lock:
                idle = 0 if self._items else idle + 1
                if self._stopped or idle >= IDLE_ROUNDS:
                    self._thread = None
                    return
            if idle == 0:
                self._flush()


_ALL: weakref.WeakSet[PendingReleases] = weakref.WeakSet()


def _after_fork() -> None:
    for releases in _ALL:
        releases.forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
