"""YAML that means what it says: YAML 1.2 core schema, no duplicate keys, no alias bombs.

PyYAML implements YAML 1.1, where ``010`` is the octal number 8, ``1:40`` the
base-60 number 100, ``yes``/``no``/``on``/``off`` are booleans and
``2026-01-15`` a date; a key given twice silently keeps its last value. In a
study file each of these changes a dose or a label without a word. This module
loads study, protocol and command-line override YAML with the YAML 1.2 core
schema instead:

* ``null``, ``Null``, ``NULL``, ``~`` and empty are null; ``true``/``false``
  (``True``, ``TRUE`` ...) are the only booleans;
* integers are decimal (``010`` is ten), ``0o17`` octal or ``0x1F`` hexadecimal;
* floats are ``1.5``, ``1e3``, ``.5``, ``.inf``, ``.nan``; a number too large
  for a float is an error, not infinity;
* everything else (``yes``, ``1:40``, ``2026-01-15``, ``1_000``, ``<<``) is text;
* a mapping key given twice is an error naming both lines;
* safe tags only; aliases may not expand the document beyond
  :data:`MAX_NODES` nodes (a "billion laughs" file is refused).
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Any

import yaml

from neurotox.errors import InputError
from neurotox.files import MAX_YAML_BYTES, read_bytes

#: Largest number of nodes a document may have once its aliases are expanded.
MAX_NODES = 200_000

_STR = "tag:yaml.org,2002:str"
_CORE = (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$", "-+.0123456789"),
)


class _Error(yaml.MarkedYAMLError):
    """A YAML 1.2 rule broken at a node (duplicate key, overflow, too many nodes)."""


class Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema and duplicate keys refused."""

    yaml_implicit_resolvers: dict = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """A mapping; a key given twice is an error naming both lines."""
        if not isinstance(node, yaml.MappingNode):
            raise _Error(None, None, f"expected a mapping, found {node.id}", node.start_mark)
        first: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                earlier = first.get(key)
            except TypeError:
                raise _Error("while constructing a mapping", node.start_mark,
                             "found an unhashable key", key_node.start_mark) from None
            if earlier is not None:
                raise _Error(None, None, f"duplicate key {key!r} (first given on line "
                             f"{earlier.start_mark.line + 1})", key_node.start_mark)
            first[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """Decimal, ``0o`` octal or ``0x`` hexadecimal integer (YAML 1.2)."""
        text = self.construct_scalar(node)
        digits = text.lstrip("+-")
        if len(digits) > 4000:
            raise _Error(None, None, f"integer with {len(digits)} digits is too large",
                         node.start_mark)
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        """Float (YAML 1.2); a finite-looking number that overflows is an error."""
        text = self.construct_scalar(node)
        lower = text.lower()
        if lower.endswith((".inf", ".nan")):
            return float(lower.replace(".", ""))
        value = float(text)
        if math.isinf(value):
            raise _Error(None, None, f"number {text} is too large (overflows to infinity)",
                         node.start_mark)
        return value


for _tag, _pattern, _first in _CORE:
    Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])
Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
Loader.add_constructor("tag:yaml.org,2002:float", Loader.construct_yaml_float)
Loader.add_constructor("tag:yaml.org,2002:map", Loader.construct_yaml_map)


def _check_expansion(root: yaml.Node) -> None:
    """Refuse recursive aliases and documents expanding beyond :data:`MAX_NODES` nodes."""
    size: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            if size[key] > MAX_NODES:
                raise _Error(None, None, f"the document expands to more than {MAX_NODES} "
                             "nodes through its aliases", node.start_mark)
            continue
        if key in size:
            continue
        if key in active:
            raise _Error(None, None, "recursive alias (an anchor used inside itself)",
                         node.start_mark)
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def parse_yaml(text: str, *, path: str | Path | None = None, where: str | None = None) -> Any:
    """Parse YAML text with :class:`Loader`.

    Parameters
    ----------
    text
        The document.
    path, where
        Named in errors (the file; or, for a command-line value, the option).

    Raises
    ------
    InputError
        Not valid YAML, an unsafe tag, a duplicate key, a number that overflows,
        a recursive alias or an alias bomb; the message gives the line.

    """
    try:
        loader = Loader(text)   # refuses non-printable characters (NUL ...) at once
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_expansion(node)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path, where) from None
    except RecursionError:
        raise InputError("YAML nests too deeply", path=path, where=where) from None


