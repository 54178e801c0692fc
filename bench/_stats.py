"""Small statistics over request timestamps."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def max_in_window(times: Iterable[float], window: float = 1.0) -> int:
    """Most timestamps in any half-open interval ``[t, t + window)``.

    >>> max_in_window([0.0, 0.5, 0.99, 1.0, 1.2])
    3
    """
    ordered = sorted(times)
    best = start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def steady_rate(times: Sequence[float], limit: int) -> float:
    """Calls per second after the initial burst of ``limit``: ``(n - limit) / span``.

    >>> steady_rate([0.0] * 20 + [1.0, 2.0], 20)
    1.0
    """
    if len(times) <= limit:
        return float("nan")
    span = max(times) - min(times)
    return (len(times) - limit) / span if span > 0 else float("inf")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100).

    >>> percentile([1, 2, 3, 4], 50), percentile([1, 2, 3, 4], 95)
    (2, 4)
    """
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
