"""Download sinks: a path (written next to it, renamed when complete), a file object, the
bounded tail of a file, or a content hash. All take the body chunk by chunk.

Example:
    >>> tail = TailSink(8)
    >>> for chunk in (b"hello ", b"world", b"!"):
    ...     _ = tail.write(chunk)
    >>> tail.text(), tail.size
    ('o world!', 12)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import IO, Any

from ._exceptions import TowerConfigError

__all__ = ["Destination", "FileSink", "HashSink", "TailSink"]

#: Where a download goes: a path, or a binary file object open for writing.
Destination = str | os.PathLike[str] | IO[bytes]


class FileSink:
    """Write to a path (through ``<name>.part``, renamed on :meth:`finish`) or a file object.

    A file object is restarted by seeking back to where it was (when it is seekable).
    """

    def __init__(self, destination: Destination) -> None:
        self.size = 0
        self._path: Path | None = None
        self._part: Path | None = None
        self._handle: Any = None
        self._start: int | None = None
        if isinstance(destination, (str, os.PathLike)):
            self._path = Path(destination)
            self._part = self._path.with_name(self._path.name + ".part")
        elif callable(getattr(destination, "write", None)):
            self._handle = destination
            try:
                self._start = destination.tell() if destination.seekable() else None
            except (AttributeError, OSError, ValueError):
                self._start = None
        else:
            raise TowerConfigError(
                f"destination must be a path or a binary file object, got {destination!r}"
            )

    def write(self, data: bytes, /) -> int:
        if self._handle is None and self._part is not None:
            self._handle = self._part.open("wb")
        self._handle.write(data)
        self.size += len(data)
        return len(data)

    def restart(self) -> bool:
        if self.size == 0:
            return True
        if self._part is not None:
            self._handle.seek(0)
            self._handle.truncate()
        elif self._start is not None:
            self._handle.seek(self._start)
            self._handle.truncate()
        else:
            return False
        self.size = 0
        return True

    def finish(self, complete: bool) -> None:
        """Close a path's file; rename it into place when ``complete``, else remove it."""
        if self._part is None or self._path is None:
            return
        if self._handle is None and complete:
            self._handle = self._part.open("wb")  # an empty file
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if complete:
            os.replace(self._part, self._path)
        else:
            self._part.unlink(missing_ok=True)


class TailSink:
    """Keep only the last ``max_bytes`` bytes (``size`` counts every byte seen)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._tail = bytearray()

    def write(self, data: bytes, /) -> int:
        self.size += len(data)
        self._tail += data
        if len(self._tail) > self.max_bytes:
            del self._tail[: len(self._tail) - self.max_bytes]
        return len(data)

    def restart(self) -> bool:
        self.size = 0
        self._tail.clear()
        return True

    @property
    def truncated(self) -> bool:
        """``True`` when bytes before the tail were dropped."""
        return self.size > len(self._tail)

    def text(self) -> str:
        """The tail as text (a partial first character dropped)."""
        return bytes(self._tail).decode("utf-8", errors="ignore")


class HashSink:
    """SHA-256 and size of the content."""

    def __init__(self) -> None:
        self.size = 0
        self._hash = hashlib.sha256()

    def write(self, data: bytes, /) -> int:
        self.size += len(data)
        self._hash.update(data)
        return len(data)

    def restart(self) -> bool:
        self.size = 0
        self._hash = hashlib.sha256()
        return True

    def hexdigest(self) -> str:
        return self._hash.hexdigest()
