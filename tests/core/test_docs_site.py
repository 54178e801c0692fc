"""The documentation site (mkdocs.yml, `make docs`): every page is in the navigation, the build
reads nothing from the network, a broken link or API reference fails the strict build, the
API reference covers every public name, and the screenshots are shown."""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nftower
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CONFIG = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
MKDOCS = Path(sys.executable).parent / "mkdocs"
REFERENCE = "\n".join(p.read_text(encoding="utf-8") for p in (DOCS / "reference").glob("*.md"))


def nav_pages(entries: Any) -> list[str]:
    """Every page the navigation lists, in order."""
    found: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        found += nav_pages(value) if isinstance(value, list) else [value]
    return found


def test_every_page_is_in_the_navigation_once() -> None:
    pages = nav_pages(CONFIG["nav"])
    assert len(pages) == len(set(pages))
    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert set(pages) == on_disk


def test_the_build_reads_nothing_from_the_network() -> None:
    plugins = {next(iter(p)) if isinstance(p, dict) else p for p in CONFIG["plugins"]}
    assert plugins == {"search", "mkdocstrings"}  # no social cards, no privacy plugin
    assert CONFIG["theme"]["font"] is False  # no Google Fonts when a page is viewed
    assert CONFIG["strict"] is True


def strict_build(tmp_path: Path, page: str) -> subprocess.CompletedProcess[str]:
    """Build a one-page site with this repository's configuration (plugins, extensions,
    validation) around ``page``."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(page, encoding="utf-8")
    config = dict(CONFIG)
    config.update(docs_dir=str(docs), site_dir=str(tmp_path / "site"), nav=["index.md"])
    text = yaml.safe_dump(config).replace("docs_build/", f"{ROOT}/docs_build/")
    for source in ("core/src", "airflow_provider/src", "prefect_collection/src"):
        text = text.replace(f"- {source}\n", f"- {ROOT}/{source}\n")
    (tmp_path / "mkdocs.yml").write_text(text, encoding="utf-8")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [str(MKDOCS), "build", "--strict", "-f", str(tmp_path / "mkdocs.yml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.parametrize(
    ("page", "complaint"),
    [
        ("[the emulator](emulator.md)\n", "emulator.md"),
        ("[a section](#nowhere)\n\n## Here\n", "nowhere"),
        ("::: nftower.NoSuchThing\n", "nftower.NoSuchThing"),
    ],
    ids=["missing page", "missing anchor", "missing API object"],
)
def test_the_strict_build_fails_on_a_broken_reference(
    tmp_path: Path, page: str, complaint: str
) -> None:
    result = strict_build(tmp_path, page)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_a_sound_page_builds_with_its_api_reference(tmp_path: Path) -> None:
    result = strict_build(tmp_path, "# Client\n\n::: nftower.TowerClient\n")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'id="nftower.TowerClient.launch"' in page  # the operations are methods there
    assert '<span class="gp">&gt;&gt;&gt; </span>' in page  # a doctest as a pycon block
    assert "<blockquote>" not in page  # (not as Markdown quotes)


def test_the_api_reference_covers_every_public_name() -> None:
    for name in nftower.__all__:
        if name != "__version__":
            assert f"::: nftower.{name}\n" in REFERENCE, name
    for package, root in (
        ("nftower_airflow", ROOT / "airflow_provider" / "src" / "nftower_airflow"),
        ("prefect_nftower", ROOT / "prefect_collection" / "src" / "prefect_nftower"),
    ):
        for module in sorted(root.glob("[a-z]*.py")):
            if module.stem != "get_provider_info":
                assert f"::: {package}.{module.stem}\n" in REFERENCE, module


def test_the_docstring_extension_says_what_it_does() -> None:
    module = load(ROOT / "docs_build" / "markdown_docstrings.py")
    results = doctest.testmod(module)
    assert results.attempted >= 2
    assert results.failed == 0
    text = ":class:`~nftower.TowerClient` and :func:`nftower.make_run_name`"
    assert module.as_markdown(text) == "`TowerClient` and `nftower.make_run_name`"


def load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_screenshot_is_shown(tmp_path: Path) -> None:
    hook = load(ROOT / "docs_build" / "screenshots_hook.py")
    assert doctest.testmod(hook).failed == 0
    assert "docs_build/screenshots_hook.py" in CONFIG["hooks"]
    page = (DOCS / "screenshots.md").read_text(encoding="utf-8")
    assert hook.MARKER in page
    folder = DOCS / "assets" / "screenshots"
    shots = sorted(folder.glob("*.png"))
    assert shots
    shown = hook.with_every_screenshot(page, folder)
    for shot in shots:
        assert f"](assets/screenshots/{shot.name})" in shown, shot.name


def test_the_changelog_page_includes_the_changelog() -> None:
    page = (DOCS / "changelog.md").read_text(encoding="utf-8")
    assert re.search(r'^--8<-- "CHANGELOG.md"$', page, re.MULTILINE)
    assert (ROOT / "CHANGELOG.md").exists()
