"""Safe YAML loading with errors that name the file and line."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from neurotox.errors import InputError


def load_yaml(path: str | Path) -> Any:
    """Load a YAML file with ``yaml.safe_load``.

    Raises
    ------
    InputError
        File missing, not UTF-8, not valid YAML, or using a tag that safe loading
        refuses (``!!python/object`` and friends).

    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except IsADirectoryError:
        raise InputError("expected a YAML file, found a directory", path=path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"file is not UTF-8 text (byte {exc.start})", path=path) from None
    try:
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise InputError(f"unsafe or unknown YAML tag: {exc.problem}", path=path,
                         where=f"line {line}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"invalid YAML: {problem}", path=path, where=where) from None
    except RecursionError:
        raise InputError("YAML nests too deeply (recursive alias?)", path=path) from None


def pydantic_location(loc: tuple[Any, ...]) -> str:
    """Render a pydantic error location as ``groups[1].id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def pydantic_message(exc: Any, path: str | Path, prefix: str = "") -> InputError:
    """Turn a pydantic ValidationError into an InputError naming the first bad key."""
    errors = exc.errors()
    # A misspelt key also makes the intended key "missing": report the typo first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = pydantic_location(tuple(err["loc"]))
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
        missing = [str(e["loc"][-1]) for e in errors if e["type"] == "missing"
                   and tuple(e["loc"][:-1]) == tuple(err["loc"][:-1])]
        close = difflib.get_close_matches(str(err["loc"][-1]), missing, n=1)
        if close:
            msg += f" (did you mean {close[0]!r}?)"
    elif err["type"] == "missing":
        msg = "required key is missing"
    else:
        msg = err["msg"].removeprefix("Value error, ")  # our validators' own sentences
        if "input" in err and not isinstance(err["input"], dict | list):
            msg += f" (found {err['input']!r})"
    return InputError(msg, path=path, where=f"key '{prefix}{loc}'")
