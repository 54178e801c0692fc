"""The send loop on canned responses (httpx.MockTransport, sleeps recorded, not slept).

These need exact response sequences (Retry-After values, transport exceptions at given
attempts); everything else runs against the emulator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from nftower import (
    BadRequestError,
    LaunchOutcomeUnknownError,
    RateLimitError,
    ServerError,
    TowerConnectionError,
    TowerTimeoutError,
)
from nftower.ratelimit import RateLimiter, get_limiter

URL = "https://tower.example.org/api"
TOKEN = "mock-token-0123456789"
Answer = httpx.Response | Exception


def scripted(answers: list[Answer]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport answering with ``answers`` in order (the last one repeats)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.MockTransport(handler), seen


def ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


def error(status: int, message: str = "Oops - Error ID: E1", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"message": message}, headers=headers)


WORKFLOW = ok({"workflow": {"id": "w1", "status": "RUNNING"}})


@pytest.fixture
def no_limiter_pause(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """Record what the client reports to the limiter after a 429, without the shared pause."""
    reported: list[float | None] = []
    monkeypatch.setattr(
        RateLimiter,
        "report_rate_limited",
        lambda self, retry_after=None: reported.append(retry_after),
    )
    return reported


@pytest.fixture
def client_for(make_client: Callable[..., Any]) -> Callable[..., Any]:
    def build(answers: list[Answer], **options: Any) -> tuple[Any, list[httpx.Request]]:
        transport, seen = scripted(answers)
        return make_client(URL, TOKEN, 7, transport=transport, **options), seen

    return build


def test_429_honours_retry_after(
    client_for: Any, fast_sleep: list[float], no_limiter_pause: list[float | None]
) -> None:
    client, seen = client_for([error(429, "Too many", **{"Retry-After": "3"}), WORKFLOW])
    assert client.get_workflow("w1").id == "w1"
    assert len(seen) == 2
    assert fast_sleep == [3.0]
    assert no_limiter_pause == [3.0]  # the other callers of this token hold off too


def test_429_storm_gives_up_with_rate_limit_error(
    client_for: Any, fast_sleep: list[float], no_limiter_pause: list[float | None]
) -> None:
    client, seen = client_for([error(429, "Too many", **{"Retry-After": "120"})], max_retries=3)
    with pytest.raises(RateLimitError) as caught:
        client.get_workflow("w1")
    assert len(seen) == 4
    assert fast_sleep == [60.0, 60.0, 60.0]  # capped
    assert caught.value.retry_after == 120.0


def test_5xx_backs_off_exponentially(client_for: Any, fast_sleep: list[float]) -> None:
    client, seen = client_for([error(503), error(502), error(504), WORKFLOW])
    assert client.get_workflow("w1").status == "RUNNING"
    assert len(seen) == 4
    for delay, high in zip(fast_sleep, [0.5, 1.0, 2.0], strict=True):
        assert 0.75 * high <= delay <= high


def test_a_repeated_500_is_raised_after_two_retries(
    client_for: Any, fast_sleep: list[float]
) -> None:
    client, seen = client_for([error(500, "Internal - Error ID: Z9")])
    with pytest.raises(ServerError, match="Z9"):
        client.get_workflow("w1")
    assert len(seen) == 3
    assert len(fast_sleep) == 2


def test_exhausted_retries_raise_the_last_error(client_for: Any, fast_sleep: list[float]) -> None:
    client, seen = client_for([error(503, "busy - Error ID: B1")], max_retries=2)
    with pytest.raises(ServerError) as caught:
        client.get_workflow("w1")
    assert len(seen) == 3
    assert caught.value.status_code == 503
    assert caught.value.error_id == "B1"


def test_connection_errors_and_read_timeouts_are_retried(
    client_for: Any, fast_sleep: list[float]
) -> None:
    client, seen = client_for(
        [
            httpx.ConnectError("refused"),
            httpx.ReadTimeout("slow"),
            httpx.ReadError("reset"),
            WORKFLOW,
        ]
    )
    assert client.get_workflow("w1").id == "w1"
    assert len(seen) == 4
    assert len(fast_sleep) == 3


def test_timeouts_map_to_tower_timeout_error(client_for: Any, fast_sleep: list[float]) -> None:
    client, _ = client_for([httpx.ReadTimeout("slow")], max_retries=1)
    with pytest.raises(TowerTimeoutError, match="timed out") as caught:
        client.get_workflow("w1")
    assert caught.value.request_sent is True
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


def test_launch_retried_only_when_never_sent(client_for: Any, fast_sleep: list[float]) -> None:
    answers: list[Answer] = [
        ok({"computeEnvs": [{"id": "ce1", "primary": True, "workDir": "s3://w"}]}),
        ok({"computeEnv": {"id": "ce1", "config": {"workDir": "s3://w"}}}),
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("no connection"),
        httpx.PoolTimeout("pool busy"),
        ok({"workflowId": "new1"}),
    ]
    client, seen = client_for(answers)
    assert client.launch("https://github.com/nextflow-io/hello", run_name="n1") == "new1"
    assert [r.url.path for r in seen].count("/api/workflow/launch") == 4


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.WriteError("broken pipe"),
        error(503),
        error(502, "<html>Bad gateway</html>"),
        httpx.Response(200, content=b"{not json"),
        ok({"unexpected": True}),
    ],
    ids=["read-timeout", "disconnect", "write-error", "503", "502", "malformed", "no-id"],
)
def test_launch_failure_after_sending_is_outcome_unknown(
    client_for: Any, fast_sleep: list[float], failure: Answer
) -> None:
    answers: list[Answer] = [
        ok({"computeEnvs": [{"id": "ce1", "primary": True, "workDir": "s3://w"}]}),
        ok({"computeEnv": {"id": "ce1"}}),
        failure,
        ok({"workflowId": "second"}),
    ]
    client, seen = client_for(answers)
    with pytest.raises(LaunchOutcomeUnknownError) as caught:
        client.launch("https://github.com/nextflow-io/hello", run_name="nightly-1")
    assert [r.url.path for r in seen].count("/api/workflow/launch") == 1
    assert caught.value.run_name == "nightly-1"
    text = str(caught.value)
    assert "may or may not" in text or "probably started" in text
    assert "nightly-1" in text
    assert TOKEN not in text


def test_launch_rejection_is_a_plain_api_error(client_for: Any, fast_sleep: list[float]) -> None:
    answers: list[Answer] = [
        ok({"computeEnvs": [{"id": "ce1", "primary": True, "workDir": "s3://w"}]}),
        ok({"computeEnv": {"id": "ce1"}}),
        error(400, "Invalid work dir - Error ID: L4"),
    ]
    client, _ = client_for(answers)
    with pytest.raises(BadRequestError, match="L4"):
        client.launch("https://github.com/nextflow-io/hello")


def test_non_json_error_body(client_for: Any, fast_sleep: list[float]) -> None:
    page = httpx.Response(500, content=b"<html><body>\n  Internal   error\n</body></html>")
    client, _ = client_for([page])
    with pytest.raises(ServerError) as caught:
        client.get_workflow("w1")
    assert "not a JSON error body" in str(caught.value)
    assert "Internal error" in str(caught.value)
    assert caught.value.__context__ is None


def test_malformed_json_is_retried_for_reads(client_for: Any, fast_sleep: list[float]) -> None:
    client, seen = client_for([httpx.Response(200, content=b"{oops"), WORKFLOW])
    assert client.get_workflow("w1").id == "w1"
    assert len(seen) == 2
    client2, _ = client_for([httpx.Response(200, content=b"{oops")], max_retries=0)
    with pytest.raises(TowerConnectionError, match="not valid JSON"):
        client2.get_workflow("w1")


def test_every_attempt_acquires_the_limiter(client_for: Any, fast_sleep: list[float]) -> None:
    limiter = get_limiter(api_url=URL, token=TOKEN)
    before = limiter.stats().admitted
    client, seen = client_for([error(503), error(503), WORKFLOW])
    client.get_workflow("w1")
    assert len(seen) == 3
    assert limiter.stats().admitted - before == 3


def test_429_is_reported_to_the_limiter(client_for: Any, fast_sleep: list[float]) -> None:
    client, _ = client_for([error(429, "Too many", **{"Retry-After": "0.01"}), WORKFLOW])
    client.get_workflow("w1")
    assert get_limiter(api_url=URL, token=TOKEN).stats().rate_limited == 1


def test_retry_warning_and_debug_lines(
    client_for: Any, fast_sleep: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="nftower")
    client, _ = client_for([error(503, "busy - Error ID: R1"), WORKFLOW])
    client.get_workflow("w1")
    records = [r for r in caplog.records if r.name == "nftower"]
    debug = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert debug[0].startswith("GET /workflow/w1 -> 503 in ")
    assert "(attempt 1) Error ID: R1" in debug[0]
    assert "(attempt 2)" in debug[1]
    assert len(warnings) == 1
    assert "Retrying GET /workflow/{workflowId}" in warnings[0]


def test_request_headers(client_for: Any) -> None:
    client, seen = client_for([WORKFLOW], user_agent="nftower-airflow/1.0", accept_version="2")
    client.get_workflow("w1")
    headers = seen[0].headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept-Version"] == "2"
    assert headers["User-Agent"].startswith("nftower/")
    assert " python/" in headers["User-Agent"]
    assert " httpx/" in headers["User-Agent"]
    assert headers["User-Agent"].endswith(" nftower-airflow/1.0")
    assert seen[0].url.params["workspaceId"] == "7"
    assert seen[0].extensions["timeout"]["read"] == 30.0
