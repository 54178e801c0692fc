"""The layout of the rate limit file, and how to tell a damaged one of ours from another file.

The file is a 32-byte header (:data:`MAGIC`), then one record per key: the key's SHA-256, the
record's capacity, how many entries it holds, when it was last written, then ``capacity``
entries of 24 bytes. :func:`parse` reads the records it can from any bytes, so a damaged file
can be rebuilt with what is still readable in it.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from ._entries import ENTRY, Log, decode

__all__ = [
    "HEADER",
    "MAGIC",
    "MAX_CAPACITY",
    "MIN_CAPACITY",
    "RECORD",
    "STALE_AFTER",
    "Layout",
    "Record",
    "merge",
    "parse",
    "record_at",
]

#: The first bytes of the file.
MAGIC = b"nftower rate limit log, v1\n".ljust(32, b"\0")
HEADER = len(MAGIC)
#: A record: the key's SHA-256, its capacity, how many entries it holds, when it was written.
RECORD = struct.Struct("<32sIId")
#: Entries a new record holds at least (calls per window a key can count).
MIN_CAPACITY = 256
#: More entries than any record holds: a larger capacity means the bytes are not a record.
MAX_CAPACITY = 1 << 20
#: A record unused for this long may be given to another key (a token not used any more).
STALE_AFTER = 86400.0


class Record(NamedTuple):
    """Where a record is: its offset, capacity and size in bytes."""

    offset: int
    capacity: int
    size: int


def record_at(offset: int, capacity: int) -> Record:
    """The record of ``capacity`` entries at ``offset``.

    >>> record_at(32, 256).size
    6192
    """
    return Record(offset, capacity, RECORD.size + capacity * ENTRY.size)


class Layout(NamedTuple):
    """What :func:`parse` found: the readable records (owner, place, last write)."""

    records: list[tuple[bytes, Record, float]]
    header_ok: bool
    intact: bool
    fresh: bool
    ours: bool


def parse(data: bytes) -> Layout:
    """The records readable in ``data`` and the state of the file.

    ``intact``: a valid header and whole records up to the end. ``fresh``: nothing but (a part
    of) the header, which can be written again in place. ``ours``: damaged, but a rate limit
    file (a header cut short or zeroed, or records after it); a file that is neither is another
    program's and is never rewritten.

    >>> parse(b"").fresh, parse(MAGIC).intact, parse(MAGIC[:10]).fresh
    (True, True, True)
    >>> damaged = parse(b"x" * 32 + RECORD.pack(b"k" * 32, 1, 0, 0.0) + bytes(24))
    >>> damaged.intact, damaged.ours, len(damaged.records)
    (False, True, 1)
    >>> parse(b"something else entirely\\n").ours
    False
    """
    head = data[:HEADER]
    header_ok = head == MAGIC
    header_lost = not any(head) or MAGIC.startswith(head.rstrip(b"\0"))
    records: list[tuple[bytes, Record, float]] = []
    offset = HEADER
    while offset + RECORD.size <= len(data):
        owner, capacity, _, used = RECORD.unpack_from(data, offset)
        record = record_at(offset, capacity)
        if not 1 <= capacity <= MAX_CAPACITY or offset + record.size > len(data):
            break
        records.append((owner, record, used))
        offset = offset + record.size
    whole = offset == len(data)
    fresh = not records and len(data) <= HEADER and header_lost and not header_ok
    return Layout(
        records=records,
        header_ok=header_ok,
        intact=header_ok and whole,
        fresh=fresh or not data,
        ours=header_ok or header_lost or bool(records),
    )


def merge(new: Log, old: Log, capacity: int) -> Log:
    """``new`` plus the entries of ``old`` it lacks (a ticket counts once), newest kept.

    >>> merge([(2.0, b"a")], [(2.0, b"a"), (1.0, b"b")], 5)
    [(1.0, b'b'), (2.0, b'a')]
    """
    tickets = {ticket for _, ticket in new if any(ticket or b"")}
    seen = set(new)
    extra = [
        entry
        for entry in old
        if entry not in seen and not (any(entry[1] or b"") and entry[1] in tickets)
    ]
    return sorted(new + extra, key=lambda entry: entry[0])[-capacity:]


def entries_of(raw: bytes) -> tuple[bytes, int, int, float, Log]:
    """Owner, capacity, count, last write and entries of one record's bytes."""
    owner, capacity, count, used = RECORD.unpack_from(raw)
    body = raw[RECORD.size : RECORD.size + min(count, capacity) * ENTRY.size]
    return owner, capacity, count, used, decode(body)