def _yaml_error(exc: yaml.YAMLError, path: str | Path | None, where: str | None) -> InputError:
    mark = getattr(exc, "problem_mark", None)
    loc = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
    loc = ", ".join(p for p in (where, loc) if p) or None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if isinstance(exc, _Error):
        return InputError(problem, path=path, where=loc)
    if isinstance(exc, yaml.constructor.ConstructorError):
        return InputError(f"unsafe or unknown YAML tag: {problem}", path=path,
                          where=", ".join(p for p in (where, mark and f"line {mark.line + 1}")
                                          if p) or None)
    context = getattr(exc, "context", None)
    if context and problem.startswith("but "):   # "…, but found another document"
        problem = f"{context}, {problem}"
    return InputError(f"invalid YAML: {problem}", path=path, where=loc)


def load_yaml(path: str | Path) -> Any:
    """Load a YAML file (UTF-8, a BOM accepted) with :func:`parse_yaml`.

    Raises
    ------
    InputError
        File missing, not a regular file, larger than 16 MiB, not UTF-8, or not
        valid YAML 1.2 as :func:`parse_yaml` reads it.

    """
    path = Path(path)
    raw = read_bytes(path, max_bytes=MAX_YAML_BYTES)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"file is not UTF-8 text (byte {exc.start})", path=path) from None
    return parse_yaml(text, path=path)


def override_hint(item: str, option: str) -> str:
    """How to write a ``KEY=VALUE`` item given without ``=``, or '' when it cannot be guessed.

    ``ridge_high 8`` (a space for the ``=``) → ``write --param ridge_high=8``;
    a lone name ``ridge_high`` → ``write --param ridge_high=VALUE``.
    """
    name, _, value = item.strip().partition(" ")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return ""
    return f"write {option} {name}={value.strip() or 'VALUE'}, without spaces around '='"


def parse_override(item: str, *, option: str) -> tuple[str, Any]:
    """Split ``KEY=VALUE`` from the command line; the value is YAML (:func:`parse_yaml`).

    Raises
    ------
    InputError
        No ``=``, an empty or malformed key, or a value that is not valid YAML.

    """
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        hint = "" if sep else override_hint(item, option)
        raise InputError(f"expected KEY=VALUE with a parameter name as KEY, found {item!r}"
                         + (f" ({hint})" if hint else ""), where=option)
    return key, parse_yaml(value, where=f"{option} {key}")


def parse_overrides(items: tuple[str, ...] | list[str], *, option: str) -> dict[str, Any]:
    """``KEY=VALUE`` items as a dict; a key given twice is an error."""
    out: dict[str, Any] = {}
    for item in items:
        key, value = parse_override(item, option=option)
        if key in out:
            raise InputError(f"parameter {key!r} is given twice", where=option)
        out[key] = value
    return out


