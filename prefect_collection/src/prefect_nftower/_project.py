"""Where the collection's documentation and block logo live (this project's repository)."""

from __future__ import annotations

__all__ = ["DOCS_URL", "LOGO_URL", "REPOSITORY"]

REPOSITORY = "https://github.com/nftower/nftower"
#: The collection's page, `docs/prefect.md` in the repository.
DOCS_URL = f"{REPOSITORY}/blob/main/docs/prefect.md"
#: `docs/assets/prefect-nftower-logo.png` in the repository: a plain 128 px square mark.
LOGO_URL = (
    "https://raw.githubusercontent.com/nftower/nftower/main/docs/assets/prefect-nftower-logo.png"
)
