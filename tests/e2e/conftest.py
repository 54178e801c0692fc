"""The end-to-end suite's one real Airflow, shared by its modules (start-up takes minutes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from standalone_harness import Standalone, running_standalone


@pytest.fixture(scope="session")
def standalone() -> Iterator[Standalone]:
    """``airflow standalone`` with the example DAG and tests/e2e/dags, and its emulator."""
    with running_standalone() as started:
        yield started
