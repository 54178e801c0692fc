"""The package surface: cheap to import (for the pytest plugin too), every public name loads."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import nftower
import pytest

#: Modules that ``import nftower`` and the pytest plugin must not load.
HEAVY = (
    "httpx", "pydantic", "yaml", "starlette", "uvicorn", "click", "rich", "nftower._client",
    "nftower._models", "nftower.cli",
)  # fmt: skip


def _loaded_after(statement: str) -> list[str]:
    code = (
        f"import json, sys; {statement}; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


@pytest.mark.parametrize("module", ["nftower", "nftower.testing.pytest_plugin"])
def test_import_loads_no_client_dependencies(module: str) -> None:
    assert _loaded_after(f"import {module}") == []


def test_first_use_of_a_client_class_loads_it() -> None:
    assert "httpx" in _loaded_after("import nftower; nftower.TowerClient")


@pytest.mark.parametrize("name", nftower.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(nftower, name) is not None
    assert name in dir(nftower)


def test_star_import_and_unknown_names() -> None:
    namespace: dict[str, object] = {}
    exec("from nftower import *", namespace)
    assert set(nftower.__all__) <= set(namespace)
    with pytest.raises(AttributeError, match="no attribute 'TowerClientt'"):
        nftower.TowerClientt  # type: ignore[attr-defined]  # noqa: B018


@pytest.mark.parametrize(
    "name",
    [n for n in nftower.__all__ if n.endswith(("Error", "Client")) or n == "TowerConfig"],
)
def test_public_classes_show_and_pickle_as_nftower_names(name: str) -> None:
    cls = getattr(nftower, name)
    assert cls.__module__ == "nftower"
    assert pickle.loads(pickle.dumps(cls)) is cls


def test_the_emulator_does_not_use_the_client() -> None:
    """The emulator is an independent implementation of the API: no client code, no models."""
    loaded = _loaded_after(
        "from nftower.testing import TowerEmulator; TowerEmulator().start().stop()"
    )
    assert [
        m for m in loaded if m in ("httpx", "pydantic", "nftower._client", "nftower._models")
    ] == []
