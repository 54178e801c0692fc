"""The three distributions declare consistent metadata, and their READMEs (the PyPI long
descriptions) say how to install them and link to pages that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY = "https://github.com/nftower/nftower"
MEMBERS = {
    "core": "nftower",
    "airflow_provider": "airflow-provider-nftower",
    "prefect_collection": "prefect-nftower",
}


def project(member: str) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((ROOT / member / "pyproject.toml").read_text())
    return dict(data["project"])


def test_shared_fields_agree() -> None:
    projects = {member: project(member) for member in MEMBERS}
    for member, name in MEMBERS.items():
        meta = projects[member]
        assert meta["name"] == name
        assert meta["license"] == "Apache-2.0"
        assert meta["requires-python"] == ">=3.10"
        assert meta["readme"] == "README.md"
        assert "Nextflow Tower / Seqera Platform" in meta["description"]
        assert {"Programming Language :: Python :: 3", "Typing :: Typed"} <= set(
            meta["classifiers"]
        )
        # PEP 639: the SPDX expression replaces license classifiers
        assert not [c for c in meta["classifiers"] if c.startswith("License ::")]
        assert set(meta["urls"]) == {"Documentation", "Source"}
        assert meta["urls"]["Source"] == REPOSITORY


@pytest.mark.parametrize("member", list(MEMBERS))
def test_documentation_urls_point_into_the_repository(member: str) -> None:
    url = project(member)["urls"]["Documentation"]
    if url == f"{REPOSITORY}#readme":
        return
    prefix = f"{REPOSITORY}/blob/main/"
    assert url.startswith(prefix)
    assert (ROOT / url.removeprefix(prefix)).is_file()


@pytest.mark.parametrize("member", list(MEMBERS))
def test_package_readme_installs_and_links(member: str) -> None:
    text = (ROOT / member / "README.md").read_text()
    assert f"pip install {MEMBERS[member]}" in text
    links = re.findall(r"\]\((https://github\.com/nftower/nftower/blob/main/[^)#]+)", text)
    assert links, "a package README links the documentation with absolute URLs"
    for link in links:
        assert (ROOT / link.removeprefix(f"{REPOSITORY}/blob/main/")).is_file(), link
    assert not re.findall(r"\]\((?!https?://)", text), "relative links do not work on PyPI"
