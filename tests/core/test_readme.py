"""The quick starts of the README and of the nftower package README run as written (the
real-Tower ones against the emulator), and the README's documentation index lists every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nftower.testing import TowerEmulator

README = Path(__file__).resolve().parents[2] / "README.md"
PACKAGE_README = README.parent / "core" / "README.md"


def python_block(containing: str, readme: Path = README) -> str:
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.DOTALL)
    found: list[str] = [block for block in blocks if containing in block]
    assert len(found) == 1, f"expected one {readme} python block with {containing!r}"
    return found[0]


@pytest.mark.parametrize("readme", [README, PACKAGE_README], ids=["README", "core"])
def test_emulator_quick_start(readme: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exec(python_block("TowerEmulator(speed=20)", readme), {})
    assert capsys.readouterr().out == "SUCCEEDED\n"


def test_real_tower_quick_start(
    tower_emulator: TowerEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = python_block('api_url="https://api.cloud.seqera.io"')
    for written, local in [
        ('"https://api.cloud.seqera.io"', repr(tower_emulator.url)),
        ('"..."', repr(tower_emulator.token)),
        ('"my-org/my-workspace"', '"demo-org/demo-workspace"'),
    ]:
        assert code.count(written) == 1, written
        code = code.replace(written, local)
    slept: list[float] = []

    def emulated_sleep(seconds: float) -> None:  # poll_interval=60 passes in emulated time
        slept.append(seconds)
        tower_emulator.advance(seconds)

    monkeypatch.setattr("nftower._client.sleep", emulated_sleep)
    exec(code, {})
    url, status = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        rf"{tower_emulator.url}/orgs/demo-org/workspaces/demo-workspace/watch/\w+", url
    )
    assert status == "SUCCEEDED"
    assert set(slept) == {60}
    launch = tower_emulator.launches[-1].json["launch"]
    assert "s3://bucket/results/2026-11-28" in launch["paramsText"]


def test_package_readme_example(
    tower_emulator: TowerEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = python_block('token="..."', PACKAGE_README)
    for written, local in [
        ('"..."', repr(tower_emulator.token)),
        ('"my-org/my-workspace"', '"demo-org/demo-workspace"'),
    ]:
        assert code.count(written) == 1, written
        code = code.replace(written, local)
    monkeypatch.setenv("TOWER_API_ENDPOINT", tower_emulator.url)  # as the comment says
    monkeypatch.setattr("nftower._client.sleep", tower_emulator.advance)
    exec(code, {})
    status, url = capsys.readouterr().out.split()
    assert status == "SUCCEEDED"
    assert url.startswith(f"{tower_emulator.url}/orgs/demo-org/workspaces/demo-workspace/watch/")
    launch = tower_emulator.launches[-1].json["launch"]
    assert "s3://bucket/results" in launch["paramsText"]


def test_documentation_index_lists_every_page() -> None:
    text = README.read_text(encoding="utf-8")
    pages = sorted(path.name for path in (README.parent / "docs").glob("*.md"))
    assert pages
    for page in pages:
        assert f"(docs/{page})" in text, f"README does not link docs/{page}"
    for linked in re.findall(r"\]\(([^)#]+)\)", text):
        assert (README.parent / linked).exists(), f"README links a missing file: {linked}"
