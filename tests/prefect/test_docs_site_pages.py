"""docs/quickstart-prefect.md runs as written against the emulator (the token, the emulator's
address and the poll intervals swapped for local ones), and the Prefect part of
docs/configuration.md lists the blocks' fields as they are: names and defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from nftower import WorkflowStatus
from nftower.testing import TowerEmulator
from prefect_nftower import TowerCredentials, TowerPipeline
from pydantic import SecretStr
from pydantic_core import PydanticUndefined
from tower_helpers import POLL, launches_of

DOCS = Path(__file__).resolve().parents[2] / "docs"
QUICKSTART = (DOCS / "quickstart-prefect.md").read_text(encoding="utf-8")
CONFIGURATION = (DOCS / "configuration.md").read_text(encoding="utf-8")


def python_block(containing: str) -> str:
    found = [
        b for b in re.findall(r"```python\n(.*?)```", QUICKSTART, re.DOTALL) if containing in b
    ]
    assert len(found) == 1, containing
    return found[0]


def localised(code: str, *swaps: tuple[str, str]) -> str:
    for written, local in swaps:
        assert code.count(written) == 1, written
        code = code.replace(written, local)
    return code


@pytest.fixture
def saved(emulator: TowerEmulator, token: str) -> TowerCredentials:
    """The page's credentials block, saved as "tower"."""
    code = localised(
        python_block(".save("),
        ('"<token>"', repr(token)),
        ('"http://127.0.0.1:8800"', repr(emulator.url)),  # the emulator's default address
    )
    exec(code, {})
    credentials = TowerCredentials.load("tower")
    assert isinstance(credentials, TowerCredentials)
    return credentials


def test_the_credentials_example_saves_a_working_block(saved: TowerCredentials, token: str) -> None:
    assert saved.workspace == "demo-org/demo-workspace"
    with saved.get_client() as client:
        assert client.user_info().user_name == "demo-user"
    assert token not in repr(saved)


def test_the_flow_example_runs(
    saved: TowerCredentials,
    emulator: TowerEmulator,
    token: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = localised(python_block("def hello_tower("), ("poll_interval=5", f"poll_interval={POLL}"))
    exec(code, {"__name__": "__main__"})  # as `python hello_tower.py` runs it
    assert capsys.readouterr().out.splitlines()[-1] == "SUCCEEDED"
    (launch,) = launches_of(emulator, token)
    assert json.loads(launch.json["launch"]["paramsText"]) == {"greeting": "Bonjour"}


def test_the_run_pipeline_example_runs(
    saved: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    code = localised(python_block("run_pipeline("), ('"hello")', f'"hello", poll_interval={POLL})'))
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    assert namespace["workflow"].status == WorkflowStatus.SUCCEEDED
    assert len(launches_of(emulator, token)) == 1


def block_table(name: str) -> dict[str, str]:
    section = CONFIGURATION.split(f"### `{name}`\n", 1)[1]
    table = next(part for part in section.split("\n\n") if part.strip().startswith("|"))
    return dict(re.findall(r"^\| `(\w+)` \| (.*?) \|", table, re.MULTILINE))


def written_default(field: Any) -> str:
    """How the page writes a field's default."""
    if field.default is PydanticUndefined and field.default_factory is None:
        return "(required)"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value in ("", [], {}):
        return "empty"
    return f"`{value!r}`".replace("'", '"')


@pytest.mark.parametrize("block", [TowerCredentials, TowerPipeline])
def test_the_block_tables_are_the_blocks_fields(block: type[Any]) -> None:
    rows = block_table(block.__name__)
    assert list(rows) == list(block.model_fields)
    for name, field in block.model_fields.items():
        assert rows[name] == written_default(field), name
