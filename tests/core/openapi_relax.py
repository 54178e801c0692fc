"""The one place where the official Seqera Platform OpenAPI schema is relaxed: its known gaps
and errors patched, each documented in :func:`relax`, so that :mod:`openapi_contract` checks
exchanges against what Tower really sends. Nothing else bends the schema.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

SCHEMAS_REF = "#/components/schemas/"
_ERROR_STATUSES = ("400", "401", "403", "404", "429", "500", "502", "503", "504")
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def relax(spec: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``spec`` with its known gaps patched (documented one by one).

    1. Nullable fields are under-declared: every schema with a ``type`` becomes nullable and
       every enum admits ``null`` (the terraform provider's nullable overlay does the same for
       most run, task and launch schemas).
    2. ``LogPage.entries`` is declared ``Iterator_String_ = {type: object}``; it is really an
       array of strings.
    3. Java ``Map<String, Object>`` fields (e.g. ``WorkflowDbDto.params``) are declared with
       ``additionalProperties: {type: object}``; their values are any JSON value.
    4. Error statuses the schema leaves out (401, 404, 429, 5xx, sometimes 400) or declares
       without a body (403) are real and carry an ``ErrorResponse``.
    5. ``POST /workflow/launch`` answers 400 with ``oneOf(ErrorResponse,
       WorkflowLaunchValidationErrorResponse)``, but every ``ErrorResponse`` also matches the
       second schema, so ``oneOf`` can never hold: body-level ``oneOf`` without a
       discriminator is checked as ``anyOf``.
    6. Strictness (not a relaxation): ``allOf`` compositions are flattened and object schemas
       without ``oneOf``/``anyOf`` reject unknown properties.
    """
    spec = copy.deepcopy(spec)
    schemas: dict[str, Any] = spec["components"]["schemas"]
    schemas["Iterator_String_"] = {"type": "array", "items": {"type": "string"}}
    for name, schema in schemas.items():
        schemas[name] = _flatten_all_of(schema, schemas)
    for schema in walk_schemas(schemas):
        if schema.get("additionalProperties") == {"type": "object"} and not schema.get(
            "properties"
        ):
            schema["additionalProperties"] = {}
        if isinstance(schema.get("type"), str):  # a schema, not a properties map with "type"
            schema["nullable"] = True
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        polymorphic = any(key in schema for key in ("oneOf", "anyOf", "discriminator"))
        if "properties" in schema and "additionalProperties" not in schema and not polymorphic:
            schema["additionalProperties"] = False
    error = {"application/json": {"schema": {"$ref": SCHEMAS_REF + "ErrorResponse"}}}
    for operation in _operations(spec):
        for answer in operation.get("responses", {}).values():
            for media in answer.get("content", {}).values():
                body = media.get("schema", {})
                if "oneOf" in body and "discriminator" not in body:
                    body["anyOf"] = body.pop("oneOf")
        responses = operation.setdefault("responses", {})
        for status in _ERROR_STATUSES:
            declared = responses.get(status)
            if declared is None or not declared.get("content"):
                responses[status] = {"description": "error (relaxed)", "content": error}
    return spec


def _operations(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in spec["paths"].values():
        for method in _METHODS:
            if method in item:
                yield item[method]


def walk_schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema object in ``node`` (references left out), depth first."""
    if isinstance(node, dict):
        if "$ref" not in node:
            yield node
        for value in node.values():
            yield from walk_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_schemas(value)


def resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$ref`` to a component schema followed (recursively)."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(SCHEMAS_REF):
        return resolve(schemas[ref.removeprefix(SCHEMAS_REF)], schemas)
    return schema


def _flatten_all_of(schema: Any, schemas: dict[str, Any]) -> Any:
    """Merge multi-part ``allOf`` object compositions into one schema, recursively."""
    if isinstance(schema, list):
        return [_flatten_all_of(item, schemas) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: _flatten_all_of(value, schemas) for key, value in schema.items()}
    parts = schema.get("allOf")
    if not isinstance(parts, list) or len(parts) < 2:
        return schema
    resolved = [_flatten_all_of(resolve(part, schemas), schemas) for part in parts]
    if any(key in part for part in resolved for key in ("oneOf", "anyOf", "discriminator")):
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    merged["type"] = "object"
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in resolved:
        properties.update(part.get("properties", {}))
        required += [name for name in part.get("required", []) if name not in required]
    merged["properties"] = {**properties, **schema.get("properties", {})}
    if required:
        merged["required"] = required
    return merged
