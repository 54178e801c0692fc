"""Answers that are not the API's never read as success: redirects (the web UI, a login page,
http -> https, single sign-on), empty 200s, HTML pages, JSON that does not parse or has the
wrong shape. Each is a clear error naming what answered and what to change, against a real
server on loopback that records what it got; a redirect is never followed with the token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ClientFactory
from loopback_servers import RecordingServer, recording_server
from nftower import (
    InvalidResponseError,
    LaunchOutcomeUnknownError,
    RedirectError,
    ServerError,
    TowerError,
)
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

TOKEN = "answers-token-0123456789abcdef"
API_HINT = "api_url should be the API, e.g. "

#: each operation that used to read a bad answer as an empty result, and how to call it
OPERATIONS: dict[str, Callable[[Any], Any]] = {
    "get_workflow": lambda tower: tower.get_workflow("4Bi5xBK6E2Nbhj"),
    "list_workflows": lambda tower: list(tower.list_workflows()),
    "cancel": lambda tower: tower.cancel("4Bi5xBK6E2Nbhj"),
    "launch": lambda tower: tower.launch("https://github.com/nextflow-io/hello"),
    "user_info": lambda tower: tower.user_info(),
    "find_workflow": lambda tower: tower.find_workflow("nightly-1"),
}


def client_of(make_client: ClientFactory, server: RecordingServer, **options: Any) -> Any:
    return make_client(server.url, TOKEN, 7, **options)


def launches(server: RecordingServer) -> int:
    return sum(s.method == "POST" and s.path.endswith("/workflow/launch") for s in server.seen)


# --- redirects --------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_the_web_ui_redirecting_to_its_login_page_is_an_error_naming_the_fix(
    operation: str, make_client: ClientFactory, fast_sleep: list[float]
) -> None:
    with recording_server(lambda r: RedirectResponse("/login", status_code=302)) as server:
        tower = client_of(make_client, server)
        with pytest.raises(RedirectError) as caught:
            OPERATIONS[operation](tower)
        assert len(server.seen) == 1, "a redirect was followed or retried"
        assert launches(server) == 0
    error = caught.value
    assert error.status_code == 302
    assert error.location == f"{server.url}/login"
    text = str(error)
    assert f"a redirect to {server.url}/login" in text
    assert API_HINT in text
    assert "not followed" in text
    assert TOKEN not in text
    assert not fast_sleep


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_origin_never_carries_the_token(
    status: int, make_client: ClientFactory
) -> None:
    with recording_server() as elsewhere:
        target = f"{elsewhere.url}/api/workflow/4Bi5xBK6E2Nbhj"
        with recording_server(lambda r: RedirectResponse(target, status_code=status)) as origin:
            with pytest.raises(RedirectError) as caught:
                client_of(make_client, origin).get_workflow("4Bi5xBK6E2Nbhj")
            assert origin.authorizations() == [f"Bearer {TOKEN}"]
        assert elsewhere.seen == [], "the redirect was followed"
        assert TOKEN not in "".join(str(s.headers) for s in elsewhere.seen)
    assert caught.value.location == target


def test_http_moved_to_https_says_use_the_https_url(make_client: ClientFactory) -> None:
    def to_https(request: Request) -> Response:
        return RedirectResponse(str(request.url.replace(scheme="https")), status_code=301)

    with recording_server(to_https) as server:
        with pytest.raises(RedirectError) as caught:
            client_of(make_client, server).get_workflow("4Bi5xBK6E2Nbhj")
        https_api = server.url.replace("http://", "https://")
    text = str(caught.value)
    assert caught.value.status_code == 301
    assert f"use the https URL, api_url={https_api!r}" in text


def test_an_api_url_that_already_ends_in_api_gets_the_proxy_hint(
    make_client: ClientFactory,
) -> None:
    with (
        recording_server(lambda r: RedirectResponse("/", status_code=302)) as server,
        pytest.raises(RedirectError) as caught,
    ):
        make_client(f"{server.url}/api", TOKEN, 7).get_workflow("4Bi5xBK6E2Nbhj")
    text = str(caught.value)
    assert f"{server.url}/api looks like the web UI, not the API" in text
    assert "Tower Enterprise: https://<host>/api, Seqera Cloud: https://api.cloud.seqera.io" in text
    assert "not through a proxy that asks for a login" in text


def test_an_api_host_gets_no_api_path_suggested() -> None:
    import httpx
    from nftower._answers import redirect_error
    from nftower._endpoints import user_info

    request = httpx.Request("GET", "https://api.cloud.seqera.io/user-info")
    answer = httpx.Response(302, headers={"Location": "https://cloud.seqera.io/"}, request=request)
    text = redirect_error(user_info(), answer, "https://api.cloud.seqera.io", str).message
    assert "api.cloud.seqera.io/api" not in text
    assert "Seqera Cloud: https://api.cloud.seqera.io" in text


def test_a_single_sign_on_redirect_names_the_login_page_without_its_query(
    make_client: ClientFactory,
) -> None:
    with recording_server() as idp:
        sso = f"{idp.url}/oauth2/authorize?client_id=tower&state=s3cr3t-state"
        with (
            recording_server(lambda r: RedirectResponse(sso, status_code=302)) as proxy,
            pytest.raises(RedirectError) as caught,
        ):
            client_of(make_client, proxy).user_info()
        assert idp.seen == []
    text = str(caught.value)
    assert "login or single sign-on page" in text
    assert API_HINT in text
    assert caught.value.location == f"{idp.url}/oauth2/authorize"
    assert "s3cr3t-state" not in text


# --- 2xx answers that are not the API's -----------------------------------------------------


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_an_empty_200_is_an_error_not_an_empty_result(
    operation: str, make_client: ClientFactory, fast_sleep: list[float]
) -> None:
    with recording_server(lambda r: Response(b"", status_code=200)) as server:
        tower = client_of(make_client, server)
        with pytest.raises(TowerError) as caught:
            OPERATIONS[operation](tower)
        assert len(server.seen) == 1, "an empty answer was retried"
    error = caught.value
    assert isinstance(error, InvalidResponseError)
    text = str(error)
    assert "answered HTTP 200 with an empty body" in text
    assert API_HINT in text
    assert "no primary compute environment" not in text
    assert not fast_sleep


def test_the_web_ui_page_is_an_error_with_its_title(make_client: ClientFactory) -> None:
    page = "<!DOCTYPE html><html><head><title>Seqera</title></head><body>app</body></html>"
    with recording_server(lambda r: Response(page, media_type="text/html")) as server:
        with pytest.raises(InvalidResponseError) as caught:
            list(client_of(make_client, server).list_workflows())
        assert len(server.seen) == 1
    assert "an HTML page titled 'Seqera'" in str(caught.value)
    assert API_HINT in str(caught.value)
    assert caught.value.retryable is False


def test_a_json_list_where_an_object_is_expected_is_a_clear_error(
    make_client: ClientFactory,
) -> None:
    with (
        recording_server(lambda r: JSONResponse([{"id": "4Bi5xBK6E2Nbhj"}])) as server,
        pytest.raises(InvalidResponseError) as caught,
    ):
        client_of(make_client, server).get_workflow("4Bi5xBK6E2Nbhj")
    text = str(caught.value)
    assert text.startswith("GET /workflow/{workflowId}: ")
    assert "HTTP 200 with a JSON array where the Tower API answers an object" in text
    assert '[{"id":"4Bi5xBK6E2Nbhj"}]' in text
    assert not isinstance(caught.value.__cause__, ValidationError)


@pytest.mark.parametrize("answer", [{"status": "ok"}, {"workflow": "4Bi5xBK6E2Nbhj"}])
def test_an_object_without_its_key_is_not_a_run_of_nones(
    answer: dict[str, Any], make_client: ClientFactory
) -> None:
    with (
        recording_server(lambda r: JSONResponse(answer)) as server,
        pytest.raises(InvalidResponseError, match="without the object 'workflow'"),
    ):
        client_of(make_client, server).get_workflow("4Bi5xBK6E2Nbhj")


def test_items_of_the_wrong_shape_are_no_raw_validation_error(make_client: ClientFactory) -> None:
    answer = {"workflows": ["not-a-run"], "totalSize": 1}
    with (
        recording_server(lambda r: JSONResponse(answer)) as server,
        pytest.raises(InvalidResponseError) as caught,
    ):
        list(client_of(make_client, server).list_workflows())
    text = str(caught.value)
    assert text.startswith("GET /workflow: Tower's answer has the wrong shape for Workflow")
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_truncated_json_is_retried_then_named_with_an_excerpt(
    make_client: ClientFactory, fast_sleep: list[float]
) -> None:
    cut = b'{"workflow": {"id": "4Bi5xBK6E2Nbhj", "stat'
    with recording_server(lambda r: Response(cut, media_type="application/json")) as server:
        with pytest.raises(InvalidResponseError) as caught:
            client_of(make_client, server, max_retries=2).get_workflow("4Bi5xBK6E2Nbhj")
        assert len(server.seen) == 3
    text = str(caught.value)
    assert "Tower answered HTTP 200 with a body that is not valid JSON" in text
    assert "4Bi5xBK6E2Nbhj" in text
    assert caught.value.retryable is True
    assert len(fast_sleep) == 2


def test_a_proxys_html_502_page_is_a_server_error_with_its_title(
    make_client: ClientFactory, fast_sleep: list[float]
) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>"
    with (
        recording_server(lambda r: Response(page, 502, media_type="text/html")) as server,
        pytest.raises(ServerError) as caught,
    ):
        client_of(make_client, server, max_retries=1).get_workflow("4Bi5xBK6E2Nbhj")
    text = str(caught.value)
    assert text.startswith("502 GET /workflow/{workflowId}: ")
    assert "an HTML page titled '502 Bad Gateway'" in text
    assert "proxy or load balancer" in text


#: the token where a 160-character excerpt of the body would cut it in two
_PAST_THE_CUT = "a" * 150 + " " + TOKEN + " and more words after it"


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (_PAST_THE_CUT, 200),  # not valid JSON: an excerpt of the body
        ("<html><body><p>" + _PAST_THE_CUT + "</p></body></html>", 200),  # no title: its text
        ("<html><title>" + _PAST_THE_CUT + "</title></html>", 200),  # its title
        (_PAST_THE_CUT, 500),  # an error status without a JSON error body
    ],
    ids=["bad-json", "html-text", "html-title", "error-text"],
)
def test_an_excerpt_never_keeps_a_piece_of_the_token(
    answer: str, status: int, make_client: ClientFactory, fast_sleep: list[float]
) -> None:
    media = "text/html" if answer.startswith("<html>") else "text/plain"
    with (
        recording_server(lambda r: Response(answer, status, media_type=media)) as server,
        pytest.raises(TowerError) as caught,
    ):
        client_of(make_client, server, max_retries=0).get_workflow("4Bi5xBK6E2Nbhj")
    text = str(caught.value)
    assert "aaaaaaaa" in text  # the excerpt is there
    assert TOKEN[:8] not in text


def _tower_until_the_launch(launch_answer: Response) -> Callable[[Request], Response]:
    """Tower's answers to the reads of a launch by URL, then ``launch_answer`` to the POST."""
    env = {
        "id": "ce1",
        "name": "aws",
        "primary": True,
        "workDir": "s3://work",
        "status": "AVAILABLE",
    }

    def answer(request: Request) -> Response:
        if request.url.path.endswith("/compute-envs"):
            return JSONResponse({"computeEnvs": [env]})
        if "/compute-envs/" in request.url.path:
            return JSONResponse({"computeEnv": env})
        return launch_answer

    return answer


