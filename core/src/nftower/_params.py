"""Pipeline parameters, checked before any call: only what JSON (Tower's ``paramsText``) holds.

:func:`check_params` returns a copy of the parameters with these conversions, and refuses the
rest with a :class:`TowerConfigError` naming the parameter (``params['samples'][2]``):

- ``datetime`` / ``date`` / ``time`` become ISO 8601 strings; ``os.PathLike`` becomes its path;
  a tuple becomes a list;
- refused: NaN and infinity (JSON has neither), parameter names that are not strings (a tuple
  key, an int key: JSON would turn or drop them silently), sets (no order), bytes (no text
  encoding), any other object, and a structure that holds itself.

:func:`params_from_text` reads params given as YAML or JSON text, as ``tw launch
--params-file`` reads a file: a string is a file path when it ends in ``.json``, ``.yaml`` or
``.yml`` (and has no line break); any other string is YAML text (JSON is YAML) that must hold
a mapping, and blank text is no params. Airflow renders templated ``params`` to such a string.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from typing import Any

from ._exceptions import TowerConfigError

__all__ = ["check_params", "is_params_text", "params_from_text"]

_FILE_SUFFIXES = (".json", ".yaml", ".yml")
_JSON_TYPES = "a string, number, bool, None, list or dict (or a date, time or path)"


def is_params_text(value: object) -> bool:
    """True for a string to read as YAML / JSON text rather than as a file path.

    Example:
        >>> is_params_text("params.yaml"), is_params_text("outdir: s3://bucket/results")
        (False, True)
    """
    if not isinstance(value, str):
        return False
    text = value.strip()
    return "\n" in text or not text.lower().endswith(_FILE_SUFFIXES)


def params_from_text(text: str) -> dict[str, Any]:
    """The checked mapping in YAML or JSON ``text``; :class:`TowerConfigError` if it is not one.

    Example:
        >>> params_from_text("outdir: s3://bucket/results\\nsamples: [a, b]")
        {'outdir': 's3://bucket/results', 'samples': ['a', 'b']}
        >>> params_from_text('{"genome": "GRCh38", "max_cpus": 16}')
        {'genome': 'GRCh38', 'max_cpus': 16}
    """
    import yaml  # deferred: only params given as text need it

    if not text.strip():
        return {}  # as an empty saved paramsText: no params (a template that rendered empty)
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise TowerConfigError(
            f"params is a string that is neither a .json / .yaml / .yml file path nor valid "
            f"YAML / JSON text: {problem}{line}"
        ) from None
    if loaded is None:  # only a comment, or YAML's null
        return {}
    if not isinstance(loaded, dict):
        raise TowerConfigError(
            "params is a string that is neither a .json / .yaml / .yml file path nor YAML / "
            f"JSON text of a mapping (it reads as {_kind(loaded)}); pass a dict, a file path, "
            "or text such as 'outdir: s3://bucket/results'"
        )
    return check_params(loaded)


def check_params(params: Mapping[Any, Any]) -> dict[str, Any]:
    """A copy of ``params`` that JSON holds exactly (see the module for the conversions).

    Example:
        >>> import datetime, pathlib
        >>> check_params({"day": datetime.date(2024, 6, 1), "ref": pathlib.Path("/ref"),
        ...               "sizes": (1, 2)})
        {'day': '2024-06-01', 'ref': '/ref', 'sizes': [1, 2]}
        >>> check_params({"ratio": float("nan")})
        Traceback (most recent call last):
        ...
        nftower.TowerConfigError: params['ratio'] is nan, which cannot be sent as JSON ...
    """
    return _mapping(params, "params", set())


def _mapping(value: Mapping[Any, Any], where: str, open_ids: set[int]) -> dict[str, Any]:
    """A checked copy of a mapping whose keys must be strings (``where`` names it)."""
    _enter(value, where, open_ids)
    checked: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise TowerConfigError(
                f"{where} has the key {key!r} ({type(key).__name__}): parameter names must be "
                "strings (JSON object keys are strings)"
            )
        checked[key] = _value(item, f"{where}[{key!r}]", open_ids)
    open_ids.discard(id(value))
    return checked


def _value(value: Any, where: str, open_ids: set[int]) -> Any:
    """One checked (and maybe converted) value; ``open_ids`` are the containers around it."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TowerConfigError(
                f"{where} is {value!r}, which cannot be sent as JSON (it has no NaN or infinity); "
                "pass a finite number, None, or a string such as 'NaN' if the pipeline parses one"
            )
        return value
    if isinstance(value, Mapping):
        return _mapping(value, where, open_ids)
    if isinstance(value, (list, tuple)):
        _enter(value, where, open_ids)
        items = [_value(item, f"{where}[{index}]", open_ids) for index, item in enumerate(value)]
        open_ids.discard(id(value))
        return items
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        hint = "a set has no order: pass a list, for example sorted(...)"
    elif isinstance(value, (bytes, bytearray, memoryview)):
        hint = "bytes have no text encoding: decode them (value.decode()) or pass a file path"
    else:
        hint = f"pass {_JSON_TYPES}"
    raise TowerConfigError(f"{where} is {_kind(value)}, which cannot be sent as JSON; {hint}")


def _enter(container: object, where: str, open_ids: set[int]) -> None:
    """Mark ``container`` as being walked; refuse it if it is already (it holds itself)."""
    if id(container) in open_ids:
        raise TowerConfigError(f"{where} holds itself (a circular structure JSON cannot hold)")
    open_ids.add(id(container))


def _kind(value: object) -> str:
    """``a set ({1, 2})``: a value's type and a short repr, for messages."""
    name = type(value).__name__
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"a {name} ({shown})" if value is not None else "None"
