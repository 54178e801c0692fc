"""The docstring examples of the provider's modules run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "nftower_airflow._connection",
    "nftower_airflow._events",
    "nftower_airflow._runs",
    "nftower_airflow.get_provider_info",
    "nftower_airflow.hooks",
    "nftower_airflow.links",
    "nftower_airflow.operators",
    "nftower_airflow.sensors",
    "nftower_airflow.triggers",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
