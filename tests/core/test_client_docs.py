"""The examples in the client's docstrings run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "nftower",
    "nftower._exceptions",
    "nftower._models",
    "nftower._resources",
    "nftower._endpoints",
    "nftower._flows",
    "nftower._retry",
    "nftower._base_client",
    "nftower._reports",
    "nftower._runname",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, f"{name} has no examples"


@pytest.mark.parametrize("obj", ["TowerClient", "AsyncTowerClient", "TowerConfig"])
def test_public_class_examples(obj: str) -> None:
    """These classes show as ``nftower.X``, so module-level doctest discovery skips them."""
    import nftower

    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = [t for t in finder.find(getattr(nftower, obj), obj) if t.examples]
    assert tests
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
