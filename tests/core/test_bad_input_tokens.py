"""Bad tokens and API URLs: refused before any call, with a message that never echoes them."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from nftower import AuthenticationError, BadRequestError, TowerClient, TowerConfig, TowerConfigError
from nftower._secrets import MIN_TOKEN_LENGTH, redact
from nftower.testing import TowerEmulator

SECRET = "eyJ0aWQiOiA0Mn0.c2VjcmV0LXZhbHVlLTAxMjM0"

BAD_TOKENS = {
    "empty": ("", "No Tower access token"),
    "whitespace": (" \t\n ", "No Tower access token"),
    "embedded newline": (
        SECRET[:20] + "\n" + SECRET[20:],
        "contains a line break (at character 21)",
    ),
    "embedded space": (SECRET[:10] + " " + SECRET[10:], "contains a space or tab"),
    "typographic quotes": (f"\u201c{SECRET}\u201d", "wrapped in quotes (U+201C LEFT DOUBLE"),
    "plain quotes": (f'"{SECRET}"', "wrapped in quotes"),
    "Bearer prefix": (f"Bearer {SECRET}", "starts with 'Bearer '"),
    "non-ASCII letter": (SECRET[:5] + "\u00e9" + SECRET[5:], "U+00E9 LATIN SMALL LETTER E WITH"),
    "control character": (SECRET[:5] + "\x00" + SECRET[5:], "the character U+0000"),
    "punctuation": (SECRET[:5] + ";" + SECRET[5:], "a character that Tower tokens never hold"),
    "padding inside": (SECRET[:5] + "=" + SECRET[5:], "'=' padding in the middle"),
    "a mask": ("**********", "is a mask (only '*'), not the token"),
    "absurdly short": ("t", "only 1 character(s) long"),
    "short": ("tok-" + "x" * (MIN_TOKEN_LENGTH - 5), "nftower accepts 16 or more"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_tokens_are_refused_before_any_call_without_echoing_them(
    case: str, tower_emulator: TowerEmulator
) -> None:
    token, words = BAD_TOKENS[case]
    with pytest.raises(TowerConfigError, match="token") as caught:
        TowerClient(tower_emulator.url, token or None, tower_emulator.workspace_id)
    assert words in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    secret_part = token.strip()[6:]
    if len(secret_part) >= 8:
        assert secret_part[:8] not in str(caught.value)
    assert tower_emulator.requests == []


def test_a_bad_token_in_the_environment_is_refused_the_same_way() -> None:
    with pytest.raises(TowerConfigError, match="line break") as caught:
        TowerConfig.from_env({"TOWER_ACCESS_TOKEN": SECRET[:20] + "\r\n" + SECRET[20:]})
    assert SECRET[:20] not in str(caught.value)


def test_a_token_with_a_trailing_newline_is_trimmed_not_refused() -> None:
    # the usual result of `export TOWER_ACCESS_TOKEN=$(cat token.txt)` or a copied line
    assert TowerConfig(token=f"  {SECRET}\n").token == SECRET


def test_a_token_without_access_to_the_workspace_is_a_clear_403(
    tower_emulator: TowerEmulator,
) -> None:
    with (
        TowerClient(tower_emulator.url, tower_emulator.token, 424242, max_retries=3) as tower,
        pytest.raises(AuthenticationError) as caught,
    ):
        tower.launch("hello")
    message = str(caught.value)
    assert "Workspace 424242 not found or not accessible" in message
    assert "check the token, TOWER_WORKSPACE_ID" in message
    assert tower_emulator.token not in message
    assert len(tower_emulator.requests) == 1  # a 403 is never retried
    assert tower_emulator.launches == []


BAD_URLS: dict[str, tuple[str, str]] = {
    "no scheme": ("tower.example.org/api", "did you mean 'https://tower.example.org/api'?"),
    "userinfo": ("https://ann:pa55word@tower.example.org/api", "https://***@tower.example.org"),
    "user only": ("https://ann@tower.example.org/api", "must not hold a user name or password"),
    "http for Seqera Cloud": ("http://api.cloud.seqera.io", "use 'https://api.cloud.seqera.io'"),
    "the Cloud web UI": ("https://cloud.seqera.io/", "is the Seqera Cloud web UI, not its API"),
    "a query string": ("https://tower.example.org/api?workspaceId=1", "query string"),
}


@pytest.mark.parametrize("case", sorted(BAD_URLS))
def test_bad_api_urls_are_refused_with_the_fix(case: str) -> None:
    url, words = BAD_URLS[case]
    with pytest.raises(TowerConfigError, match="api_url") as caught:
        TowerConfig(token=SECRET, api_url=url)
    assert words in str(caught.value)
    assert "pa55word" not in str(caught.value)


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("https://tower.example.org/api/", "https://tower.example.org/api"),
        ("  https://tower.example.org/api//  ", "https://tower.example.org/api"),
        ("https://api.cloud.seqera.io/", "https://api.cloud.seqera.io"),
    ],
)
def test_trailing_slashes_and_blanks_are_dropped(given: str, used: str) -> None:
    assert TowerConfig(token=SECRET, api_url=given).api_url == used


def test_plain_http_to_another_host_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    url = "http://tower.internal.example:8000/api"
    with caplog.at_level(logging.WARNING, logger="nftower"):
        for _ in range(3):
            TowerConfig(token=SECRET, api_url=url)
        for loopback in ("127.0.0.1:8000", "127.0.0.2", "[::1]:8000", "localhost:8000"):
            TowerConfig(token=SECRET, api_url=f"http://{loopback}/api")  # loopback: no warning
    warnings = [r.getMessage() for r in caplog.records if "plain http://" in r.getMessage()]
    assert warnings == [
        f"api_url {url} uses plain http://: the access token is sent unencrypted; use https:// "
        "unless this is a trusted local network"
    ]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("timeout", float("nan")),
        ("timeout", float("inf")),
        ("rate_limit_window", float("nan")),
    ],
)
def test_timeouts_must_be_finite(option: str, value: float) -> None:
    with pytest.raises(TowerConfigError, match=f"{option} must be a finite number"):
        TowerConfig(token=SECRET, **{option: value})


def test_redaction_keeps_words_that_merely_contain_a_short_token() -> None:
    text = "certificate verify failed: unable to get local issuer certificate"
    assert redact(text, "t") == text
    assert redact(text, "tificate") == text  # shorter than any accepted token


def test_redaction_replaces_whole_tokens_and_url_credentials() -> None:
    text = f"Illegal header value b'Bearer {SECRET}' for https://ann:pa55@proxy:3128/x"
    assert redact(text, SECRET) == "Illegal header value b'Bearer ***' for https://***@proxy:3128/x"


def test_a_server_message_echoing_the_token_is_redacted(make_client: Any) -> None:
    # a canned answer: the emulator never echoes a token, a proxy or a plug-in might
    message = f"Bad token {SECRET} - the certificate is fine - Error ID: e1"
    transport = httpx.MockTransport(lambda request: httpx.Response(400, json={"message": message}))
    tower = make_client("https://tower.example.org/api", SECRET, 7, transport=transport)
    with pytest.raises(BadRequestError) as caught:
        list(tower.list_workflows())
    assert str(caught.value) == (
        "400 GET /workflow: Bad token *** - the certificate is fine (Error ID: e1)"
    )


@pytest.mark.parametrize("operation", ["launch", "ensure_run"])
def test_a_well_formed_token_tower_does_not_know_is_one_403_not_a_retry_storm(
    operation: str, tower_emulator: TowerEmulator, make_client: Any
) -> None:
    tower = make_client(tower_emulator.url, SECRET, tower_emulator.workspace_id)
    with pytest.raises(AuthenticationError) as caught:
        getattr(tower, operation)("hello", run_name="nightly")
    assert "the access token is invalid or expired" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert len(tower_emulator.requests) == 1
    assert tower_emulator.launches == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("user_agent", "nightly\nX-Injected: 1"),
        ("user_agent", "caf\u00e9"),
        ("accept_version", "1\r\n2"),
    ],
    ids=["user_agent newline", "user_agent non-ASCII", "accept_version newline"],
)
def test_header_options_must_be_one_line_of_ascii(
    option: str, value: str, tower_emulator: TowerEmulator
) -> None:
    with pytest.raises(
        TowerConfigError, match=f"{option} must be printable ASCII text on one line"
    ):
        TowerClient(tower_emulator.url, SECRET, **{option: value})
    assert tower_emulator.requests == []
