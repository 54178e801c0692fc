"""``nftower``: the command line for quick checks of Tower runs outside an orchestrator.

It reads the same environment variables as ``tw`` (``TOWER_ACCESS_TOKEN``,
``TOWER_API_ENDPOINT``, ``TOWER_WORKSPACE_ID``) and talks to Tower only through the public
client (:class:`nftower.TowerClient`). Its dependencies (click, and rich for the live display)
load only when the command runs: ``import nftower`` does not import this package.

Exit codes: 0 the command did what it was asked (for ``wait`` and ``launch --wait``: the run
SUCCEEDED), 1 the run FAILED, was CANCELLED or the wait timed out, or Tower answered with an
error, 2 bad usage or configuration (unknown option, missing token, unreadable params file).

Example:
    >>> from nftower.cli import main
    >>> main(["--version"])  # doctest: +ELLIPSIS
    nftower ...
    0
"""

from __future__ import annotations

from collections.abc import Sequence

from ._errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nftower`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit code.

    Example:
        >>> main(["runs", "list", "--status", "sideways"])  # doctest: +SKIP
        2
    """
    from ._commands import run

    return run(argv)
