"""TLS against a real https server on loopback (a throwaway CA from trustme): certificates are
checked by default, ``verify=`` takes a CA bundle or ``False`` (one warning), the CA variables
of requests-based tools apply, and a certificate failure is never retried."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ClientFactory
from loopback_servers import Certificates, RecordingServer, make_certificates, recording_server
from nftower import TowerConfig, TowerConfigError, TowerTLSError

CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


@pytest.fixture(autouse=True)
def _no_ca_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A second CA that did not sign the server's certificate."""
    return make_certificates(tmp_path_factory.mktemp("other"))


@pytest.fixture(scope="module")
def https_server(certs: Certificates) -> Iterator[RecordingServer]:
    with recording_server(tls=certs.tls) as server:
        yield server


def _attempts(caplog: pytest.LogCaptureFixture) -> int:
    return sum("GET /service-info ->" in r.getMessage() for r in caplog.records)


def test_self_signed_certificate_fails_once_with_the_ca_options(
    https_server: RecordingServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="nftower")
    client = make_client(https_server.url, "tls-token-0123456789", max_retries=5)
    with pytest.raises(TowerTLSError) as caught:
        client.service_info()
    text = str(caught.value)
    assert "certificate verify failed" in text or "self-signed" in text or "unable to get" in text
    assert "trusted CAs: certifi's bundle" in text
    assert "verify='/path/to/ca-bundle.pem'" in text
    assert "REQUESTS_CA_BUNDLE" in text
    assert "SSL_CERT_FILE" in text
    assert "Not retried" in text
    assert caught.value.request_sent is False
    assert "tls-token-0123456789" not in text
    assert _attempts(caplog) == 1, "a certificate failure was retried"
    assert not any("Retrying" in r.getMessage() for r in caplog.records)


def test_verify_takes_a_ca_bundle_path(
    https_server: RecordingServer, certs: Certificates, make_client: ClientFactory
) -> None:
    client = make_client(https_server.url, "t0123456789abcdef", verify=certs.ca_file)
    assert client.service_info().version == "24.1.0"
    assert client.config.verify == certs.ca_file


