"""docs/datasets.md: its core examples run against the emulator; the Airflow and Prefect ones
compile and name what the packages define."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "datasets.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)
PACKAGES = {
    "nftower_airflow": Path(__file__).resolve().parents[2] / "airflow_provider" / "src",
    "prefect_nftower": Path(__file__).resolve().parents[2] / "prefect_collection" / "src",
}


@pytest.mark.parametrize("block", [b for b in BLOCKS if "from nftower.testing" in b])
def test_core_examples_run(block: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(block, str(PAGE), "exec"), {})


def _source(module: str) -> str:
    root = PACKAGES[module.split(".")[0]] / module.replace(".", "/")
    path = root.with_suffix(".py") if root.with_suffix(".py").exists() else root / "__init__.py"
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("block", [b for b in BLOCKS if "from nftower.testing" not in b])
def test_adapter_examples_name_what_exists(block: str) -> None:
    for node in ast.walk(ast.parse(block)):
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        if node.module.split(".")[0] not in PACKAGES:
            continue
        source = _source(node.module)
        for alias in node.names:
            defined = rf"(def|class) {alias.name}\b|\b{alias.name} =|\"{alias.name}\""
            assert re.search(defined, source), alias.name


def test_the_page_names_every_public_operation() -> None:
    import nftower

    text = PAGE.read_text(encoding="utf-8")
    for name in ("create_dataset", "get_or_create_dataset", "get_dataset", "list_datasets",
                 "list_dataset_versions", "upload_dataset_version", "dataset_url",
                 "download_run_file", "download_task_file", "run_outputs"):  # fmt: skip
        assert hasattr(nftower.TowerClient, name)
        assert f"`{name}(" in text, name
