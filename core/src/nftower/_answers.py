"""Checking that an answer is the API's before it is read: redirects, empty bodies, HTML pages,
JSON that does not parse or has the wrong shape. Pure functions of the call and the response.

A redirect, an empty 200 or a web page is what a server that is not the Tower API answers:
``api_url`` pointing at the web UI, a proxy sending to a login page, an ``http://`` URL moved to
``https://``. Read as "no data", each would look like success (a run of Nones, no runs, a
cancel done). Each is an error here that says what answered and what to change.

Redirects are never followed: the client keeps httpx's ``follow_redirects=False``, so the
``Authorization`` header never goes where a redirect points. The API itself never redirects.

Example:
    >>> import httpx
    >>> from nftower._endpoints import describe_workflow
    >>> call = describe_workflow(7, "abc")
    >>> answer = httpx.Response(302, headers={"Location": "/login"},
    ...     request=httpx.Request("GET", "https://tower.example.org/workflow/abc"))
    >>> error = redirect_error(call, answer, "https://tower.example.org", str)
    >>> error.status_code, error.location
    (302, 'https://tower.example.org/login')
    >>> "api_url should be the API, e.g. https://tower.example.org/api" in error.message
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import ValidationError

from ._answer_errors import InvalidResponseError, RedirectError
from ._api_errors import api_error
from ._endpoints import Call
from ._exceptions import TowerAPIError
from ._retry import parse_retry_after

__all__ = [
    "body_excerpt", "error_body_message", "parse_answer", "redirect_error", "shape_error",
    "status_error",
]  # fmt: skip

Scrub = Callable[[str], str]

_TITLE = re.compile(r"<title[^>]*>(?P<title>.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_LOGIN = re.compile(r"log-?in|sign-?in|sso|oauth|openid|saml|auth", re.IGNORECASE)
_EXCERPT = 160
_JSON_NAMES: dict[type[Any], str] = {dict: "the object", list: "the list", str: "the string"}


def body_excerpt(response: httpx.Response, scrub: Scrub) -> str:
    """A short, quoted, whitespace-squeezed start of the body (the token scrubbed out)."""
    try:
        text = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):  # pragma: no cover - defensive
        return "'<unreadable body>'"
    return repr(_cut(scrub(re.sub(r"\s+", " ", text).strip())))


def _cut(text: str) -> str:
    """The start of ``text``, already scrubbed: a cut never leaves a piece of the token."""
    return text[:_EXCERPT] + ("..." if len(text) > _EXCERPT else "")


def _is_html(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").lower()
    if "html" in kind:
        return True
    start = response.content.lstrip()[:15].lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _html_title(response: httpx.Response, scrub: Scrub) -> str:
    """``an HTML page titled '...'`` (or with the start of its text when it has no title)."""
    match = _TITLE.search(response.text)
    title = scrub(re.sub(r"\s+", " ", match["title"]).strip()) if match else ""
    if title:
        return f"an HTML page titled {title[:_EXCERPT]!r}"
    cut = _cut(scrub(re.sub(r"\s+", " ", _TAG.sub(" ", response.text)).strip()))
    return f"an HTML page ({cut!r})" if cut else "an HTML page"


def error_body_message(response: httpx.Response, scrub: Scrub) -> str:
    """The words for an error status whose body is not Tower's JSON error (a proxy's page)."""
    status = response.status_code
    if _is_html(response):
        return (
            f"HTTP {status} with {_html_title(response, scrub)}, not a JSON error body: probably "
            "a proxy or load balancer in front of Tower answered"
        )
    return f"HTTP {status} (not a JSON error body: {body_excerpt(response, scrub)})"


def status_error(
    call: Call, response: httpx.Response, scrub: Scrub, settings_hint: str | None = None
) -> TowerAPIError:
    """The :class:`~nftower.TowerAPIError` for a 4xx / 5xx answer: Tower's JSON error message
    (with its details and Error ID), or words for a body that is not one (a proxy's page).
    ``settings_hint`` says where the settings come from (for access errors)."""
    message: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]
        details = [
            str(item.get("message"))
            for item in body.get("errors") or []
            if isinstance(item, dict) and item.get("message")
        ]
        if details:
            message = f"{message} [{'; '.join(details)}]"
    elif response.content.strip():
        message = error_body_message(response, scrub)
    return api_error(
        response.status_code,
        call.operation,
        scrub(message) if message else None,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
        settings_hint=settings_hint,
    )


def _api_hint(api_url: str) -> str:
    """What ``api_url`` should be, with an example built from its host."""
    parts = urlsplit(api_url)
    if parts.path.rstrip("/").endswith("/api") or (parts.hostname or "").startswith("api."):
        return (
            "api_url should be the API (Tower Enterprise: https://<host>/api, Seqera Cloud: "
            "https://api.cloud.seqera.io), reachable with the access token alone, not through a "
            "proxy that asks for a login"
        )
    example = urlunsplit((parts.scheme or "https", parts.netloc, "/api", "", ""))
    return (
        f"api_url should be the API, e.g. {example} (Seqera Cloud: https://api.cloud.seqera.io), "
        "not the web UI or a login page"
    )


def redirect_error(
    call: Call, response: httpx.Response, api_url: str, scrub: Scrub
) -> RedirectError:
    """The error for a 3xx answer, saying what the redirect means and what to change."""
    status = response.status_code
    raw_location = response.headers.get("location", "")
    target = response.request.url.join(raw_location) if raw_location else None
    location = str(target.copy_with(query=None, fragment=None)) if target else None
    source = urlsplit(api_url)
    where = f"a redirect to {scrub(location)}" if location else "a redirect with no Location"
    if (
        target is not None
        and (source.scheme, target.scheme) == ("http", "https")
        and (target.host == source.hostname)
    ):
        fixed = urlunsplit(("https", source.netloc, source.path, "", ""))
        advice = f"this Tower is served over https: use the https URL, api_url={fixed!r}"
    elif target is not None and (target.host != source.hostname or _LOGIN.search(target.path)):
        advice = (
            "that is a login or single sign-on page, which the API never answers with (it "
            "takes the access token alone); " + _api_hint(api_url)
        )
    else:
        advice = f"{api_url} looks like the web UI, not the API; {_api_hint(api_url)}"
    return RedirectError(
        f"The server at {api_url} answered with {where} instead of an API answer: {advice}. "
        "Redirects are not followed, so the access token was not sent there.",
        status_code=status,
        operation=call.operation,
        location=scrub(location) if location else None,
    )


def _invalid(
    call: Call, response: httpx.Response, who: str, what: str, advice: str, *, retryable: bool
) -> InvalidResponseError:
    return InvalidResponseError(
        f"{who} answered HTTP {response.status_code} with {what}: {advice}",
        operation=call.operation,
        status_code=response.status_code,
        retryable=retryable,
    )


def parse_answer(call: Call, response: httpx.Response, api_url: str, scrub: Scrub) -> Any:
    """The parsed JSON of a 2xx answer, once it is shown to be the API's (else an error).

    ``call.answer`` says what the API answers: ``"object"`` (a JSON object, with a value of
    the type ``call.key`` names when set), ``"none"`` (204 No Content) or ``"any"`` (the
    ``request()`` escape hatch: any JSON, or nothing). An empty body, an HTML page or a JSON
    object without its key is not retried (the server is not the API); JSON that does not
    parse (cut short) is.
    """
    status, body = response.status_code, response.content.strip()
    if body and _is_html(response):
        return _not_the_api(call, response, api_url, _html_title(response, scrub))
    if call.answer == "none" and status == 204:
        return None
    if not body:
        if call.answer == "any":
            return None
        expected = "204 No Content" if call.answer == "none" else "JSON"
        what = f"an empty body where the Tower API answers {expected}"
        return _not_the_api(call, response, api_url, what)
    try:
        data = response.json()
    except ValueError:
        raise _invalid(
            call,
            response,
            "Tower",
            f"a body that is not valid JSON (cut short?): {body_excerpt(response, scrub)}",
            "retried where that is safe (reads), never for the launch",
            retryable=True,
        ) from None
    if call.answer == "object" and not isinstance(data, dict):
        found = "a JSON array" if isinstance(data, list) else f"JSON {type(data).__name__}"
        what = f"{found} where the Tower API answers an object: {body_excerpt(response, scrub)}"
        return _not_the_api(call, response, api_url, what)
    if call.key is not None and isinstance(data, dict):
        name, kind = call.key
        if not isinstance(data.get(name), kind):
            what = f"a JSON object without {_JSON_NAMES[kind]} {name!r}: "
            return _not_the_api(call, response, api_url, what + body_excerpt(response, scrub))
    return data


def _not_the_api(call: Call, response: httpx.Response, api_url: str, what: str) -> Any:
    """Raise the (not retried) error for a 2xx answer that the Tower API never gives."""
    advice = f"that is no answer of the Tower API. {_api_hint(api_url)}"
    raise _invalid(call, response, f"The server at {api_url}", what, advice, retryable=False)


def shape_error(call: Call, exc: ValidationError) -> InvalidResponseError:
    """The error for an answer whose fields have the wrong types (instead of pydantic's)."""
    problems = []
    for item in exc.errors(include_url=False)[:3]:
        where = ".".join(str(part) for part in item.get("loc", ())) or "the answer"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    return InvalidResponseError(
        f"Tower's answer has the wrong shape for {exc.title} ({'; '.join(problems)}{more}): "
        "that is not an answer of the Tower API version nftower knows",
        operation=call.operation,
        retryable=False,
    )
