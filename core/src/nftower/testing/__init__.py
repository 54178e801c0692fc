"""A local Tower (Seqera Platform) API emulator for tests, demos and benchmarks.

``TowerEmulator`` needs the ``emulator`` extra (``pip install nftower[emulator]``); it is
imported lazily so that the pytest plugin of this package stays cheap to load.

>>> from nftower.testing import TowerEmulator
>>> with TowerEmulator(speed=50) as emu:
...     emu.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._emulator import TowerEmulator
    from ._records import RecordedRequest

__all__ = ["RecordedRequest", "TowerEmulator"]


def __getattr__(name: str) -> Any:
    if name == "TowerEmulator":
        from ._emulator import TowerEmulator

        return TowerEmulator
    if name == "RecordedRequest":
        from ._records import RecordedRequest

        return RecordedRequest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
