"""Retry policy: Retry-After parsing and backoff tables (frozen clock), and the decision table."""

from __future__ import annotations

import pytest
from nftower._api_errors import api_error
from nftower._endpoints import Call, cancel_workflow, create_label, describe_workflow, launch, raw
from nftower._exceptions import (
    TowerConnectionError,
    TowerError,
    TowerTimeoutError,
)
from nftower._retry import MAX_500_RETRIES, RETRY_AFTER_CAP, backoff, decide, parse_retry_after

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("0", 0.0),
        ("1", 1.0),
        ("2.5", 2.5),
        (" 7 ", 7.0),
        ("-3", 0.0),
        ("3600", 3600.0),
        ("Tue, 14 Nov 2023 22:13:25 GMT", 5.0),
        ("Tue, 14 Nov 2023 22:13:20 GMT", 0.0),
        ("Tue, 14 Nov 2023 22:13:00 GMT", 0.0),
        ("Tue, 14 Nov 2023 23:13:20 GMT", 3600.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("Tue, 99 Foo 2023", None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=lambda: NOW) == expected


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [
        (1, 0.375, 0.5),
        (2, 0.75, 1.0),
        (3, 1.5, 2.0),
        (4, 3.0, 4.0),
        (7, 22.5, 30.0),
        (50, 22.5, 30.0),
    ],
)
def test_backoff_is_capped_exponential_with_jitter(attempt: int, low: float, high: float) -> None:
    assert backoff(attempt, rand=lambda: 0.0) == high
    assert backoff(attempt, rand=lambda: 1.0) == low
    assert low <= backoff(attempt) <= high


GET = describe_workflow(1, "w")
LAUNCH = launch(1, {"runName": "nightly"})
REFUSED = TowerConnectionError("refused", request_sent=False)
DROPPED = TowerConnectionError("dropped", request_sent=True)
READ_TIMEOUT = TowerTimeoutError("read timeout", request_sent=True)
CONNECT_TIMEOUT = TowerTimeoutError("connect timeout", request_sent=False)


def _err(status: int, retry_after: float | None = None) -> TowerError:
    return api_error(status, "X", "m", retry_after=retry_after)


@pytest.mark.parametrize(
    ("call", "error", "expected"),
    [
        (GET, _err(429, 3.0), 3.0),
        (GET, _err(429, 0.0), 0.0),
        (GET, _err(429, 3600.0), RETRY_AFTER_CAP),
        (GET, _err(429), 0.5),
        (GET, _err(502), 0.5),
        (GET, _err(503, 2.0), 2.0),
        (GET, _err(504), 0.5),
        (GET, _err(500), 0.5),
        (GET, _err(400), None),
        (GET, _err(401), None),
        (GET, _err(403), None),
        (GET, _err(404), None),
        (GET, _err(409), None),
        (GET, REFUSED, 0.5),
        (GET, DROPPED, 0.5),
        (GET, READ_TIMEOUT, 0.5),
        (LAUNCH, REFUSED, 0.5),
        (LAUNCH, CONNECT_TIMEOUT, 0.5),
        (LAUNCH, DROPPED, None),
        (LAUNCH, READ_TIMEOUT, None),
        (LAUNCH, _err(429, 1.0), 1.0),
        (LAUNCH, _err(429, 3600.0), RETRY_AFTER_CAP),
        (LAUNCH, _err(429), 0.5),
        (LAUNCH, _err(503), None),
        (LAUNCH, _err(500), None),
        (create_label(1, "x"), _err(429, 2.0), 2.0),
        (create_label(1, "x"), _err(500), None),
        (LAUNCH, _err(400), None),
        (create_label(1, "x"), DROPPED, None),
        (cancel_workflow(1, "w"), DROPPED, 0.5),
        (raw("POST", "/workflow/launch"), DROPPED, None),
        (raw("DELETE", "/workflow/w"), _err(503), 0.5),
        (raw("GET", "/anything"), _err(502), 0.5),
    ],
)
def test_decision_table(call: Call, error: TowerError, expected: float | None) -> None:
    assert decide(call, 1, error, max_retries=5, rand=lambda: 0.0) == expected


def test_a_500_is_retried_at_most_twice() -> None:
    assert MAX_500_RETRIES == 2
    assert decide(GET, 2, _err(500), max_retries=5, rand=lambda: 0.0) == 1.0
    assert decide(GET, 3, _err(500), max_retries=5) is None
    assert decide(GET, 1, _err(500), max_retries=0) is None


def test_no_retry_past_max_retries() -> None:
    assert decide(GET, 5, _err(503), max_retries=5, rand=lambda: 0.0) == 8.0
    assert decide(GET, 6, _err(503), max_retries=5) is None
    assert decide(GET, 1, _err(503), max_retries=0) is None


def test_raw_calls_keep_their_path_for_errors() -> None:
    call = raw("get", "workflow/{weird}")
    assert call.operation == "GET /workflow/{weird}"
    assert call.url_path == "/workflow/{weird}"
    assert raw("POST", "/workflow/launch", json={"launch": {"runName": "n"}}).run_name == "n"
