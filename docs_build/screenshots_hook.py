"""A MkDocs hook (mkdocs.yml ``hooks:``): the screenshots page shows every picture in
``docs/assets/screenshots``. Those it does not describe yet are added where the page says
``<!-- more screenshots -->``, captioned by their file names, so that a browser test's new
screenshot is in the site as soon as the test saves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MARKER = "<!-- more screenshots -->"
FOLDER = "assets/screenshots"


def with_every_screenshot(markdown: str, folder: Path) -> str:
    """``markdown`` with the screenshots of ``folder`` it does not show put at the marker.

    Example:
        >>> import tempfile
        >>> shots = Path(tempfile.mkdtemp())
        >>> for name in ("a-b.png", "c.png"):
        ...     _ = (shots / name).write_bytes(b"")
        >>> print(with_every_screenshot("![A](assets/screenshots/c.png)\\n" + MARKER, shots))
        ![A](assets/screenshots/c.png)
        ## More screenshots
        <BLANKLINE>
        ![a b](assets/screenshots/a-b.png)
        <BLANKLINE>
        <BLANKLINE>
    """
    missing = [p for p in sorted(folder.glob("*.png")) if f"]({FOLDER}/{p.name})" not in markdown]
    if not missing:
        return markdown.replace(MARKER, "")
    shown = "".join(f"![{p.stem.replace('-', ' ')}]({FOLDER}/{p.name})\n\n" for p in missing)
    return markdown.replace(MARKER, f"## More screenshots\n\n{shown}")


def on_page_markdown(markdown: str, *, page: Any, config: Any, **kwargs: Any) -> str:
    """MkDocs event: fill the screenshots page."""
    if page.file.src_uri != "screenshots.md":
        return markdown
    return with_every_screenshot(markdown, Path(config["docs_dir"]) / FOLDER)
