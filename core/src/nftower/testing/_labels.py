"""Labels of the emulated Tower: Tower's name rule, and ``POST /labels`` as get-or-create."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from ._errors import bad_request
from ._seed import Label

LABEL_NAME = re.compile(r"^[A-Za-z\d](?:[A-Za-z\d]|[-_](?=[A-Za-z\d])){1,38}$")
"""Seqera's label rule: 2 to 39 letters or digits, ``-`` / ``_`` only between them (one at a
time, never first or last)."""


def check_label_text(what: str, text: Any) -> str:
    """``text`` if it follows :data:`LABEL_NAME`, else a 400 naming ``what``."""
    if not isinstance(text, str) or not LABEL_NAME.match(text):
        raise bad_request(
            f"Invalid label {what} {text!r}: 2 to 39 letters or digits, separated by single "
            "'-' or '_' (not at the start or end)"
        )
    return text


def get_or_create(
    existing: Iterable[Label], body: Any, make: Callable[[str, str | None, bool, bool], Label]
) -> Label:
    """``POST /labels``: the label named so (with that value) if there is one, else a new one
    built by ``make(name, value, resource, is_default)``."""
    if not isinstance(body, dict):
        raise bad_request("Missing request body")
    name = check_label_text("name", body.get("name"))
    resource = bool(body.get("resource", False))
    value = body.get("value")
    if resource and (not isinstance(value, str) or not value.strip() or " " in value):
        raise bad_request(f"Invalid value {value!r} for resource label '{name}'")
    elif value is not None:
        raise bad_request("Only resource labels have a value")
    for label in existing:
        if label.name != name:
            continue
        if label.value == value and label.resource == resource:
            return label
        if not (label.resource and resource):  # a plain name is unique in its workspace
            raise bad_request(f"Label '{name}' already exists with another kind or value")
    return make(name, value, resource, bool(body.get("isDefault", False)))
