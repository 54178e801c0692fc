"""The connection's Test button against servers that are not the Tower API (a redirect to a
login page, http moved to https, an empty 200) and over TLS with the ``verify`` extra: never
"Connected" to something that is not Tower, and the token never in the message."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_servers import Certificates, RecordingServer, make_certificates, recording_server
from nftower_airflow._connection import verify_from_extra
from nftower_airflow.hooks import TowerHook
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

TOKEN = "airflow-answers-token-0123456789"
API_HINT = "api_url should be the API"


@pytest.fixture(autouse=True)
def _no_ca_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NFTOWER_RATE_LIMIT_BACKEND", "memory://")


def _use(monkeypatch: pytest.MonkeyPatch, url: str, **extra: object) -> None:
    conn = {"conn_type": "tower", "host": url, "password": TOKEN, "extra": {**extra}}
    monkeypatch.setenv("AIRFLOW_CONN_TOWER_DEFAULT", json.dumps(conn))


def tower_answers(request: Request) -> Response:
    """What Tower answers to the Test button's reads (personal workspace)."""
    if request.url.path.endswith("/service-info"):
        return JSONResponse({"serviceInfo": {"version": "24.1.0"}})
    if request.url.path.endswith("/user-info"):
        return JSONResponse({"user": {"id": 7, "userName": "ada"}})
    return JSONResponse({"message": "Not found"}, status_code=404)


def _refused(monkeypatch: pytest.MonkeyPatch, server: RecordingServer) -> str:
    _use(monkeypatch, f"{server.url}/api", max_retries=0)
    ok, message = TowerHook().test_connection()
    assert not ok, message
    assert "Connected" not in message
    assert TOKEN not in message
    return message


def test_a_web_ui_redirect_to_its_login_page_fails_the_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with recording_server(lambda r: RedirectResponse("/login", status_code=302)) as server:
        message = _refused(monkeypatch, server)
        assert len(server.seen) == 1
    assert "302" in message
    assert API_HINT in message


def test_http_moved_to_https_fails_the_test_naming_the_https_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def to_https(request: Request) -> Response:
        return RedirectResponse(str(request.url.replace(scheme="https")), status_code=301)

    with recording_server(to_https) as server:
        message = _refused(monkeypatch, server)
    assert "use the https URL, api_url='https://" in message


def test_an_empty_200_fails_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    with recording_server(lambda r: Response(b"", 200)) as server:
        message = _refused(monkeypatch, server)
    assert "empty body" in message
    assert API_HINT in message


def test_a_user_answer_without_a_user_name_fails_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    def nameless(request: Request) -> Response:
        if request.url.path.endswith("/user-info"):
            return JSONResponse({"user": {"id": 7}})
        return tower_answers(request)

    with recording_server(nameless) as server:
        message = _refused(monkeypatch, server)
    assert "names no user" in message


# --- TLS and the verify extra -------------------------------------------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https_tower(certs: Certificates) -> Iterator[RecordingServer]:
    with recording_server(tower_answers, tls=certs.tls) as server:
        yield server


def test_the_verify_extra_takes_a_ca_bundle(
    https_tower: RecordingServer, certs: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, https_tower.url, verify=certs.ca_file)
    assert TowerHook().config.verify == certs.ca_file
    ok, message = TowerHook().test_connection()
    assert ok, message
    assert message == "Connected to Tower (24.1.0) as ada, personal workspace."


def test_without_the_ca_the_test_names_the_verify_options(
    https_tower: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, https_tower.url, max_retries=3)
    ok, message = TowerHook().test_connection()
    assert not ok
    assert "TLS certificate verification failed" in message
    assert "verify=" in message
    assert "REQUESTS_CA_BUNDLE" in message


def test_requests_ca_bundle_applies_to_the_hook(
    https_tower: RecordingServer, certs: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certs.ca_file)
    _use(monkeypatch, https_tower.url)
    ok, message = TowerHook().test_connection()
    assert ok, message


def test_verify_false_in_the_extra_connects_with_one_warning(
    https_tower: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, https_tower.url, verify="false")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ok, message = TowerHook().test_connection()
    assert ok, message
    assert len([w for w in caught if "verify=False" in str(w.message)]) == 1


def test_a_missing_ca_bundle_in_the_extra_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, "https://tower.example.org/api", verify=str(tmp_path / "gone.pem"))
    ok, message = TowerHook().test_connection()
    assert not ok
    assert "no CA bundle at" in message


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("No", False),
        ("0", False),
        ("/ca.pem", "/ca.pem"),
    ],
)
def test_verify_extra_values(extra: object, expected: object) -> None:
    assert verify_from_extra(extra) == expected
