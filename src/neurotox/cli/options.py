"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from neurotox.errors import InputError
from neurotox.files import lies_within, same_content
from neurotox.parallel import check_scheduler

if TYPE_CHECKING:
    from neurotox.io.output import OutputDir, SigningKey


def distinct_files(ctx: click.Context, param: click.Parameter,
                   value: tuple[Path, ...]) -> tuple[Path, ...]:
    """Click callback: refuse one file given twice (by two names, a link, ``./``).

    Read twice, every row would be a duplicate animal, reported far from its cause;
    so is a copy of a file under another name (the same bytes).
    """
    seen: dict[Path, Path] = {}
    for p in value:
        key = Path(os.path.realpath(p))
        if key in seen:
            same = "" if str(seen[key]) == str(p) else f" (as '{seen[key]}' and '{p}')"
            raise click.BadParameter(f"the file '{key}' is given twice{same}", ctx, param)
        seen[key] = p
    twins = same_content(list(value))
    if twins:
        raise click.BadParameter(f"the files '{twins[0]}' and '{twins[1]}' hold the same bytes "
                                 "(a copy given as well?); give each input once", ctx, param)
    return value


def denied(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be reached for want of permission, or None.

    ``os.stat`` of a file inside a folder the user may not enter fails with EACCES,
    which ``click.Path(exists=True)`` reports as "does not exist"; this names the
    folder that keeps the user out when there is one.
    """
    try:
        os.stat(path)
    except PermissionError:
        absolute = Path(os.path.abspath(path))
        closed = next((p for p in reversed(absolute.parents)
                       if p.is_dir() and not os.access(p, os.X_OK)), None)
        where = f": the folder '{closed}' may not be entered" if closed is not None else ""
        return f"cannot be read (permission denied{where})"
    except OSError:
        return None
    return None


class InputPath(click.Path):
    """The type of every input path option and argument (a :class:`~pathlib.Path`).

    A :class:`click.Path` that says "cannot be read (permission denied)" where click
    would say "does not exist" (a file in a folder the user may not enter).
    ``exists`` is true by default (inputs are read).
    """

    def __init__(self, *, exists: bool = True, **kwargs: Any) -> None:
        super().__init__(exists=exists, path_type=Path, **kwargs)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        """The path; a usage error when it is missing, unreadable or of the wrong kind."""
        if isinstance(value, str | os.PathLike):
            why = denied(value)
            if why:
                what = "File" if not self.dir_okay else "Directory" if not self.file_okay \
                    else "Path"
                self.fail(f"{what} {click.format_filename(value)!r} {why}", param, ctx)
        return super().convert(value, param, ctx)


class FiniteFloat(click.ParamType):
    """A float option that refuses ``inf``, ``nan`` and numbers overflowing to infinity.

    With ``low``/``high``, numbers must lie in ``(low, high]`` too.
    """

    name = "number"

    def __init__(self, low: float | None = None, high: float | None = None) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        """The number; a usage error for text, infinity or NaN."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"expected a number, found {value!r}", param, ctx)
        if not math.isfinite(number):
            self.fail(f"expected a finite number, found {value!r}", param, ctx)
        if (self.low is not None and number <= self.low) or \
                (self.high is not None and number > self.high):
            bounds = [f"above {self.low:g}"] if self.low is not None else []
            bounds += [f"at most {self.high:g}"] if self.high is not None else []
            self.fail(f"expected a number {' and '.join(bounds)}, found {value!r}", param, ctx)
        return number


class AgeWeeks(click.ParamType):
    """An age in weeks at the start of a study (:func:`neurotox.study.age_weeks_problem`).

    Every ``hcd`` command's ``--age-weeks`` takes the same rule: a finite number
    from 0 to :data:`neurotox.study.MAX_AGE_WEEKS`.
    """

    name = "weeks"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        """The age; a usage error naming what was found."""
        from neurotox.study import age_weeks_problem

        try:
            weeks = float(value)
        except (TypeError, ValueError):
            self.fail(f"expected an age in weeks, found {value!r}", param, ctx)
        why = age_weeks_problem(weeks)
        if why:
            self.fail(why, param, ctx)
        return weeks


FINITE_FLOAT = FiniteFloat()
AGE_WEEKS = AgeWeeks()
#: Time window of historical controls, in years: as the study key ``window_years``.
WINDOW_YEARS = FiniteFloat(0.0, 100.0)
#: Pixel size in µm: what the imaging parameters accept (neurotox.io.plates.PIXEL_SIZE_RANGE;
#: far smaller sizes make every µm setting millions of pixels: a field would never end).
PIXEL_SIZE = FiniteFloat(0.02, 50.0)


def output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``-o/--output``, ``--force/--no-force`` and ``--sign-key`` to a command."""
    f = click.option("--sign-key", "sign_key", default=None, metavar="FILE",
                     type=click.Path(dir_okay=False, path_type=Path), expose_value=False,
                     callback=_remember_key,
                     help="Sign manifest.json with this key file (HMAC-SHA256; env "
                          "NEUROTOX_SIGN_KEY_FILE). A signed output is final: a GLP study's "
                          "report is signed only when no study-file key is left to "
                          "complete.")(f)
    f = click.option("--force/--no-force", default=False,
                     help="Replace an existing output folder, if it is an earlier neurotox "
                          "output and holds no input.")(f)
    return click.option("-o", "--output", "output", required=True,
                        type=click.Path(file_okay=False, path_type=Path),
                        help="Output folder (must not exist unless --force).")(f)


def _remember_key(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    ctx.meta["neurotox_sign_key"] = value


def signing_key(path: Path | None) -> SigningKey | None:
    """The key of ``--sign-key``/``verify --key``, else of ``NEUROTOX_SIGN_KEY_FILE``."""
    from neurotox.io.output import key_from_environment, load_key

    return load_key(path) if path is not None else key_from_environment()


def open_output(output: Path, force: bool, *, inputs: Iterable[Path | None] = (),
                **parameters: Any) -> OutputDir:
    """Open an atomic output folder with a RunRecord of the command line.

    ``inputs`` are the files and folders the command reads (None entries are
    skipped): the output may not be, hold or (when replaced) lie inside them,
    and neither may the log file or the signing key lie inside the output.
    Path parameters are recorded relative to the output folder.
    """
    from neurotox.io.output import OutputDir, RunRecord, key_exposure

    ctx = click.get_current_context(silent=True)
    key_path = ctx.meta.get("neurotox_sign_key") if ctx else None
    key = signing_key(key_path)
    protected = [p for p in inputs if p is not None]
    if ctx is not None:   # whatever the command was given is protected, listed or not
        protected += [p for p in command_paths(ctx) if p not in protected]
        check_scheduler(ctx.params.get("scheduler"))
    log_file = (ctx.find_root().obj or {}).get("log_file") if ctx else None
    _check_not_inside(output, log_file, "the log file")
    _check_not_inside(output, key.path if key else None, "the signing key")
    record = RunRecord(command=["neurotox", *sys.argv[1:]],
                       parameters={k: _jsonable(v, output) for k, v in parameters.items()})
    od = OutputDir(output, force=force, record=record, inputs=protected, key=key)
    exposed = key_exposure(key)
    if exposed:
        record.note(exposed)
    return od


def command_paths(ctx: click.Context) -> list[Path]:
    """The existing files and folders named by the command's parameters (not ``-o``)."""
    found = []
    for name, value in ctx.params.items():
        if name == "output":
            continue
        for v in value if isinstance(value, tuple | list) else (value,):
            if isinstance(v, Path) and os.path.lexists(v):
                found.append(v)
    return found


def _check_not_inside(output: Path, path: Path | None, what: str) -> None:
    if path is None:
        return
    if lies_within(path, output):
        raise InputError(f"{what} {str(path)!r} lies inside the output folder; keep it "
                         "outside", path=output)


def _jsonable(v: Any, output: Path) -> Any:
    from neurotox.io.output import relative_path

    if isinstance(v, Path):
        return relative_path(v, output)
    if isinstance(v, tuple | list):
        return [_jsonable(x, output) for x in v]
    return v


#: The option that overrides protocol parameters, in every command; ``--set`` is a hidden
#: alias (the spelling of the zebrafish and neurite commands before 0.2).
PARAM_OPTION = "--param"


class _FirstNameOnly(click.Option):
    """An option listed in ``--help`` under its first name; the others are hidden aliases."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        """The help line, naming only the first spelling."""
        opts = self.opts
        self.opts = opts[:1]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = opts


def param_option(example: str | None = None, dest: str = "params") -> Callable[[Any], Any]:
    """``--param KEY=VALUE`` (repeatable; alias ``--set``), collected into ``dest``."""
    eg = f", e.g. --param {example}" if example else ""
    return click.option(PARAM_OPTION, "--set", dest, cls=_FirstNameOnly, multiple=True,
                        metavar="KEY=VALUE", is_eager=True, callback=_key_equals_value,
                        help=f"Override a protocol parameter (YAML value){eg}; repeatable.")


def _key_equals_value(ctx: click.Context, param: click.Parameter,
                      items: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse ``--param KEY VALUE`` (no ``=``) before the VALUE is taken for an input."""
    from neurotox.yamlio import override_hint

    for item in items:
        if "=" not in item:
            hint = override_hint(item, PARAM_OPTION)
            raise click.BadParameter(f"expected KEY=VALUE, found {item!r}"
                                     + (f" ({hint})" if hint else ""), ctx=ctx, param=param)
    return items


def overrides(items: tuple[str, ...], option: str = PARAM_OPTION) -> dict[str, Any]:
    """``KEY=VALUE`` options as a dict, values read as YAML 1.2 (one line on error)."""
    from neurotox.yamlio import parse_overrides

    return parse_overrides(items, option=option)
