"""The Airflow part of docs/configuration.md is the connection reader's: every extra it reads,
the client option each one sets, the prefixed form, and the hook's signature."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import SimpleNamespace

from nftower_airflow import _connection
from nftower_airflow.hooks import TowerHook

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
SECTION = PAGE.split("## Airflow: the `tower` connection\n", 1)[1].split("\n## ", 1)[0]


def extras_table() -> dict[str, str]:
    table = SECTION.split("Extra fields", 1)[1].split("\n\n", 2)[1]
    return dict(re.findall(r"^\| `(\w+)` \| `(\w+)` \|", table, re.MULTILINE))


def test_the_extras_table_is_what_the_connection_reads() -> None:
    expected = dict(_connection._EXTRA_FIELDS)
    expected.update(dict.fromkeys(_connection._TOKEN_EXTRAS, "token"))
    assert extras_table() == expected


def test_each_extra_sets_its_option_also_with_the_prefix() -> None:
    conn = SimpleNamespace(host=None, schema=None, port=None, password=None)
    samples = {"timeout": "12.5", "max_retries": "3", "rate_limit": "7", "rate_limit_window": "2.5"}
    for extra, option in extras_table().items():
        value = samples.get(extra, f"value-of-{extra}")
        for key in (extra, f"extra__tower__{extra}"):
            settings = _connection.settings_from_connection(conn, {key: value})
            assert str(settings.values[option]) == value, key


def test_the_connection_fields_are_the_ones_read() -> None:
    fields = re.findall(r"^\| (Host|Schema|Port|Password) \|", SECTION, re.MULTILINE)
    assert fields == ["Host", "Schema", "Port", "Password"]
    conn = SimpleNamespace(host="tower.example.org", schema="api", port=8443, password="t")
    settings = _connection.settings_from_connection(conn, {})
    assert settings.values == {"api_url": "https://tower.example.org:8443/api", "token": "t"}


def test_the_hook_signature_is_written_as_it_is() -> None:
    signature = inspect.signature(TowerHook.__init__)
    written = 'TowerHook(tower_conn_id="tower_default", *, workspace=None, **client_options)'
    parameters = [p for p in signature.parameters.values() if p.name != "self"]
    rendered = ", ".join(
        str(p.replace(annotation=inspect.Parameter.empty)).replace("'", '"') for p in parameters
    )
    assert written == f"TowerHook({rendered.replace('workspace', '*, workspace', 1)})"
    assert f"`{written}`" in SECTION
