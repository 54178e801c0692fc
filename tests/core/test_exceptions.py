"""The error tree: dispatch by status, Error ID, messages for people, pickling, module name."""

from __future__ import annotations

import pickle

import nftower
import pytest
from nftower import (
    LaunchOutcomeUnknownError,
    RateLimitError,
    TowerConfigError,
    TowerConnectionError,
    TowerError,
    TowerTimeoutError,
    WaitTimeoutError,
    WorkflowFailedError,
)
from nftower._api_errors import api_error, parse_error_id

OP = "GET /workflow/{workflowId}"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Unexpected error while processing - Error ID: 54apnFENQxbvCr23JaIjLb",
            "54apnFENQxbvCr23JaIjLb",
        ),
        ("Oops (Error ID: abc_DEF-123)", "abc_DEF-123"),
        ("Oops. Error ID: x1", "x1"),
        ("No id here", None),
        ("", None),
    ],
)
def test_parse_error_id(message: str, expected: str | None) -> None:
    text, error_id = parse_error_id(message)
    assert error_id == expected
    assert "Error ID" not in text


def test_str_shows_status_operation_message_and_error_id() -> None:
    error = api_error(400, "POST /workflow/launch", "Invalid compute env - Error ID: E1")
    assert str(error) == "400 POST /workflow/launch: Invalid compute env (Error ID: E1)"


def test_auth_errors_explain_the_likely_causes() -> None:
    error = api_error(403, "GET /user-info", "Forbidden - Error ID: F1")
    text = str(error)
    assert "invalid or expired" in text
    assert "not available" in text
    assert "Forbidden" in text
    assert "F1" in text


def test_rate_limit_error_carries_retry_after() -> None:
    error = api_error(429, OP, "Maximum request rate exceeded", retry_after=2.0)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 2.0
    assert "2 s" in str(error)


def test_error_without_message() -> None:
    assert "HTTP 502" in str(api_error(502, OP, None))


def test_config_error_is_a_value_error() -> None:
    assert issubclass(TowerConfigError, ValueError)
    assert issubclass(TowerTimeoutError, TowerConnectionError)


ALL_ERRORS: list[TowerError] = [
    TowerError("base", operation=OP),
    TowerConfigError("bad input"),
    api_error(404, OP, "gone - Error ID: N1"),
    api_error(429, OP, "slow down", retry_after=1.5),
    TowerConnectionError("refused", operation=OP, request_sent=False),
    TowerTimeoutError("slow", operation=OP),
    LaunchOutcomeUnknownError("maybe", operation="POST /workflow/launch", run_name="nightly"),
    WaitTimeoutError("late", workflow_id="w", last_status="RUNNING"),
    WorkflowFailedError("failed", workflow_id="w", status="FAILED", exit_status=1, run_url="u"),
]


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda e: type(e).__name__)
def test_errors_pickle_with_their_attributes(error: TowerError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda e: type(e).__name__)
def test_errors_show_as_nftower_names(error: TowerError) -> None:
    cls = type(error)
    assert cls.__module__ == "nftower"
    assert getattr(nftower, cls.__name__) is cls
    assert repr(error).startswith(cls.__name__)