def pydantic_location(loc: tuple[Any, ...]) -> str:
    """Render a pydantic error location as ``groups[1].id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _model_keys(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """The field names of the pydantic model found at ``loc`` below ``model`` (or none)."""
    import typing

    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        candidates = [field.annotation, *typing.get_args(field.annotation)]
        model = next((c for c in candidates if hasattr(c, "model_fields")), None)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))


def pydantic_message(exc: Any, path: str | Path, prefix: str = "", *,
                     model: Any = None) -> InputError:
    """Turn a pydantic ValidationError into an InputError naming the first bad key.

    With the validated ``model`` class, a misspelt key is matched against every
    key allowed at its place ("did you mean"), not only against missing ones.
    """
    errors = exc.errors()
    # A misspelt key also makes the intended key "missing": report the typo first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = pydantic_location(tuple(err["loc"]))
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
        missing = [str(e["loc"][-1]) for e in errors if e["type"] == "missing"
                   and tuple(e["loc"][:-1]) == tuple(err["loc"][:-1])]
        close = difflib.get_close_matches(str(err["loc"][-1]), missing, n=1) or \
            difflib.get_close_matches(str(err["loc"][-1]),
                                      _model_keys(model, tuple(err["loc"][:-1])), n=1)
        if close:
            msg += f" (did you mean {close[0]!r}?)"
    elif err["type"] == "missing":
        msg = "required key is missing"
    else:
        msg = err["msg"].removeprefix("Value error, ")  # our validators' own sentences
        if "input" in err and not isinstance(err["input"], dict | list):
            msg += f" (found {err['input']!r})"
    where = (f"key '{prefix}{loc}'" if err["loc"] else
             f"key '{prefix.rstrip('.')}'" if prefix else None)
    return InputError(msg, path=path, where=where)


def quoted_scalar(data: Any, model: Any, path: str | Path, prefix: str = "") -> None:
    """Refuse text where ``model`` takes only a number (``dose: "10"``).

    pydantic's lax mode reads the text ``"10"`` as the number 10: a number quoted
    in the YAML file (or written as text by a program) would pass silently. Only
    text pydantic would read as a number is refused here; other text gets
    pydantic's own message. True/false settings keep pydantic's reading of
    ``yes``/``no``/``on``/``off`` (text in YAML 1.2, meant as booleans).

    Raises
    ------
    InputError
        Naming ``path`` and the key (``key 'groups[1].dose'``): expected a number,
        found the text.

    """
    found = _quoted(data, model, ())
    if found is None:
        return
    loc, text, expected = found
    raise InputError(f"expected {expected}, found the text {text!r} (a quoted value is text "
                     "in YAML: write it without quotes)", path=path,
                     where=f"key '{prefix}{pydantic_location(loc)}'")


def _kinds(annotation: Any) -> list[Any]:
    """The types a field annotation allows (``float | None`` → float, NoneType)."""
    import types
    import typing

    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kinds(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [k for a in typing.get_args(annotation) for k in _kinds(a)]
    return [annotation]


def _expected(kinds: list[Any], value: str) -> str | None:
    """``a number`` when a setting of ``kinds`` takes only numbers and would read ``value``."""
    import typing

    if str in kinds or any(typing.get_origin(k) is typing.Literal for k in kinds):
        return None                           # text is a valid value here
    if not {int, float} & set(kinds):
        return None
    try:
        float(value)
    except ValueError:
        return None
    return "a number"


def _quoted(value: Any, annotation: Any, loc: tuple[Any, ...]) -> tuple | None:
    """The first (location, text, expectation) of a quoted scalar below ``value``."""
    import typing

    kinds = _kinds(annotation)
    if isinstance(value, str):
        expected = _expected(kinds, value)
        return (loc, value, expected) if expected else None
    for kind in kinds:
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        fields = getattr(kind, "model_fields", None)
        if fields is not None and isinstance(value, dict):
            items = [((*loc, k), v, fields[k].annotation) for k, v in value.items()
                     if k in fields]
        elif origin in (tuple, list) and isinstance(value, list) and args:
            inner = [args[0]] * len(value) if origin is list or args[-1] is Ellipsis \
                else list(args)
            items = [((*loc, i), v, a) for i, (v, a) in enumerate(zip(value, inner,
                                                                       strict=False))]
        elif origin is dict and isinstance(value, dict) and len(args) == 2:
            items = [((*loc, k), v, args[1]) for k, v in value.items()]
        else:
            continue
        for where, v, a in items:
            found = _quoted(v, a, where)
            if found is not None:
                return found
    return None
