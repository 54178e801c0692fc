"""docs/rate-limiting.md says what the code does: every URL it shows builds the backend it
names, the default file is where it says, its numbers are the code's, its examples parse."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from nftower.ratelimit import (
    ENV_VAR,
    FileBackend,
    MemoryBackend,
    RedisBackend,
    SQLiteBackend,
    backend_from_url,
    default_file_path,
)
from nftower.ratelimit._entries import ENTRY
from nftower.ratelimit._locked_file import MIN_CAPACITY, RECORD

TEXT = (Path(__file__).resolve().parents[2] / "docs" / "rate-limiting.md").read_text()
KINDS = {
    "file": FileBackend,
    "sqlite": SQLiteBackend,
    "redis": RedisBackend,
    "rediss": RedisBackend,
    "memory": MemoryBackend,
}


def shown_urls() -> list[str]:
    """Every backend URL written in backticks on the page (templates and elisions left out)."""
    urls = re.findall(r"`((?:file|sqlite|redis|rediss|memory)://[^`]*)`", TEXT)
    return sorted({url for url in urls if "..." not in url and "[" not in url})


@pytest.mark.parametrize("url", shown_urls())
def test_every_url_on_the_page_builds_its_backend(url: str) -> None:
    backend = backend_from_url(url)
    assert isinstance(backend, KINDS[url.split("://")[0]])
    backend.close()


def test_the_default_file_is_where_the_page_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    written = re.search(r"`(~/\.cache/[^`]+)` on Linux", TEXT)
    assert written is not None
    assert default_file_path() == Path(written[1]).expanduser()


def test_the_page_numbers_are_the_code_numbers() -> None:
    assert f"`{ENV_VAR}`" in TEXT
    assert f"up to {MIN_CAPACITY} calls per token" in TEXT
    record_kb = (RECORD.size + MIN_CAPACITY * ENTRY.size) / 1024
    assert f"about {round(record_kb)} KB per token" in TEXT


def test_examples_parse() -> None:
    for block in re.findall(r"```python\n(.*?)```", TEXT, re.DOTALL):
        compile(block, "rate-limiting.md", "exec")
    for block in re.findall(r"```json\n(.*?)```", TEXT, re.DOTALL):
        backend_from_url(json.loads(block)["extra"]["rate_limit_backend"]).close()
