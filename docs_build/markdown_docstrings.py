"""A Griffe extension for the API reference (mkdocs.yml): the docstrings of this repository
are written for ``help()`` and doctest, so before they are rendered as Markdown

- each run of doctest lines (``>>>`` / ``...`` and their output, up to a blank line) becomes
  a fenced ``pycon`` block, without doctest flags such as ``# doctest: +SKIP``;
- Sphinx roles (``:class:`~nftower.TowerClient```) become code spans (``TowerClient``);
- Sphinx fields (``:param name: text``) become a Google-style ``Args:`` section;
- the operations of ``TowerClient`` and ``AsyncTowerClient``, which are attributes built from
  the functions of ``nftower._operations`` & co. (``launch = _blocking(ops.launch)``), become
  methods with those functions' signatures and docstrings, as ``help()`` shows them.

The source files are not changed; only what the site shows.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const):`~?([^`]+)`")
_FLAGS = re.compile(r"\s*#\s*doctest:.*$")
_WRAPPERS = {"_blocking": False, "_iterating": False, "_awaitable": True}
_CLIENTS = {"_client.TowerClient": False, "_async_client.AsyncTowerClient": True}
_RESULT = re.compile(r"^(?P<kind>Flow|Listing)\[(?P<inner>.*)\]$")
_PARAM = re.compile(r"^(\s*):param\s+(?:[\w\[\], |.]+\s+)?(\w+):\s*(.*)$")


def _role(match: re.Match[str]) -> str:
    target = match[1]
    return f"`{target.rsplit('.', 1)[-1]}`" if match[0].count("~") else f"`{target}`"


def fence_doctests(text: str) -> str:
    r"""The docstring with its doctest runs fenced.

    Example:
        >>> fence_doctests("Add:\n\n>>> 1 + 1  # doctest: +SKIP\n2\n").splitlines()
        ['Add:', '', '```pycon', '>>> 1 + 1', '2', '```']
    """
    lines = text.split("\n")
    out: list[str] = []
    inside, fenced, indent = False, False, ""
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("```"):
            fenced = not fenced
        if not inside and not fenced and stripped.startswith(">>>"):
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
        if inside and (not stripped or not line.startswith(indent)):
            out.append(f"{indent}```")
            inside = False
        out.append(_FLAGS.sub("", line) if inside else line)
    if inside:
        out.append(f"{indent}```")
    return "\n".join(out)


def sphinx_fields(text: str) -> str:
    r"""``:param x: text`` lines (and their indented continuations) as an ``Args:`` section.

    Example:
        >>> print(sphinx_fields(":param a: first\n    more\n:param b: second"))
        Args:
            a: first
                more
            b: second
    """
    out: list[str] = []
    base: str | None = None  # the indentation of the fields while inside them
    for line in text.split("\n"):
        match = _PARAM.match(line)
        if match:
            if base is None:
                base = match[1]
                out.append(f"{base}Args:")
            out.append(f"{base}    {match[2]}: {match[3]}")
            continue
        indent = len(line) - len(line.lstrip())
        if base is not None and line.strip() and indent > len(base):
            out.append(f"{base}        {line.strip()}")
            continue
        base = None
        out.append(line)
    return "\n".join(out)


def as_markdown(text: str) -> str:
    """Everything above, in order."""
    return _ROLE.sub(_role, fence_doctests(sphinx_fields(text)))


def _result(annotation: object, *, awaited: bool) -> str | None:
    """``Flow[T]`` -> ``T``; ``Listing[T]`` -> ``Iterator[T]`` (``AsyncIterator[T]``)."""
    match = _RESULT.match(str(annotation)) if annotation is not None else None
    if match is None:
        return str(annotation) if annotation is not None else None
    if match["kind"] == "Listing":
        return f"{'AsyncIterator' if awaited else 'Iterator'}[{match['inner']}]"
    return match["inner"]


def _operation_method(cls: griffe.Class, attribute: griffe.Object, awaited: bool) -> None:
    """Replace ``name = _wrapper(module.function)`` by a method shaped like the function."""
    value = getattr(attribute, "value", None)
    if not isinstance(value, griffe.ExprCall) or str(value.function) not in _WRAPPERS:
        return
    module_name, _, function_name = str(value.arguments[0]).partition(".")
    target = cls.module[module_name][function_name]
    listing = str(target.returns).startswith("Listing[")
    own = griffe.Parameter("self", kind=griffe.ParameterKind.positional_only)
    method = griffe.Function(
        attribute.name,
        lineno=attribute.lineno,
        endlineno=attribute.endlineno,
        parameters=griffe.Parameters(own, *list(target.parameters)[1:]),
        returns=_result(target.returns, awaited=awaited),
    )
    if target.docstring is not None:
        method.docstring = griffe.Docstring(
            target.docstring.value, lineno=target.docstring.lineno, parent=method
        )
    if awaited and not listing and _WRAPPERS[str(value.function)]:
        method.labels.add("async")
    cls.set_member(attribute.name, method)


class MarkdownDocstrings(griffe.Extension):
    """Rewrites every docstring with :func:`as_markdown` as it is loaded, and gives the
    clients their operations as methods once the ``nftower`` package is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = as_markdown(obj.docstring.value)

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != "nftower":
            return
        for path, awaited in _CLIENTS.items():
            cls = pkg[path]
            for attribute in list(cls.members.values()):
                if not attribute.is_alias and attribute.is_attribute:
                    _operation_method(cls, attribute, awaited)
