"""The nightly example flow runs against the emulator with dated parameters."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from nftower import WorkflowStatus
from nftower.testing import TowerEmulator
from tower_helpers import POLL, launches_of

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "prefect" / "nightly_flow.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nightly_flow_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nightly_example(
    emulator: TowerEmulator, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOWER_API_ENDPOINT", emulator.url)
    monkeypatch.setenv("TOWER_ACCESS_TOKEN", token)
    monkeypatch.setenv("TOWER_WORKSPACE_ID", str(emulator.workspace_id))
    example = load_example()

    workflow = example.nightly(run_date="2024-06-01", poll_interval=POLL)

    assert workflow.status == WorkflowStatus.SUCCEEDED
    (launch,) = launches_of(emulator, token)
    params = json.loads(launch.json["launch"]["paramsText"])
    assert params["input"].endswith("/n/samplesheet-2024-06-01.csv")
    assert "/datasets/" in params["input"]
    assert params["outdir"] == "s3://demo-bucket/results/rnaseq/2024-06-01"
    assert launch.json["launch"]["runName"].startswith("nightly-2024-06-01-")
