"""Exit codes and the translation of nftower errors into messages for people."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from nftower import TowerConfigError, TowerError

EXIT_OK = 0
"""The command did what it was asked; for a wait, the run SUCCEEDED."""
EXIT_FAILED = 1
"""The run FAILED, was CANCELLED, the wait timed out, or Tower answered with an error."""
EXIT_USAGE = 2
"""Bad usage or configuration: unknown option, missing token, unreadable params file."""


class CommandError(click.ClickException):
    """A failure shown as ``Error: <message>`` on stderr, with an exit code by outcome.

    Example:
        >>> CommandError("no such run").exit_code
        1
        >>> CommandError("missing token", exit_code=EXIT_USAGE).exit_code
        2
    """

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


@contextmanager
def errors_for_people() -> Iterator[None]:
    """Turn nftower errors into :class:`CommandError` (their text names status, operation,
    server message and Error ID, never the token).

    Example:
        >>> with errors_for_people():
        ...     raise TowerConfigError("workspace must be an id")
        Traceback (most recent call last):
        ...
        nftower.cli._errors.CommandError: workspace must be an id
    """
    try:
        yield
    except TowerConfigError as exc:
        raise CommandError(str(exc), exit_code=EXIT_USAGE) from None
    except TowerError as exc:
        raise CommandError(str(exc)) from None
