"""Deterministic, valid Nextflow run names.

Nextflow (and Tower) accept run names matching ``^[a-z](?:[a-z\\d]|[-_](?=[a-z\\d])){0,79}$``
ignoring case (Nextflow's ``CmdRun.RUN_NAME_PATTERN`` is ``CASE_INSENSITIVE``): starting with a
letter, at most 80 characters, ``-`` / ``_`` only between letters or digits. ``Nightly-Run`` is
valid.
"""

from __future__ import annotations

import hashlib
import re

from ._exceptions import TowerConfigError

__all__ = [
    "MAX_RUN_NAME_LENGTH",
    "RELAUNCH_SUFFIX_ROOM",
    "RUN_NAME_PATTERN",
    "check_run_name",
    "make_run_name",
    "short_run_name",
]

# ASCII: as in Java, where Nextflow checks it, \d and the case rule know no other letters
RUN_NAME_PATTERN = re.compile(
    r"^[a-z](?:[a-z\d]|[-_](?=[a-z\d])){0,79}\Z", re.IGNORECASE | re.ASCII
)
MAX_RUN_NAME_LENGTH = 80
#: Room kept by :func:`make_run_name` for the ``-rN`` suffix that ``ensure_run`` adds on relaunch.
RELAUNCH_SUFFIX_ROOM = 6
_HASH_LENGTH = 8


def check_run_name(name: str, *, room: int = 0) -> str:
    """Return ``name`` if it is a valid run name (with ``room`` characters to spare), else raise.

    Example:
        >>> check_run_name("nightly-2024-06-01"), check_run_name("Nightly-Run")
        ('nightly-2024-06-01', 'Nightly-Run')
    """
    if not isinstance(name, str) or not RUN_NAME_PATTERN.fullmatch(name):
        raise TowerConfigError(
            f"Invalid run name {name!r}{_problem(name)}: use letters, digits, '-' and '_' (not at "
            "the start or end, not doubled), starting with a letter, at most 80 characters; "
            "nftower.make_run_name() builds one from any parts"
        )
    if len(name) > MAX_RUN_NAME_LENGTH - room:
        raise TowerConfigError(
            f"Run name {name!r} is {len(name)} characters; at most {MAX_RUN_NAME_LENGTH - room} "
            f"are allowed here (room is kept for the '-rN' relaunch suffix)"
        )
    return name


def _problem(name: object) -> str:
    """What makes ``name`` invalid, as a clause (empty when nothing specific is found)."""
    if not isinstance(name, str):
        return f" ({type(name).__name__}, not a string)"
    if not name:
        return " (empty)"
    for char in name:
        if not (char.isascii() and (char.isalnum() or char in "-_")):
            names = {" ": "a space", "\n": "a line break", "\t": "a tab"}
            what = names.get(char) or f"{char!r} (U+{ord(char):04X})"
            return f" (it holds {what}, not an ASCII letter, digit, '-' or '_')"
    if not name[0].isalpha():
        return f" (it starts with {name[0]!r}, not a letter)"
    if len(name) > MAX_RUN_NAME_LENGTH:
        return f" ({len(name)} characters, more than {MAX_RUN_NAME_LENGTH})"
    return " ('-' or '_' doubled, or at the end)"


def make_run_name(
    *parts: object,
    prefix: str | None = None,
    max_length: int = MAX_RUN_NAME_LENGTH - RELAUNCH_SUFFIX_ROOM,
) -> str:
    """Build a valid, deterministic Nextflow run name from arbitrary parts.

    Parts are joined with ``-``, lowercased, and every run of other characters becomes one
    ``-``. When the result must be shortened to ``max_length``, a short hash of the full input is
    appended so that different long inputs stay different. The default ``max_length`` (74)
    leaves room for the ``-rN`` suffix :meth:`TowerClient.ensure_run` adds when it relaunches.

    Example:
        >>> make_run_name("nightly_rnaseq", "scheduled__2024-06-01T00:00:00+00:00")
        'nightly_rnaseq-scheduled_2024-06-01t00-00-00-00-00'
        >>> make_run_name("2024-06-01", prefix="rnaseq")
        'rnaseq-2024-06-01'
        >>> len(make_run_name("x" * 200))
        74
    """
    if isinstance(max_length, bool) or not 1 + _HASH_LENGTH + 1 < max_length <= 80:
        raise TowerConfigError(f"max_length must be between 11 and 80, got {max_length!r}")
    texts = [str(part) for part in parts if part is not None and str(part) != ""]
    if prefix is not None:
        cleaned_prefix = _clean(prefix)
        if not cleaned_prefix or not cleaned_prefix[0].isalpha():
            raise TowerConfigError(f"prefix must start with a letter, got {prefix!r}")
        texts.insert(0, prefix)
    if not texts:
        raise TowerConfigError("make_run_name() needs at least one non-empty part or a prefix")
    raw = "\x1f".join(texts)
    name = _clean("-".join(texts))
    if not name or not name[0].isalpha():
        name = _clean(f"run-{name}")
    if len(name) > max_length:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:_HASH_LENGTH]
        head = name[: max_length - _HASH_LENGTH - 1].rstrip("-_")
        name = f"{head}-{digest}"
    return check_run_name(name)


def short_run_name(
    *parts: object,
    key: object,
    max_length: int = MAX_RUN_NAME_LENGTH - RELAUNCH_SUFFIX_ROOM,
) -> str:
    """A short, readable, deterministic run name: the readable ``parts`` and a short hash.

    The parts (e.g. a DAG or flow name, a date, a task) are joined with ``-`` and cleaned as in
    :func:`make_run_name`, and an 8-character hash of the parts and ``key`` (the long, unique
    part: a DAG run id, a flow-run id) ends the name, so that two runs whose readable parts
    match still get two names, and the same inputs always give the same name. Readable parts
    too long for ``max_length`` are cut; the hash stays.

    Example:
        >>> short_run_name(
        ...     "nightly_rnaseq", "2026-12-02", "rnaseq",
        ...     key="manual__2026-12-02T17:32:34.336087+00:00",
        ... )
        'nightly_rnaseq-2026-12-02-rnaseq-04985a10'
        >>> len(short_run_name("x" * 200, key=1))
        74
    """
    if isinstance(max_length, bool) or not 1 + _HASH_LENGTH + 1 < max_length <= 80:
        raise TowerConfigError(f"max_length must be between 11 and 80, got {max_length!r}")
    texts = [str(part) for part in parts if part is not None and str(part) != ""]
    raw = "\x1f".join([*texts, "\x1e", str(key)])
    digest = hashlib.sha256(raw.encode()).hexdigest()[:_HASH_LENGTH]
    head = _clean("-".join(texts))
    if not head or not head[0].isalpha():
        head = _clean(f"run-{head}")
    head = head[: max_length - _HASH_LENGTH - 1].rstrip("-_")
    return check_run_name(f"{head}-{digest}")


def _clean(text: str) -> str:
    lowered = text.lower()
    # Any run of characters outside [a-z0-9_] becomes "-"; "_" runs collapse to "_".
    dashed = re.sub(r"[^a-z0-9_]+", "-", lowered)
    collapsed = re.sub(r"[-_]{2,}", lambda m: "-" if "-" in m.group() else "_", dashed)
    return collapsed.strip("-_")
