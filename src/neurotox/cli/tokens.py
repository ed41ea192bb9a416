"""Command-line slips click lets through: an option given twice, an option as a name.

Click keeps the last value of ``--study a --study b`` and says nothing: a careless
repeat (a pasted command, a study given twice) would run on the wrong input
unnoticed. The command line is read here as click reads it, before it runs, so that
a repeat is refused with one line naming the option and both values. ``-o --force``
gives ``-o`` the value ``--force``: a folder of that name would be created.
"""

from __future__ import annotations

from collections.abc import Iterator

import click


def _spellings(command: click.Command) -> dict[str, click.Option]:
    return {o: p for p in command.params if isinstance(p, click.Option)
            for o in (*p.opts, *p.secondary_opts)}


def _split(token: str, options: dict[str, click.Option]) -> tuple[str, str | None]:
    """``--x=v`` → (``--x``, ``v``); ``-ov`` → (``-o``, ``v``) for a short option taking a value."""
    if token.startswith("--") and "=" in token:
        name, value = token.split("=", 1)
        return name, value
    short = options.get(token[:2])
    if not token.startswith("--") and len(token) > 2 and short is not None \
            and not short.is_flag and not short.count:
        return token[:2], token[2:]
    return token, None


def _uses(command: click.Command, args: list[str],
          path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Option, str, str]]:
    """Each one-value option used in ``args``: (sub-command names, option, as written, value).

    For a group, the options before its sub-command, then the sub-command's.
    """
    options = _spellings(command)
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            return
        name, value = _split(token, options)
        option = options.get(name)
        if option is None:
            if isinstance(command, click.Group) and not token.startswith("-"):
                sub = command.get_command(click.Context(command), token)  # type: ignore[arg-type]
                if sub is not None:
                    yield from _uses(sub, args[i + 1:], (*path, token))
                return
            i += 1
            continue
        taken = 0 if option.is_flag or option.count else option.nargs
        if value is None and taken:
            value = " ".join(args[i + 1:i + 1 + taken])
            i += taken
        i += 1
        if taken and not option.multiple:
            yield path, option, name, value or ""


#: Options naming a file or folder to create: a value beginning with '-' is an option.
CREATED = frozenset({"output"})


def command_line_slip(command: click.Command,
                      args: list[str]) -> tuple[tuple[str, ...], str] | None:
    """The first slip in ``args``: (sub-command names, one-line problem), or None.

    An option of one value given twice (``option '--study' given twice:
    'a/study.yaml', then 'b/study.yaml'; it takes one value: give it once``), or
    an output name beginning with '-' (``-o --force``: the name was left out;
    ``./-name`` is a name).
    """
    first: dict[tuple[tuple[str, ...], int], tuple[str, str]] = {}
    for path, option, name, value in _uses(command, args):
        if option.name in CREATED and value.startswith("-"):
            return path, (f"option {name!r}: {value!r} begins with '-' like an option (was "
                          f"the name left out?); for a name that begins with '-' write "
                          f"'./{value}'")
        key = (path, id(option))
        if key in first:
            was_name, was = first[key]
            same = "" if was_name == name else f" (as {was_name!r} and {name!r})"
            return path, (f"option {option.opts[-1]!r} given twice{same}: {was!r}, then "
                          f"{value!r}; it takes one value: give it once")
        first[key] = (name, value)
    return None
