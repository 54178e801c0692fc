"""The `>>>` examples in the collection's docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import prefect_nftower
import pytest

MODULES = sorted(m.name for m in pkgutil.iter_modules(prefect_nftower.__path__, "prefect_nftower."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_examples_exist() -> None:
    found = sum(
        doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS).attempted
        for name in MODULES
    )
    assert found >= 4
