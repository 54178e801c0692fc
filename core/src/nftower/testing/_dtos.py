"""Every property of every DTO, as the official schema declares it: Tower serialises them all
and sends ``null`` for unset ones, so the emulator completes each response it sends.

The property lists live in ``tower_dtos.json`` next to this module, derived from the official
schema (Seqera API ``seqera-api.yaml``) by :func:`derive` and checked in, so that
``pip install 'nftower[emulator]'`` needs no schema file. Regenerate it with::

    python -m nftower.testing._dtos path/to/seqera-api.yaml

A test holds the checked-in file equal to what :func:`derive` makes of the schema.

In the file, each property maps to ``null`` (a plain value), a schema name (an object), a
one-item list ``[name]`` (an array of objects) or ``{"*": name}`` (a map of objects);
schemas with a discriminator list their variants.

>>> complete("LabelDbDto", {"id": 1, "name": "nightly"})["value"] is None
True
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

_SCHEMAS = "#/components/schemas/"
_METHODS = ("get", "put", "post", "delete", "patch")
DATA_FILE = "tower_dtos.json"

Shape = Any  # None | str | list[str] | dict[str, str]


# -- derivation from the schema (at build time) ------------------------------------------
def _ref_name(node: Any) -> str | None:
    if not isinstance(node, dict):
        return None
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_SCHEMAS):
        return ref.removeprefix(_SCHEMAS)
    parts = node.get("allOf")
    if isinstance(parts, list) and len(parts) == 1:
        return _ref_name(parts[0])
    return None


def _is_object(name: str | None, schemas: dict[str, Any]) -> bool:
    if name is None or name not in schemas:
        return False
    schema = schemas[name]
    return bool(_properties(schema, schemas)) or "discriminator" in schema


def _properties(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """Declared properties, ``allOf`` parts merged in order."""
    found: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        name = _ref_name(part)
        found.update(_properties(schemas[name] if name else part, schemas))
    found.update(schema.get("properties") or {})
    return found


def _shape(prop: dict[str, Any], schemas: dict[str, Any]) -> Shape:
    name = _ref_name(prop)
    if _is_object(name, schemas):
        return name
    items = _ref_name(prop.get("items"))
    if prop.get("type") == "array" and _is_object(items, schemas):
        return [items]
    values = _ref_name(prop.get("additionalProperties"))
    if _is_object(values, schemas):
        return {"*": values}
    return None


def _variants(schema: dict[str, Any]) -> dict[str, Any] | None:
    discriminator = schema.get("discriminator")
    if not isinstance(discriminator, dict):
        return None
    mapping = {
        value: target.removeprefix(_SCHEMAS)
        for value, target in sorted((discriminator.get("mapping") or {}).items())
    }
    return {"property": discriminator.get("propertyName"), "mapping": mapping}


def _responses(spec: dict[str, Any]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for template, item in spec["paths"].items():
        for method in _METHODS:
            operation = item.get(method)
            if not operation:
                continue
            for status, answer in (operation.get("responses") or {}).items():
                media = (answer.get("content") or {}).get("application/json") or {}
                name = _ref_name(media.get("schema"))
                if str(status).startswith("2") and name:
                    found.setdefault(f"{method.upper()} {template}", {})[str(status)] = name
    return dict(sorted(found.items()))


def derive(spec: dict[str, Any], source: str = "") -> dict[str, Any]:
    """The data file's content for a parsed schema (``source``: its text, for the digest)."""
    schemas: dict[str, Any] = spec["components"]["schemas"]
    dtos: dict[str, Any] = {}
    for name in sorted(schemas):
        schema = schemas[name]
        props = {
            prop: _shape(value, schemas)
            for prop, value in _properties(schema, schemas).items()
            if not (isinstance(value, dict) and value.get("writeOnly"))
        }
        variants = _variants(schema)
        if props or variants:
            entry: dict[str, Any] = {"properties": props}
            if variants:
                entry["variants"] = variants
            dtos[name] = entry
    return {
        "schema": spec.get("info", {}).get("title", "")
        + " "
        + spec.get("info", {}).get("version", ""),
        "sha256": hashlib.sha256(source.encode()).hexdigest(),
        "responses": _responses(spec),
        "dtos": dtos,
    }


