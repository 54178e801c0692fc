"""The Prefect examples of docs/prefect.md, the package README and the repository README run
against the emulator as written; only the token, the workspace and long poll intervals are
swapped for local ones."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, cast

import pytest
from nftower import WorkflowStatus
from nftower.testing import TowerEmulator
from prefect_nftower import TowerCredentials, TowerPipeline
from tower_helpers import POLL, launches_of

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "prefect.md"
PACKAGE_README = ROOT / "prefect_collection" / "README.md"
README = ROOT / "README.md"


def python_block(path: Path, containing: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL)
    found: list[str] = [code for code in blocks if containing in code]
    assert len(found) == 1, f"expected one python block of {path.name} with {containing!r}"
    return found[0]


def localised(code: str, *swaps: tuple[str, str]) -> str:
    for written, local in swaps:
        assert code.count(written) == 1, written
        code = code.replace(written, local)
    return code


def save_page_credentials(emulator: TowerEmulator, token: str) -> TowerCredentials:
    """Run the page's credentials example: it saves the block "tower" and prints the user."""
    code = localised(
        python_block(DOC, 'TowerCredentials(access_token="..."'),
        ('"..."', repr(token)),
        ('"my-org/my-workspace"', '"demo-org/demo-workspace"'),
    )
    exec(code, {})
    return cast(TowerCredentials, TowerCredentials.load("tower"))


@pytest.fixture
def saved_credentials(
    emulator: TowerEmulator, token: str, monkeypatch: pytest.MonkeyPatch
) -> TowerCredentials:
    """The page's credentials block, saved as "tower" (API URL from TOWER_API_ENDPOINT)."""
    monkeypatch.setenv("TOWER_API_ENDPOINT", emulator.url)
    return save_page_credentials(emulator, token)


def test_credentials_example(
    emulator: TowerEmulator,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TOWER_API_ENDPOINT", emulator.url)
    saved = save_page_credentials(emulator, token)
    assert capsys.readouterr().out == "demo-user\n"
    assert saved.access_token is not None
    assert saved.access_token.get_secret_value() == token
    assert token not in repr(saved)


def test_pipeline_block_example(
    saved_credentials: TowerCredentials,
    emulator: TowerEmulator,
    token: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    TowerPipeline(credentials=saved_credentials, pipeline="hello", poll_interval=POLL).save(
        "nightly-rnaseq", overwrite=True
    )
    capsys.readouterr()
    namespace: dict[str, Any] = {}
    exec(python_block(DOC, 'TowerPipeline.load("nightly-rnaseq")'), namespace)
    workflow_id, run_url = capsys.readouterr().out.split()
    assert run_url.endswith(f"/watch/{workflow_id}")
    assert namespace["workflow"].status == WorkflowStatus.SUCCEEDED
    assert len(launches_of(emulator, token)) == 1


@pytest.mark.parametrize(
    ("path", "marker"),
    [(DOC, "def nightly(day: str)"), (PACKAGE_README, "def nightly(day: str)")],
    ids=["docs", "package-readme"],
)
def test_task_flow_examples(
    path: Path, marker: str, emulator: TowerEmulator, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOWER_API_ENDPOINT", emulator.url)
    swaps = [("poll_interval=60", f"poll_interval={POLL}")]
    if 'access_token="..."' in (code := python_block(path, marker)):
        swaps += [('"..."', repr(token)), ('"my-org/my-workspace"', '"demo-org/demo-workspace"')]
    else:
        TowerCredentials(access_token=token, workspace=str(emulator.workspace_id)).save(
            "tower", overwrite=True
        )
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(localised(code, *swaps), namespace)

    workflow = namespace["nightly"]("2024-06-01")

    assert workflow.status == WorkflowStatus.SUCCEEDED
    (launch,) = launches_of(emulator, token)
    params = json.loads(launch.json["launch"]["paramsText"])
    assert params["outdir"] == "s3://bucket/2024-06-01"


@pytest.mark.parametrize(
    ("path", "marker", "written"),
    [
        (DOC, "workflow = run_pipeline(", '"s3://b/out"}'),
        (README, "workflow = run_pipeline(", '"s3://bucket/out"}'),
    ],
    ids=["docs", "readme"],
)
def test_run_pipeline_examples(
    path: Path,
    marker: str,
    written: str,
    emulator: TowerEmulator,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOWER_API_ENDPOINT", emulator.url)
    TowerCredentials(access_token=token, workspace=str(emulator.workspace_id)).save(
        "tower", overwrite=True
    )
    swaps = [(written, f"{written}, poll_interval={POLL}")]  # default: 30 s
    code = python_block(path, marker)
    if 'access_token="..."' in code:
        swaps += [('"..."', repr(token)), ('"my-org/my-workspace"', '"demo-org/demo-workspace"')]
    namespace: dict[str, Any] = {}
    exec(localised(code, *swaps), namespace)
    assert namespace["workflow"].status == WorkflowStatus.SUCCEEDED
    assert len(launches_of(emulator, token)) == 1


def test_watching_many_runs_example(
    saved_credentials: TowerCredentials, emulator: TowerEmulator, token: str
) -> None:
    code = localised(
        python_block(DOC, "def per_sample()"), ("poll_interval=60", f"poll_interval={POLL}")
    )
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(code, namespace)

    workflows = namespace["per_sample"]()

    assert [w.status for w in workflows] == [WorkflowStatus.SUCCEEDED] * 3
    samples = [
        json.loads(launch.json["launch"]["paramsText"])["sample"]
        for launch in launches_of(emulator, token)
    ]
    assert sorted(samples) == ["s1", "s2", "s3"]


def test_automation_example_compiles() -> None:
    code = python_block(DOC, "Automation(")
    compile(code, str(DOC), "exec")  # `actions=[...]` is left to the reader
