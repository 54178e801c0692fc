"""The recent entries this process wrote to the rate limit file, per key.

A file cut short or emptied by another program loses the entries of the last window, and the
host could then admit a second window's worth of calls. Each process keeps its own recent
entries (at most a window's, plus the calls still in flight) and, under the record's lock,
puts back those the record lost before it admits a call: the host's window is rebuilt from
what every active process remembers of it.

>>> own = OwnEntries()
>>> own.add("k", (160.0, b"t1"))                          # in flight: dated 60 s ahead
>>> own.restore("k", [], {}, window=1.0, now=100.5)      # the record lost it: put back
[(160.0, b't1')]
>>> own.restore("k", [(160.0, b"t1")], {}, window=1.0, now=100.5)   # still there
[(160.0, b't1')]
>>> own.restore("k", [], {b"t1": 100.2}, window=1.0, now=100.5)     # released meanwhile
[(100.2, None)]
>>> len(own.restore("k", [(100.2, bytes(16))], {}, window=1.0, now=100.5))  # as read back
1
>>> own.restore("k", [], {}, window=1.0, now=101.5)      # out of the window: forgotten
[]
"""

from __future__ import annotations

import os

from ._entries import Log, release
from ._protocol import MAX_HOLD

__all__ = ["OwnEntries"]


class OwnEntries:
    """Per key, the entries this process admitted that may still count (hold the file's
    thread lock)."""

    def __init__(self) -> None:
        self._items: dict[str, Log] = {}
        self._pid = os.getpid()

    def _mine(self) -> dict[str, Log]:
        # A child forked from this process did not write its parent's entries: releases of
        # them happen in the parent, and the child would put back a call still in flight.
        if self._pid != os.getpid():
            self._items, self._pid = {}, os.getpid()
        return self._items

    def add(self, key: str, entry: tuple[float, bytes | None]) -> None:
        self._mine().setdefault(key, []).append(entry)

    def released(self, key: str, ended: dict[bytes, float]) -> None:
        """Date the calls in ``ended`` as the record does."""
        items = self._mine()
        if ended and key in items:
            items[key] = release(items[key], ended)

    def restore(
        self, key: str, log: Log, ended: dict[bytes, float], *, window: float, now: float
    ) -> Log:
        """``log`` (releases applied) plus this process's live entries it lacks.

        A record is rewritten whole at each write, so it lost either none of this process's
        entries or all of them since some point: when the newest one is there, so are the
        others (one look in the common case).
        """
        items = self._mine()
        mine = items.get(key)
        if not mine:
            return log
        if ended:
            mine = items[key] = release(mine, ended)
        newest = _plain(mine[-1])
        if newest in log or (newest[1] is None and (newest[0], _NO_TICKET) in log):
            if len(mine) > _PRUNE_AT:
                items[key] = _live(mine, window, now)
            return log
        mine = items[key] = _live(mine, window, now)
        present = {_plain(entry) for entry in log}
        missing = [entry for entry in map(_plain, mine) if entry not in present]
        return log + missing if missing else log


#: Entries kept before the ones out of the window are dropped.
_PRUNE_AT = 64


def _live(entries: Log, window: float, now: float) -> Log:
    return [entry for entry in entries if now - window < entry[0] <= now + MAX_HOLD + window]


_NO_TICKET = bytes(16)


def _plain(entry: tuple[float, bytes | None]) -> tuple[float, bytes | None]:
    """An entry as it reads back from the file (no ticket: ``None``, never zeros).

    >>> _plain((1.0, bytes(16))), _plain((1.0, None))
    ((1.0, None), (1.0, None))
    """
    return (entry[0], None) if entry[1] == _NO_TICKET else entry