def render(data: dict[str, Any]) -> str:
    """The data file's text: one DTO per line, so that diffs stay readable."""
    lines = ["{"]
    lines.append(f'"schema": {json.dumps(data["schema"])},')
    lines.append(f'"sha256": {json.dumps(data["sha256"])},')
    for key in ("responses", "dtos"):
        lines.append(f'"{key}": {{')
        items = list(data[key].items())
        for index, (name, value) in enumerate(items):
            comma = "," if index < len(items) - 1 else ""
            lines.append(f"{json.dumps(name)}: {json.dumps(value, sort_keys=False)}{comma}")
        lines.append("}," if key == "responses" else "}")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- use at run time -----------------------------------------------------------------------
@functools.cache
def catalogue() -> dict[str, Any]:
    """The checked-in data file, parsed once."""
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def response_dto(operation: str, status: int) -> str | None:
    """The DTO answered by ``"<METHOD> <template>"`` with ``status``, if any.

    >>> response_dto("GET /workflow/{workflowId}", 200)
    'DescribeWorkflowResponse'
    """
    answer: str | None = catalogue()["responses"].get(operation, {}).get(str(status))
    return answer


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str, str]]:
    found = []
    for operation in catalogue()["responses"]:
        method, _, template = operation.partition(" ")
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        found.append((re.compile(f"^{pattern}$"), method, operation))
    # Literal paths first: ``/workflow/launch`` before ``/workflow/{workflowId}``.
    return sorted(found, key=lambda item: (item[2].count("{"), item[2]))


def operation_of(method: str, path: str) -> str | None:
    """The ``"<METHOD> <template>"`` of the schema serving ``method path``.

    >>> operation_of("GET", "/workflow/4Bi5xBK6E2Nbhj/tasks")
    'GET /workflow/{workflowId}/tasks'
    """
    for pattern, verb, operation in _templates():
        if verb == method.upper() and pattern.match(path):
            return operation
    return None


def properties(name: str) -> list[str]:
    """The declared (readable) properties of DTO ``name``, in schema order.

    >>> properties("OrgAndWorkspaceDto")[:3]
    ['orgId', 'orgLogoUrl', 'orgName']
    """
    return list(catalogue()["dtos"][name]["properties"])


def complete(name: str, data: Any) -> Any:
    """``data`` with every declared property of DTO ``name`` present (``None`` where unset),
    nested DTOs completed too. A key the DTO does not declare is a bug: :class:`KeyError`."""
    if not isinstance(data, dict):
        return data
    entry = catalogue()["dtos"].get(name)
    if entry is None:
        return data
    variants = entry.get("variants")
    if variants:
        target = variants["mapping"].get(data.get(variants["property"]))
        if target is not None and target != name:
            return complete(target, data)
    declared: dict[str, Shape] = entry["properties"]
    unknown = sorted(set(data) - set(declared))
    if unknown:
        raise KeyError(f"{name} declares no properties {unknown}")
    return {prop: _complete_value(shape, data.get(prop)) for prop, shape in declared.items()}


def _complete_value(shape: Shape, value: Any) -> Any:
    if value is None or shape is None:
        return value
    if isinstance(shape, str):
        return complete(shape, value)
    if isinstance(shape, list) and isinstance(value, list):
        return [complete(shape[0], item) for item in value]
    if isinstance(shape, dict) and isinstance(value, dict):
        return {key: complete(shape["*"], item) for key, item in value.items()}
    return value


def main(argv: list[str] | None = None) -> int:
    """Write the data file from the schema at ``argv[0]``."""
    import yaml

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m nftower.testing._dtos path/to/seqera-api.yaml", file=sys.stderr)
        return 2
    source = Path(args[0]).read_text(encoding="utf-8")
    data = derive(yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), source)  # noqa: S506
    target = Path(__file__).with_name(DATA_FILE)
    target.write_text(render(data), encoding="utf-8")
    print(f"wrote {target} ({len(data['dtos'])} DTOs, {len(data['responses'])} operations)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
