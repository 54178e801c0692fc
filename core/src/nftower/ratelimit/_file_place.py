"""Where the rate limit file can live: the chosen path, else a host-wide place in the temp dir.

A cache directory that cannot be written (read-only, a file where a directory should be, a
full or read-only file system) must not leave each process limiting alone: every process of
the user that meets the same obstacle moves to the same file under the system temp directory
(``$TMPDIR/nftower-<uid>/``), named after the chosen path, and logs one warning.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["usable_path", "writable_place"]

logger = logging.getLogger("nftower.ratelimit")

_warned: set[str] = set()


def _try_open(path: Path) -> None:
    """Create (or open) the file at ``path``; ``OSError`` when it cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666))


def _private_dir() -> Path:
    """``$TMPDIR/nftower-<uid>``, created for this user only (and refused if another user
    owns it)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    directory = Path(tempfile.gettempdir()) / f"nftower-{uid}"
    directory.mkdir(mode=0o700, exist_ok=True)
    status = directory.lstat()
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != uid:
        raise PermissionError(f"{directory} is not a directory of this user")
    return directory


def writable_place(path: Path) -> Path:
    """The host-wide stand-in for ``path`` under the temp dir (the same for every process).

    >>> writable_place(Path("/x/ratelimit.bin")).name.startswith("ratelimit-")
    True
    """
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"nftower-{uid}" / f"{path.stem}-{digest}{path.suffix}"


def usable_path(path: Path) -> Path:
    """``path`` if this process can open it for writing, else :func:`writable_place`.

    Raises the first ``OSError`` when neither can be used (the limiter then counts calls
    within the process, with its own warning).
    """
    try:
        _try_open(path)
        return path
    except OSError as error:
        first = error
    try:
        _private_dir()
        other = writable_place(path)
        _try_open(other)
    except OSError:
        raise first from None
    if str(path) not in _warned:
        _warned.add(str(path))
        logger.warning(
            "Rate limit file %s cannot be written (%s); sharing the limit with the other "
            "processes of this host through %s instead",
            path,
            first.strerror or first,
            other,
        )
    return other
