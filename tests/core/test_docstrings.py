"""Every docstring example of the nftower package runs as written (the emulator ones included),
and every public class and function of ``nftower`` has one."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import nftower
import pytest

MODULES = sorted(m.name for m in pkgutil.walk_packages(nftower.__path__, "nftower."))
#: Public names whose class lives in a private module: module-level discovery skips them.
PUBLIC = [
    name
    for name in nftower.__all__
    if isinstance(getattr(nftower, name), type) or callable(getattr(nftower, name))
]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def run(tests: list[doctest.DocTest]) -> doctest.TestResults:
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in tests:
        runner.run(test)
    return runner.summarize(verbose=False)


@pytest.mark.parametrize("name", ["nftower", *MODULES])
def test_module_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = run(doctest.DocTestFinder().find(module))
    assert result.failed == 0


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_has_a_runnable_example(name: str) -> None:
    tests = [t for t in doctest.DocTestFinder().find(getattr(nftower, name), name) if t.examples]
    assert tests, f"nftower.{name} has no example in its docstring"
    result = run(tests)
    assert result.failed == 0