def test_verify_from_a_config_object(https_server: RecordingServer, certs: Certificates) -> None:
    from nftower import TowerClient

    config = TowerConfig(api_url=https_server.url, token="t0123456789abcdef", verify=certs.ca_file)
    with TowerClient(config=config) as client:
        assert client.service_info().version == "24.1.0"


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"])
def test_ca_variables_of_requests_based_tools_apply(
    variable: str,
    https_server: RecordingServer,
    certs: Certificates,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(variable, certs.ca_file)
    assert make_client(https_server.url, "t0123456789abcdef").service_info().version == "24.1.0"


def test_requests_ca_bundle_wins_over_ssl_cert_file_and_is_named(
    https_server: RecordingServer,
    certs: Certificates,
    other_ca: Certificates,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", other_ca.ca_file)
    monkeypatch.setenv("SSL_CERT_FILE", certs.ca_file)
    expected = re.escape(f"trusted CAs: REQUESTS_CA_BUNDLE={other_ca.ca_file}")
    with pytest.raises(TowerTLSError, match=expected):
        make_client(https_server.url, "t0123456789abcdef", max_retries=2).service_info()


def test_an_explicit_verify_wins_over_the_environment(
    https_server: RecordingServer,
    certs: Certificates,
    other_ca: Certificates,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", other_ca.ca_file)
    client = make_client(https_server.url, "t0123456789abcdef", verify=certs.ca_file)
    assert client.service_info().version == "24.1.0"


def test_an_empty_ca_variable_never_turns_checking_off(
    https_server: RecordingServer, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")
    monkeypatch.setenv("CURL_CA_BUNDLE", "")
    with pytest.raises(TowerTLSError):
        make_client(https_server.url, "t0123456789abcdef", max_retries=1).service_info()


def test_verify_false_works_with_exactly_one_warning(
    https_server: RecordingServer, make_client: ClientFactory
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = make_client(https_server.url, "t0123456789abcdef", verify=False)
        for _ in range(3):
            assert client.service_info().version == "24.1.0"
    insecure = [w for w in caught if "verify=False" in str(w.message)]
    assert len(insecure) == 1, [str(w.message) for w in caught]
    assert insecure[0].category is UserWarning
    assert https_server.url in str(insecure[0].message)
    assert "t0123456789abcdef" not in str(insecure[0].message)


def test_verify_false_on_plain_http_warns_nothing(make_client: ClientFactory) -> None:
    with recording_server() as server, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert make_client(server.url, "t0123456789abcdef", verify=False).service_info()
    assert not [w for w in caught if "verify=False" in str(w.message)]


def test_a_certificate_for_another_host_name_is_refused_once(
    tmp_path: Path, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = make_certificates(tmp_path, "tower.example.org")
    caplog.set_level(logging.DEBUG, logger="nftower")
    with recording_server(tls=wrong.tls) as server:
        client = make_client(server.url, "t0123456789abcdef", verify=wrong.ca_file, max_retries=5)
        with pytest.raises(TowerTLSError, match=r"(?i)hostname mismatch|not valid for"):
            client.service_info()
    assert _attempts(caplog) == 1


def test_bad_verify_values_are_refused_before_any_call(tmp_path: Path) -> None:
    with pytest.raises(TowerConfigError, match="no CA bundle at"):
        TowerConfig(token="t0123456789abcdef", verify=str(tmp_path / "missing.pem"))
    with pytest.raises(TowerConfigError, match=r"pass verify=True or verify=False \(a bool\)"):
        TowerConfig(token="t0123456789abcdef", verify="false")
    for value in ("", "   ", 3, None):
        with pytest.raises(TowerConfigError, match="verify must be True, False or the path"):
            TowerConfig(token="t0123456789abcdef", verify=value)  # type: ignore[arg-type]
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("this is not a certificate\n")
    from nftower import TowerClient

    with pytest.raises(TowerConfigError, match="cannot load CA certificates"):
        TowerClient("https://tower.example.org/api", "t0123456789abcdef", verify=str(not_pem))
    assert TowerConfig(token="t0123456789abcdef", verify=tmp_path).verify == str(tmp_path)


def test_a_missing_ca_variable_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nftower import TowerClient

    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "gone.pem"))
    with pytest.raises(TowerConfigError, match="SSL_CERT_FILE="):
        TowerClient("https://tower.example.org/api", "t0123456789abcdef")


def _hashed_directory(ca_file: str, directory: Path) -> Path:
    """A CA directory as ``c_rehash`` makes it (the certificate under its subject hash)."""
    directory.mkdir()
    shutil.copy(ca_file, directory / "acme-ca.pem")
    subprocess.run(["openssl", "rehash", str(directory)], check=True, capture_output=True)
    return directory


def test_verify_and_ssl_cert_dir_take_a_directory_of_certificates(
    https_server: RecordingServer,
    certs: Certificates,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    directory = _hashed_directory(certs.ca_file, tmp_path / "cas")
    assert (
        make_client(https_server.url, "t0123456789abcdef", verify=directory).service_info().version
    )
    monkeypatch.setenv("SSL_CERT_DIR", str(directory))
    assert make_client(https_server.url, "t0123456789abcdef").service_info().version == "24.1.0"


def test_clients_share_one_context_per_bundle_and_a_new_bundle_is_read(
    certs: Certificates, other_ca: Certificates, tmp_path: Path
) -> None:
    from nftower import TowerClient

    bundle = tmp_path / "bundle.pem"
    shutil.copy(certs.ca_file, bundle)
    url = "https://tower.example.org/api"
    with (
        TowerClient(url, "t0123456789abcdef", verify=str(bundle)) as first,
        TowerClient(url, "t0123456789abcdef", verify=str(bundle)) as second,
    ):
        assert first._trust.context is second._trust.context
        shutil.copy(other_ca.ca_file, bundle)
        os.utime(bundle, ns=(1, 1))
        with TowerClient(url, "t0123456789abcdef", verify=str(bundle)) as third:
            assert third._trust.context is not first._trust.context
