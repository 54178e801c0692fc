"""Validate HTTP exchanges against the official Seqera Platform OpenAPI schema.

The schema is Seqera API 1.187.0, ``specs/seqera-api-cloud.yaml`` of
seqeralabs/terraform-provider-seqera, expected at ``<repo>/../shared/tower-api/seqera-api.yaml``
(override with ``NFTOWER_OPENAPI_SCHEMA``). When it is missing, :func:`require_schema` skips
the calling test with a message saying so.

Use :func:`validate_exchange` on a :class:`~nftower.testing.RecordedRequest` (one exchange
recorded by the emulator), e.g. on every request of a whole client session::

    for record in emulator.requests:
        validate_exchange(record)

The schema is parsed once per process. Its known gaps and errors are patched in ONE place,
:func:`openapi_relax.relax`; nothing else bends the schema and no operation is skipped. On top
of the schema, two checks are stricter than OpenAPI's defaults, because they catch the typical
client bug (a misspelt field or parameter silently ignored by the server): unknown object
properties and undeclared query parameters are reported.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import yaml
from openapi_relax import SCHEMAS_REF, relax, resolve

SCHEMA_DESCRIPTION = (
    "Seqera API 1.187.0 (seqeralabs/terraform-provider-seqera specs/seqera-api-cloud.yaml)"
)
SCHEMA_PATH = Path(
    os.environ.get(
        "NFTOWER_OPENAPI_SCHEMA",
        Path(__file__).resolve().parents[2].parent / "shared" / "tower-api" / "seqera-api.yaml",
    )
)


class ContractError(AssertionError):
    """An exchange does not match the schema; the message lists every problem."""


def require_schema() -> None:
    """Skip the calling test when the schema file is not available."""
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"OpenAPI schema not found at {SCHEMA_PATH}: it is {SCHEMA_DESCRIPTION}")


# -- loading (once per process) ----------------------------------------------------------------
@functools.cache
def load_spec() -> dict[str, Any]:
    """The relaxed schema as a dict (parsed once)."""
    require_schema()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        return relax(yaml.load(handle, Loader=loader))


@functools.cache
def _openapi() -> Any:
    from openapi_core import Config, OpenAPI

    return OpenAPI.from_dict(load_spec(), config=Config(spec_validator_cls=None))


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    """Path templates as regexes, literal paths first (``/workflow/launch`` before
    ``/workflow/{workflowId}``)."""
    found = []
    for template in load_spec()["paths"]:
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        found.append((re.compile(f"^{pattern}$"), template))
    return sorted(found, key=lambda item: (item[1].count("{"), item[1]))


def operation_for(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The path template and operation object serving ``method path``."""
    for pattern, template in _templates():
        if pattern.match(path):
            operation = load_spec()["paths"][template].get(method.lower())
            if operation is not None:
                return template, operation
    raise ContractError(f"{method} {path}: no such operation in {SCHEMA_DESCRIPTION}")


# -- validation --------------------------------------------------------------------------------
def _errors(exc: BaseException) -> str:
    parts = [str(exc)]
    cause: BaseException | None = exc.__cause__
    while cause is not None:
        details = getattr(cause, "schema_errors", None)
        if details:
            parts += [
                f"  - {getattr(e, 'message', e)} at {list(getattr(e, 'path', []))}" for e in details
            ]
        else:
            parts.append(f"  caused by: {cause}")
        cause = cause.__cause__
    return "\n".join(parts)


_BOUNDARY = "nftower-contract"


def multipart_body(form: dict[str, Any]) -> bytes:
    """A ``multipart/form-data`` body with the recorded parts (file contents as placeholders).

    ``form`` is a record's summary: part name -> ``{"filename", "content_type", "size"}``.
    """
    chunks = []
    for name, part in form.items():
        disposition = f'form-data; name="{name}"'
        if part.get("filename"):
            disposition += f'; filename="{part["filename"]}"'
        media = part.get("content_type") or "application/octet-stream"
        chunks.append(
            f"--{_BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Type: {media}\r\n\r\nplaceholder\r\n"
        )
    return ("".join(chunks) + f"--{_BOUNDARY}--\r\n").encode()