def test_an_empty_answer_to_the_launch_is_an_unknown_outcome_never_a_second_post(
    make_client: ClientFactory, fast_sleep: list[float]
) -> None:
    with recording_server(_tower_until_the_launch(Response(b"", 200))) as server:
        with pytest.raises(LaunchOutcomeUnknownError) as caught:
            client_of(make_client, server).launch(
                "https://github.com/nextflow-io/hello", run_name="nightly-1"
            )
        assert launches(server) == 1
    assert "empty body" in str(caught.value)
    assert "nightly-1" in str(caught.value)


def test_a_redirect_of_the_launch_is_a_redirect_error_and_one_post(
    make_client: ClientFactory,
) -> None:
    moved = RedirectResponse("/login", status_code=302)
    with recording_server(_tower_until_the_launch(moved)) as server:
        with pytest.raises(RedirectError):
            client_of(make_client, server).launch("https://github.com/nextflow-io/hello")
        assert launches(server) == 1


def test_request_escape_hatch_still_takes_any_json_and_an_empty_answer(
    make_client: ClientFactory,
) -> None:
    answers = iter([JSONResponse([1, 2]), Response(b"", 200)])
    with recording_server(lambda r: next(answers)) as server:
        tower = client_of(make_client, server)
        assert tower.request("GET", "/workflow/abc/metrics") == [1, 2]
        assert tower.request("DELETE", "/labels/3") is None


def test_a_redirected_download_is_an_error_and_writes_no_file(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    target = tmp_path / "nf-4Bi5xBK6E2Nbhj.log"
    with recording_server(lambda r: RedirectResponse("/login", status_code=302)) as server:
        with pytest.raises(RedirectError):
            client_of(make_client, server).download_run_file("4Bi5xBK6E2Nbhj", target.name, target)
        assert len(server.seen) == 1
    assert not target.exists()
