"""Watching many runs at once: :class:`WorkflowMonitor` (used by the Airflow trigger and the
Prefect wait task).

>>> from nftower.monitor import WorkflowMonitor, StatusPoller
"""

from ._monitor import MonitorStats, WorkflowMonitor
from ._poller import CycleResult, StatusPoller, StatusSource

__all__ = ["CycleResult", "MonitorStats", "StatusPoller", "StatusSource", "WorkflowMonitor"]