def _request(
    method: str,
    path: str,
    query_string: str,
    body: Any,
    headers: dict[str, str],
    form: dict[str, Any] | None = None,
) -> Any:
    from openapi_core.testing import MockRequest

    if form is not None:
        return MockRequest(
            "http://tower.test",
            method,
            path,
            args=_multi(query_string),
            headers={"Authorization": "Bearer placeholder", **headers},
            data=multipart_body(form),
            content_type=f"multipart/form-data; boundary={_BOUNDARY}",
        )
    data = None if body is None else json.dumps(body).encode()
    return MockRequest(
        "http://tower.test",
        method,
        path,
        args=_multi(query_string),
        headers={"Authorization": "Bearer placeholder", **headers},
        data=data,
    )


def _multi(query_string: str) -> Any:
    from werkzeug.datastructures import MultiDict

    return MultiDict(parse_qsl(query_string, keep_blank_values=True))


def request_problems(
    method: str,
    path: str,
    query: str | dict[str, Any] | None = None,
    body: Any = None,
    form: dict[str, Any] | None = None,
) -> list[str]:
    """Problems of a request (parameters, body); an empty list means it conforms.

    The recorded request never holds the token, so a placeholder bearer token is supplied.
    """
    query_string = query if isinstance(query, str) else urlencode(query or {}, doseq=True)
    try:
        template, operation = operation_for(method, path)
    except ContractError as exc:
        return [str(exc)]
    problems = []
    declared = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
    unknown = sorted({k for k, _ in parse_qsl(query_string, keep_blank_values=True)} - declared)
    if unknown:
        problems.append(f"undeclared query parameters {unknown} for {method} {template}")
    if form is not None:
        problems += _form_problems(operation, form, f"{method} {template}")
    request = _request(method, path, query_string, body, {}, form)
    problems += [_errors(error) for error in _openapi().iter_request_errors(request)]
    return problems


def _form_problems(operation: dict[str, Any], form: dict[str, Any], name: str) -> list[str]:
    """A multipart request: the operation takes one, with exactly the declared parts."""
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" not in content:
        return [f"{name} does not take a multipart/form-data body"]
    schemas = load_spec()["components"]["schemas"]
    schema = resolve(content["multipart/form-data"].get("schema", {}), schemas)
    unknown = sorted(set(form) - set(schema.get("properties", {})))
    return [f"undeclared multipart parts {unknown} for {name}"] if unknown else []


def response_problems(
    method: str,
    path: str,
    status: int,
    body: Any,
    query: str | dict[str, Any] | None = None,
    content_type: str | None = None,
) -> list[str]:
    """Problems of a response (status declared, media type, JSON body shape).

    A file (``content_type`` other than JSON, e.g. ``text/plain``) is checked for its status
    and media type; its bytes are not recorded.
    """
    from openapi_core.testing import MockResponse

    query_string = query if isinstance(query, str) else urlencode(query or {}, doseq=True)
    try:
        _, operation = operation_for(method, path)
    except ContractError as exc:
        return [str(exc)]
    if str(status) not in operation.get("responses", {}):
        return [f"status {status} is not declared for {method} {path}"]
    data = b"" if body is None else json.dumps(body).encode()
    request = _request(method, path, query_string, None, {})
    media = (content_type or "application/json").split(";")[0].strip()
    if media != "application/json":
        data = b"file content (not recorded)"
    response = MockResponse(data, status, content_type=media)
    return [_errors(error) for error in _openapi().iter_response_errors(request, response)]


def recorded_query(record: Any) -> str:
    """The query of a record: its raw ``query_string`` plus any parameter only in ``query``.

    A record may carry either (one built by hand often sets only ``query``); every parameter
    named in one of them is checked, values from the raw query string first.
    """
    pairs = parse_qsl(getattr(record, "query_string", "") or "", keep_blank_values=True)
    named = {name for name, _ in pairs}
    extra = [
        (k, str(v)) for k, v in (getattr(record, "query", None) or {}).items() if k not in named
    ]
    return urlencode(pairs + extra)


def missing_properties(method: str, path: str, status: int, body: Any) -> list[str]:
    """Declared properties absent from a response body, as ``<DTO>.<property> at <where>``.

    Tower serialises every property of its DTOs (``null`` where unset); this walks the body
    along the operation's response schema (``$ref``, ``allOf``, arrays, maps and
    discriminated ``oneOf``) and lists each declared, readable property that is missing.
    """
    try:
        _, operation = operation_for(method, path)
    except ContractError as exc:
        return [str(exc)]
    answer = operation.get("responses", {}).get(str(status)) or {}
    schema = ((answer.get("content") or {}).get("application/json") or {}).get("schema")
    if schema is None or body is None:
        return []
    found: list[str] = []
    _walk_missing(schema, body, "$", found, load_spec()["components"]["schemas"])
    return found


def _walk_missing(
    schema: dict[str, Any], value: Any, where: str, found: list[str], schemas: dict[str, Any]
) -> None:
    name = ""
    while True:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.removeprefix(SCHEMAS_REF)
            schema = schemas[name]
        elif isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
            schema = schema["allOf"][0]
        else:
            break
    discriminator = schema.get("discriminator")
    if isinstance(discriminator, dict) and isinstance(value, dict):
        target = (discriminator.get("mapping") or {}).get(value.get(discriminator["propertyName"]))
        if isinstance(target, str) and target.removeprefix(SCHEMAS_REF) != name:
            _walk_missing({"$ref": target}, value, where, found, schemas)
            return
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _walk_missing(schema["items"], item, f"{where}[{index}]", found, schemas)
        return
    if not isinstance(value, dict):
        return
    properties = schema.get("properties") or {}
    for prop, declared in properties.items():
        if not isinstance(declared, dict) or declared.get("writeOnly"):
            continue
        if prop not in value:
            found.append(f"{name or 'object'}.{prop} at {where}")
        elif value[prop] is not None:
            _walk_missing(declared, value[prop], f"{where}.{prop}", found, schemas)
    extra = schema.get("additionalProperties")
    if not properties and isinstance(extra, dict) and extra:
        for key, item in value.items():
            _walk_missing(extra, item, f"{where}.{key}", found, schemas)


def exchange_problems(record: Any) -> list[str]:
    """Problems of one recorded exchange (a ``RecordedRequest``): undeclared query parameters,
    request body and response against the schema (unknown properties included), and for a
    success every declared property present (:func:`missing_properties`)."""
    query = recorded_query(record)
    form = getattr(record, "form", None)
    problems = request_problems(record.method, record.path, query, record.json, form)
    if record.status is not None and record.fault != "malformed_json":
        problems += response_problems(
            record.method,
            record.path,
            record.status,
            record.response_json,
            query,
            getattr(record, "response_content_type", None),
        )
        if record.status < 300:
            missing = missing_properties(
                record.method, record.path, record.status, record.response_json
            )
            if missing:
                problems.append("declared properties missing: " + ", ".join(missing))
    return problems


def validate_exchange(record: Any) -> None:
    """Raise :class:`ContractError` unless the recorded exchange conforms to the schema.

    Dropped connections have no response to check; an injected ``malformed_json`` body is
    deliberately broken and only its request is checked.
    """
    problems = exchange_problems(record)
    if problems:
        raise ContractError(
            f"{record.method} {record.path} -> {record.status}:\n" + "\n".join(problems)
        )


def validate_session(records: Any) -> int:
    """Validate every exchange of a session; returns how many were checked."""
    failures = []
    count = 0
    for record in records:
        count += 1
        problems = exchange_problems(record)
        if problems:
            failures.append(
                f"{record.method} {record.path} -> {record.status}: " + "; ".join(problems)
            )
    if failures:
        raise ContractError("\n".join(failures))
    return count
