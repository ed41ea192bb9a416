"""The ``neurotox`` command group, global options and the error boundary.

User mistakes (:class:`~neurotox.errors.NeurotoxError`) and failures of the
machine (:class:`OSError`: disk full, read-only folder, name too long,
permission denied; out of memory) print one line naming the file and the
row/column/key, and exit with status 2 -- never a traceback. SIGTERM (what
batch schedulers send) is handled like Ctrl-C: the run stops, its staging
folder is removed, and the exit status is 143 (1 and click's ``Aborted!`` for
Ctrl-C). Once the command's output is complete (its folder renamed into place,
its study stored), neither SIGTERM, SIGHUP nor Ctrl-C (SIGINT) stops it: the
command ends normally, exit 0, with one ``WARNING:`` line. Run as a program,
the process ends as soon as the command has (:func:`_exit_now`).
"""

from __future__ import annotations

import atexit
import errno
import importlib
import io
import logging
import os
import re
import signal
import stat
import sys
import threading
import warnings
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import click

from neurotox.errors import InputError, NeurotoxError, did_you_mean
from neurotox.files import (
    command_scope,
    committed_outputs,
    file_kind,
    lies_within,
    reserve,
    unreserve,
)
from neurotox.logs import (
    JSON_FIELDS,
    JSON_LINE_START,
    JsonFormatter,
    end_quiet,
    end_run,
    quiet_third_party,
    start_run,
)

log = logging.getLogger("neurotox")

#: Sub-command modules; each defines a click command or group named like the module.
COMMAND_MODULES = (
    "neurotox.cli.registry_cmds:endpoints",
    "neurotox.cli.registry_cmds:protocols",
    "neurotox.cli.study_cmd:check",
    "neurotox.cli.verify:verify",
    "neurotox.cli.simulate:simulate",
    "neurotox.cli.rodent:nor",
    "neurotox.cli.rodent:tmaze",
    "neurotox.cli.cipn:cipn",
    "neurotox.cli.report:report",
    "neurotox.cli.demo:demo",
    "neurotox.cli.stats:stats",
    "neurotox.cli.neurite:neurite",
    "neurotox.cli.battery:guidelines",
    "neurotox.cli.zebrafish:zebrafish",
    "neurotox.cli.zebrafish_screen:zebrafish_screen",
    "neurotox.cli.hcd:hcd",
    "neurotox.cli.neurochem:neurochem",
)

#: Exit status after SIGTERM (128 + signal number, as a shell reports it).
EXIT_TERMINATED = 128 + signal.SIGTERM
#: Exit status when standard output is a pipe whose reader went away.
EXIT_BROKEN_PIPE = 128 + 13


class _ProcessEnd:
    """How the process ends when neurotox runs as a program rather than in a test.

    ``owned`` is set by :meth:`NeurotoxGroup.main` called to run the program
    (arguments from ``sys.argv``): SIGTERM, SIGHUP and SIGINT then keep a handler until the
    process ends, and it ends at once after the command (:func:`_exit_now`).
    """

    def __init__(self) -> None:
        self.owned = False
        #: the command has ended (well or not): a signal now is only noted
        self.ended = False
        #: signals that arrived once the command's output was complete
        self.late: list[str] = []
        #: what the command completed (:func:`~neurotox.files.committed_outputs`)
        self.done: list[str] = []
        #: the console's JSON formatter (``--log-format json``), kept past the command
        self.json: logging.Formatter | None = None

    def begin(self) -> None:
        """A command starts (a test runs several in one process)."""
        self.ended, self.late, self.done, self.json = False, [], [], None


_END = _ProcessEnd()


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` in
    the library swallows it and every ``with OutputDir`` removes its staging folder.
    """


def os_error_line(exc: OSError) -> str:
    """One line for an OSError: the file(s) and the system's reason.

    Too many open files (EMFILE) says the limit and what to do: it is the
    process's limit (``ulimit -n``), whichever file met it.
    """
    reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    if exc.errno == errno.EMFILE:
        reason += _descriptor_hint()
    files = [str(f) for f in (exc.filename, exc.filename2) if f is not None]
    return f"{' -> '.join(files)}: {reason}" if files else reason


def _descriptor_hint() -> str:
    """``; this process may have at most 16 files open (ulimit -n) …``."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return "; the limit of open files (ulimit -n) is too low: raise it or use --workers 1"
    limit = "no" if soft == getattr(resource, "RLIM_INFINITY", -1) else str(soft)
    return (f"; this process may have at most {limit} files open at once (ulimit -n), too "
            "few for neurotox: raise the limit ('ulimit -n 1024') or, for a command with "
            "--workers, give --workers 1")


class UsageLine(click.UsageError):
    """A command-line mistake shown as one line: the command, the problem, where to look."""

    def show(self, file: Any = None) -> None:
        """``Error: neurotox report: No such option '--formats' (did you mean …)``."""
        click.echo(f"Error: {' '.join(self.format_message().split())}", err=True)

    @classmethod
    def of(cls, exc: click.UsageError) -> UsageLine:
        """Click's usage error (usage, hint and message on four lines) as one line."""
        path = exc.ctx.command_path if exc.ctx is not None else "neurotox"
        root = exc.ctx.find_root() if exc.ctx is not None else None
        if isinstance(exc, click.NoSuchOption) and root is not None and root is not exc.ctx \
                and exc.option_name in _option_names(root.command):
            opt = _option_names(root.command)[exc.option_name]
            problem = (f"{exc.option_name!r} is an option of '{root.info_name}' itself: give it "
                       f"before the command ('{root.info_name} {opt} {exc.ctx.info_name} …')")
        elif isinstance(exc, click.NoSuchOption):
            hint = _prefix_hint(exc.option_name, exc.ctx) or \
                did_you_mean(exc.option_name, exc.possibilities or [])
            problem = f"No such option {exc.option_name!r}{hint}"
        else:
            problem = re.sub(r"\. Did you mean (.+)\?$", r" (did you mean \1?)",
                             exc.format_message()).rstrip(".")
        return cls(f"{path}: {problem}; see '{path} --help'", exc.ctx)


def _prefix_hint(typed: str, ctx: click.Context | None) -> str:
    """`` (did you mean '--age-weeks'?)`` when ``typed`` begins one option name only (``--ag``)."""
    if ctx is None or not typed.startswith("--") or len(typed) < 3:
        return ""
    starts = {o for o in _option_names(ctx.command) if o.startswith(typed)}
    return f" (did you mean {starts.pop()!r}?)" if len(starts) == 1 else ""


def _option_names(command: click.Command) -> dict[str, str]:
    """Every spelling of every option of ``command`` → how it is written (``--log-file FILE``)."""
    return {o: o if p.is_flag else f"{o} {p.metavar or 'VALUE'}"
            for p in command.params if isinstance(p, click.Option)
            for o in (*p.opts, *p.secondary_opts)}


class NeurotoxGroup(click.Group):
    """Click group that turns NeurotoxError into a one-line message and exit 2.

    Sub-commands are imported when first used (``neurotox report`` imports the
    report command only), so that starting a command stays fast.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Names of the registered and the lazily loaded sub-commands, sorted."""
        return sorted(set(super().list_commands(ctx)) | set(_LAZY))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The sub-command, importing its module on first use."""
        if cmd_name not in self.commands and cmd_name in _LAZY:
            module, attr = _LAZY[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        """The group's context; a mistake in the global options is one line."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageLine:
            raise
        except click.UsageError as exc:
            raise UsageLine.of(exc) from None

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        """The sub-command named first in ``args``; an unknown name gets a suggestion."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            hint = did_you_mean(name, self.list_commands(ctx))
            raise UsageLine(f"{ctx.command_path}: No such command {name!r}{hint}; see "
                            f"'{ctx.command_path} --help'", ctx)
        return super().resolve_command(ctx, args)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the global options; keep the sub-command's arguments for the log check.

        An option of one value given twice, here or to the sub-command, or an output
        name that is an option (``-o --force``) is refused before anything runs
        (click would keep the last value, or create a folder named ``--force``).
        """
        from neurotox.cli.tokens import command_line_slip

        repeated = command_line_slip(self, list(args))
        if repeated is not None:
            path = " ".join([ctx.command_path, *repeated[0]])
            raise UsageLine(f"{path}: {repeated[1]}; see '{path} --help'", ctx)
        rest = super().parse_args(ctx, args)
        ctx.meta["neurotox_command_args"] = list(rest)
        return rest

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        """Run the command line; as the program (``neurotox …``), end the process then.

        Called with no ``args`` (they are read from ``sys.argv``) in standalone mode,
        as the console script and ``python -m neurotox`` do, the process exits as soon
        as the command has ended (:func:`_exit_now`). A test's ``CliRunner`` passes
        the arguments and gets the usual return.
        """
        if args is not None or not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        _END.owned = True
        try:
            super().main(args, prog_name, complete_var, standalone_mode, **extra)
        except SystemExit as exc:
            _exit_now(exc.code)
        _exit_now(0)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; report any failure as one line.

        Once it has ended, SIGTERM, SIGHUP and SIGINT no longer stop it: its output, its
        error line and exit status are said already (:func:`_on_sigterm`).
        """
        _END.begin()
        try:
            return self._invoke(ctx)
        finally:
            _END.ended = True

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            out = _counting_warnings(lambda: super(NeurotoxGroup, self).invoke(ctx))
            _command_ended()
            return out
        except UsageLine:
            raise
        except click.UsageError as exc:  # a sub-command's options or arguments
            raise UsageLine.of(exc) from None
        except NeurotoxError as exc:
            _fail(ctx, str(exc))
        except BrokenPipeError as exc:
            _broken_pipe(ctx, exc)
        except OSError as exc:
            if exc.filename is None and _stdout_broken(exc):
                _stdout_failed(ctx, exc)
            _fail(ctx, os_error_line(exc))
        except (BrokenProcessPool, MemoryError, RecursionError) as exc:
            _fail(ctx, next(m for kind, m in _FAILURES.items() if isinstance(exc, kind)))
        except Exception as exc:
            if isinstance(exc, click.exceptions.Exit | click.Abort | click.ClickException):
                raise                    # a command's own exit status, Ctrl-C, click's errors
            if why := _database_error(exc):
                _fail(ctx, f"historical control database: {why}; the "
                      "command's changes were not kept (each command is one transaction)")
            _internal_error(ctx, exc)
        except Terminated as exc:
            _debug_detail()
            name = str(exc) or "SIGTERM"
            code = 128 + signal.Signals[name].value
            _say(f"Error: terminated by {name}; no unfinished output is left behind", exit=code)
            ctx.exit(code)


def _broken_pipe(ctx: click.Context, exc: BrokenPipeError) -> None:
    """The reader of our output went away (``| head``): stop quietly, exit 141.

    A command whose output is complete loses only its last line: exit 0 and the
    note of :func:`_stdout_failed`, as for a full disk.
    """
    _discard_stdout()
    if committed_outputs():
        _stdout_failed(ctx, exc)
    ctx.exit(EXIT_BROKEN_PIPE)


def _discard_stdout() -> None:
    """Send what is left of standard output to /dev/null (else its flush at exit fails)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass   # not a real file descriptor (a test runner's stream)


def _stdout_broken(exc: OSError) -> bool:
    """Whether ``exc`` is a failed write to standard output (``> /dev/full``, EIO).

    The innermost frame of its traceback holds the stream being written
    (``click.echo``'s ``file``): standard output, or a stream on its file descriptor.
    """
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return any(_is_stdout(v) for v in tb.tb_frame.f_locals.values())


def _is_stdout(stream: Any) -> bool:
    if stream is sys.stdout or stream is getattr(sys.stdout, "buffer", None):
        return True
    try:
        return hasattr(stream, "write") and stream.fileno() == sys.__stdout__.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


def _stdout_failed(ctx: click.Context, exc: OSError) -> None:
    """Standard output failed: exit 0 if the command's output folder is complete, else 2.

    The line a command prints last (``wrote … to out``) comes after its output
    folder is complete, verified and in place; a full disk under a redirected
    standard output must not turn that run into a failure (a retry without
    ``--force`` would then be refused: the output exists). A command whose
    product is what it prints (``endpoints list``, ``hcd ranges``) has failed.
    """
    _discard_stdout()
    reason = os_error_line(exc)
    if not committed_outputs():
        _fail(ctx, f"standard output: {reason}")
    _unprinted(reason)
    _command_ended()
    ctx.exit(0)


def _unprinted(reason: str) -> None:
    """The one note for a complete output whose last lines could not be printed."""
    _say(f"WARNING: standard output: {reason}; its last lines were not printed, but the "
         f"command completed: {'; '.join(committed_outputs())}", logging.WARNING, exit=0)


def _command_ended() -> None:
    """The command ended well: say what standard output could not, keep what it completed.

    Standard output closed (``>&-``) prints nothing at all (``click.echo`` skips it):
    the note says so, as for a full disk. A SIGTERM deferred since the output was
    complete is said here (:func:`_late_note`).
    """
    _END.done = committed_outputs()
    console = _json_console()
    _END.json = console.formatter if console is not None else None
    if _END.done and sys.stdout is None:
        _unprinted("closed")
    _late_note()


def _late_note() -> None:
    """``WARNING: output complete; stopped by SIGTERM after it was written: …``, once."""
    if not _END.late or not _END.done:
        return
    names = " and ".join(dict.fromkeys(_END.late))
    _END.late.clear()
    _say(f"WARNING: output complete; stopped by {names} after it was written: "
         f"{'; '.join(_END.done)}", logging.WARNING, formatter=_END.json, exit=0)


def _exit_now(code: Any) -> None:
    """End the process with ``code`` once the command has ended.

    Python's own exit frees every module and object (pandas, scipy, numba ...):
    1–1.5 s in which a SIGTERM would kill a process whose output is complete. The
    exit handlers are run (log files closed, worker pools joined), the standard
    streams flushed, and the process ends without that tear-down. Until then
    SIGTERM, SIGHUP and SIGINT are only noted (:func:`_record_late`).
    """
    if code is None:
        code = 0
    elif not isinstance(code, int):        # sys.exit("text"), as Python reports it
        click.echo(str(code), err=True)
        code = 1
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:   # what the interpreter does first: join the pools' threads
        shutdown()
    atexit._run_exitfuncs()
    if code == 0:
        _late_note()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass   # said already (standard output that cannot be written)
    os._exit(code)


class _WarningCount(logging.Handler):
    """Counts the WARNING records of the running command (any source, any path)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def _counting_warnings(run: Callable[[], Any]) -> Any:
    """Run a command; after it, say how many warnings it logged (they scroll away)."""
    counter, root = _WarningCount(), logging.getLogger("neurotox")
    root.addHandler(counter)
    try:
        out = run()
    finally:
        root.removeHandler(counter)
    if counter.count:
        _say(f"INFO: {counter.count} warning(s) above", logging.INFO, warnings=counter.count)
    return out


#: Exit status of a failure no check foresaw (a bug): see :func:`_internal_error`.
EXIT_INTERNAL = 3

#: One line for failures of the machine rather than the input.
_FAILURES = {BrokenProcessPool: "a worker process died (out of memory? killed?); nothing was "
             "written",
             MemoryError: "out of memory (input too large for this machine?)",
             RecursionError: "input nests too deeply to be processed"}


def _database_error(exc: BaseException) -> str:
    """The driver's one-line reason for a SQLAlchemy database error, else ''.

    A server stopped or unreachable during a command, a full disk under a SQLite
    file: the engine's own error names no secret (SQLAlchemy's text would print
    the statement and its parameters).
    """
    if not type(exc).__module__.startswith("sqlalchemy"):
        return ""
    from neurotox.hcd.db import failure_reason

    return failure_reason(getattr(exc, "orig", None) or exc)


def _internal_error(ctx: click.Context, exc: Exception) -> None:
    """A failure no check foresaw (a neurotox bug): one line, exit 3, the traceback logged.

    The line names the task it happened in (a field and its file) when a worker
    task failed (:func:`neurotox.parallel.task_of`).

    Exit 3 keeps it apart from a failed ``verify`` (1) and from bad input (2), so that
    a pipeline can tell "fix the data" from "report this".
    """
    from neurotox.parallel import task_of

    _debug_detail()
    text, task = str(exc).strip().splitlines(), task_of(exc)
    _say(f"Error: internal error{' in ' + task if task else ''} "
         f"({type(exc).__name__}{': ' + text[0] if text else ''}); "
         "an unfinished output is not kept; this is a neurotox bug: please report it "
         "with the traceback that -v or --log-file shows", exit=EXIT_INTERNAL)
    ctx.exit(EXIT_INTERNAL)


#: An error line quotes a run of at most this many characters in full (a 200 MB cell is cut;
#: paths are shorter).
LONGEST_QUOTED = 1000


def _fail(ctx: click.Context, message: str) -> None:
    _debug_detail()
    _say(f"Error: {shorten_runs(' '.join(message.split()))}", exit=2)
    ctx.exit(2)


def shorten_runs(text: str, longest: int = LONGEST_QUOTED) -> str:
    """``text`` with every run of more than ``longest`` non-space characters cut in the middle."""
    def cut(m: re.Match) -> str:
        run = m.group(0)
        return f"{run[:longest * 3 // 4]}…[{len(run):,} characters]…{run[-longest // 10:]}"
    return re.sub(rf"\S{{{longest + 1},}}", cut, text)


def _debug_detail() -> None:
    """The traceback of the failure, to the log file (which may be what failed)."""
    try:
        log.debug("error detail", exc_info=True)
    except OSError:
        pass


def _close_handlers(logger: logging.Logger) -> None:
    for h in list(logger.handlers):
        if isinstance(h, _WarningCount):
            continue              # the command's count, removed when the command ends
        logger.removeHandler(h)
        try:
            h.close()
        except OSError:
            pass   # the log file's own write error was reported already


#: First characters of a line this program writes to a log file (UTC ISO 8601 stamps; the
#: local-time stamps of earlier versions too, so their logs can still be appended to;
#: a JSON line of ``--log-format json``).
_LOG_LINE = re.compile(rb"^(\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d\.\d{3}Z| \d\d:\d\d:\d\d,\d{3}) "
                       rb"(DEBUG|INFO|WARNING|ERROR|CRITICAL) |"
                       + re.escape(JSON_LINE_START.encode()) + rb"\d{4}-\d\d-\d\dT)")


def check_log_file(log_file: Path, args: list[str]) -> None:
    """Refuse a log file that could damage an input or is not ours to append to.

    Parameters
    ----------
    log_file
        The ``--log-file`` value.
    args
        The remaining command-line arguments: any that names an existing file or
        folder is treated as an input (or the output folder).

    Raises
    ------
    InputError
        The log file is one of the arguments, lies inside a folder given as an
        argument or inside an earlier neurotox output, is a special file other
        than a character device, its folder does not exist, or it exists and
        does not start like a neurotox log.

    """
    where = "--log-file"
    _check_not_an_argument(log_file, args)
    if not log_file.exists():
        if log_file.parent.exists() and not log_file.parent.is_dir():
            raise InputError(f"{log_file}: {str(log_file.parent)!r} is a file, not a folder",
                             where=where)
        if not log_file.parent.is_dir():
            raise InputError(f"{log_file}: folder {str(log_file.parent)!r} does not exist",
                             where=where)
    _check_not_in_an_output(log_file)
    if not log_file.exists():
        return
    mode = log_file.stat().st_mode
    if stat.S_ISCHR(mode):
        return  # /dev/null, a terminal
    if not stat.S_ISREG(mode):
        raise InputError(f"{log_file} is {file_kind(mode)}, not a log file", where=where)
    with open(log_file, "rb") as f:
        head = f.read(64)
    if head and not _LOG_LINE.match(head):
        raise InputError(f"{log_file} exists and is not a neurotox log; refusing to append "
                         "to it", where=where)


def _check_not_an_argument(log_file: Path, args: list[str]) -> None:
    """Refuse a log that is, or lies inside, a file or folder given to the command.

    One not there yet is refused too: the command would create it (``-o``), and the
    log, opened first, would take its name.
    """
    for arg in _path_args(args):
        p = Path(arg)
        same = os.path.abspath(p) == os.path.abspath(log_file) if not p.exists() else \
            log_file.exists() and os.path.samefile(p, log_file)
        if same:
            raise InputError(f"{log_file} is also given as {arg!r}; the log must be a file "
                             "of its own", where="--log-file")
        if p.is_dir() and lies_within(log_file, p):
            raise InputError(f"{log_file} lies inside the folder {arg!r} given to the "
                             "command; write the log elsewhere", where="--log-file")


def _check_not_in_an_output(log_file: Path) -> None:
    """Refuse a log inside an earlier neurotox output: its manifest would no longer verify."""
    from neurotox.io.output import enclosing_output

    outer = enclosing_output(log_file)
    if outer is not None:
        raise InputError(f"{log_file} lies inside the neurotox output {str(outer)!r} (its "
                         "manifest would no longer verify); write the log elsewhere",
                         where="--log-file")


def _path_args(args: list[str]) -> list[str]:
    out = []
    for a in args:
        out.append(a)
        if a.startswith("-") and "=" in a:
            out.append(a.split("=", 1)[1])
    return [a for a in out if a and "\x00" not in a]


def _setup_logging(quiet: bool | None, log_file: str | None, log_format: str = "text") -> None:
    level = logging.WARNING if quiet else logging.DEBUG if quiet is False else logging.INFO
    root = logging.getLogger("neurotox")
    _close_handlers(root)
    root.setLevel(logging.DEBUG)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(level)
    console.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(console)
    if log_file:
        from neurotox.files import LogFileHandler

        fh = LogFileHandler(log_file, encoding="utf-8")
        fh.setLevel(logging.DEBUG)
        if log_format == "json":
            fh.setFormatter(JsonFormatter())
        root.addHandler(fh)
    root.propagate = False
    quiet_third_party(root.handlers[-1] if log_file else None, setup=True)
    warnings.showwarning = _log_warning


def _log_unraisable(unraisable: Any) -> None:
    """Log at DEBUG level an exception raised where none can be (not print its traceback).

    A generator or file the garbage collector closes after the real failure
    (openpyxl's worksheet writer after a full disk) would print a traceback after
    the command's one error line.
    """
    log.debug("ignored during cleanup (%s): %s: %s", getattr(unraisable.object, "__qualname__",
              repr(unraisable.object)), type(unraisable.exc_value).__name__,
              unraisable.exc_value)


def _json_console() -> logging.Handler | None:
    """The console handler of ``--log-format json``, if that is the format."""
    return next((h for h in logging.getLogger("neurotox").handlers
                 if type(h) is logging.StreamHandler
                 and isinstance(h.formatter, JsonFormatter)), None)


def _say(text: str, level: int = logging.ERROR, formatter: logging.Formatter | None = None,
         **fields: Any) -> None:
    """A line of the CLI itself on standard error (``Error: …``, ``WARNING: …``, ``INFO: …``).

    With ``--log-format json`` it is a JSON line like the log's (``fields`` added),
    also written to the log file, so that standard error holds only JSON lines.
    ``formatter`` is that format's, kept for a line said after the command's log
    handlers are closed.
    """
    handlers = logging.getLogger("neurotox").handlers
    console = _json_console()
    formatter = console.formatter if console is not None else formatter
    if formatter is None:
        click.echo(text, err=True)
        return
    message = re.sub(r"^(Error|WARNING|INFO): ", "", text)
    record = log.makeRecord(log.name, level, "neurotox", 0, message,
                            None, None, extra={JSON_FIELDS: fields})
    click.echo(formatter.format(record), err=True)
    for h in handlers:
        if isinstance(h, logging.FileHandler) and h.level <= level:
            try:
                h.handle(record)
            except OSError:
                pass   # the log file's own write error is what is being said


def _warning_source(filename: str) -> str:
    """The package a warning was raised in (``statsmodels``, ``numpy``, ``neurotox``)."""
    parts = Path(filename).parts
    for anchor in ("site-packages", "dist-packages"):
        if anchor in parts and parts.index(anchor) + 1 < len(parts):
            return parts[parts.index(anchor) + 1].removesuffix(".py")
    return "neurotox" if "neurotox" in parts else Path(filename).stem


def _log_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: Any = None, line: str | None = None) -> None:
    """A Python warning (numpy, scipy, statsmodels ...) as one log line, not raw on stderr.

    Installed as :func:`warnings.showwarning` for the run (also in forked workers):
    ``WARNING: statsmodels (SingularMatrixWarning): The design matrix is ...``.
    """
    text = " ".join(str(message).split())
    log.warning("%s (%s): %s", _warning_source(filename), category.__name__, text)


def _show_version(ctx: click.Context, value: bool) -> None:
    """``--version`` (the version is looked up only when asked for)."""
    if value and not ctx.resilient_parsing:
        from neurotox import __version__

        click.echo(f"neurotox, version {__version__}")
        ctx.exit()


def _on_sigterm(signum: int, frame: Any) -> None:
    """Stop the command (:class:`Terminated`), unless its output is complete already.

    SIGINT (Ctrl-C) stops it as Python does by default (:class:`KeyboardInterrupt`:
    click's ``Aborted!``, exit 1). A complete output (renamed into place, a study
    stored) stays the run's result: the command ends as it would have (printing
    its last line), exit 0, and :func:`_late_note` says that the signal came.
    """
    if committed_outputs() or _END.ended:
        _record_late(signum, frame)
        return
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signal.Signals(signum).name)


def _record_late(signum: int, frame: Any) -> None:
    """Note a SIGTERM, SIGHUP or SIGINT that came after the command's output was complete."""
    _END.late.append(signal.Signals(signum).name)


#: Signals handled by :func:`_on_sigterm`, each with the handler it must have to be
#: taken over (its default action; Python's KeyboardInterrupt for SIGINT).
_HANDLED = tuple((getattr(signal, name), default) for name, default in (
    ("SIGTERM", signal.SIG_DFL), ("SIGHUP", signal.SIG_DFL),
    ("SIGINT", signal.default_int_handler)) if hasattr(signal, name))


def _handle_sigterm(ctx: click.Context) -> None:
    """Handle SIGTERM, SIGHUP and SIGINT for this command (:func:`_on_sigterm`).

    SIGTERM and SIGHUP become :class:`Terminated`; SIGINT still raises
    KeyboardInterrupt (click's ``Aborted!``); after the output is complete all three
    are only noted. Only in the main thread, and only where the
    signal has its default action: a signal the caller chose to ignore (``nohup``, a
    background job's SIGINT) stays ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for sig, default in _HANDLED:
        if signal.getsignal(sig) is not default:
            continue
        previous = signal.signal(sig, _on_sigterm)
        # run as the program, the process ends right after the command: the signal
        # only noted until then (a default action would kill it, exit 143, no line)
        ctx.call_on_close(lambda sig=sig, previous=previous: signal.signal(
            sig, _record_late if _END.owned else previous))


def _limits(ctx: click.Context, max_file: str | None, max_unpacked: str | None) -> None:
    from neurotox.files import parse_size, reset_limits, set_limits

    if max_file is None and max_unpacked is None:
        return
    token = set_limits(
        max_file_bytes=parse_size(max_file, what="--max-file-size") if max_file else None,
        max_unpacked_bytes=parse_size(max_unpacked, what="--max-unpacked-size")
        if max_unpacked else None)
    ctx.call_on_close(lambda: reset_limits(token))


@click.group(name="neurotox", cls=NeurotoxGroup,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=lambda ctx, param, value: _show_version(ctx, value),
              help="Show the version and exit.")
@click.option("--quiet/--verbose", "-q/-v", default=None,
              help="Only warnings and errors / also debug messages. Default: progress info.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE",
              help="Also write a detailed log to this file (appended; never an input).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              envvar="NEUROTOX_LOG_FORMAT", show_envvar=True,
              help="Log lines as text, or as one JSON object per line (UTC time, level, "
                   "run ID, process ID, message) on standard error and in --log-file: for "
                   "pipelines.  [default: text]")
@click.option("--max-file-size", metavar="SIZE", default=None,
              help="Largest input file read, e.g. 500M, 8G [default: 4G; env "
                   "NEUROTOX_MAX_FILE_SIZE].")
@click.option("--max-unpacked-size", metavar="SIZE", default=None,
              help="Largest content unpacked from one xlsx or gzip file [default: 512M; env "
                   "NEUROTOX_MAX_UNPACKED_SIZE].")
@click.option("--warnings-as-errors", is_flag=True, default=False,
              help="Fail the run (exit 2, nothing written) on any warning it would record "
                   "(swapped channels, uncalibrated fields ...): for unattended pipelines.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool | None, log_file: Path | None, log_format: str,
        max_file_size: str | None, max_unpacked_size: str | None,
        warnings_as_errors: bool) -> None:
    """Neurotoxicity assay analysis.

    Raw assay output to endpoint data, statistics and GLP-style summary tables.
    """
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = bool(quiet)
    for stream in (sys.stdout, sys.stderr):   # file names that are not UTF-8 print as \xff
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    ctx.obj["log_file"] = log_file
    _handle_sigterm(ctx)
    _limits(ctx, max_file_size, max_unpacked_size)
    ctx.with_resource(command_scope())   # notes before the output opens; outputs done
    if warnings_as_errors:
        from neurotox.files import WARNINGS_AS_ERRORS

        strict = WARNINGS_AS_ERRORS.set(True)
        ctx.call_on_close(lambda: WARNINGS_AS_ERRORS.reset(strict))
    if log_file is not None:
        check_log_file(log_file, ctx.meta.get("neurotox_command_args", []))
    shown = warnings.showwarning   # _setup_logging logs warnings; restored at the end
    ctx.call_on_close(lambda: setattr(warnings, "showwarning", shown))
    # cleanup errors after a failure go to the log, not stderr; for the rest of the process
    # too: the garbage collector may close a failed writer only at interpreter exit
    sys.unraisablehook = _log_unraisable
    run = start_run()                     # the run ID of the log lines and run.json
    ctx.call_on_close(lambda: end_run(run))
    _setup_logging(quiet, str(log_file) if log_file else None, log_format)
    ctx.call_on_close(end_quiet)
    if log_file is not None:   # whatever the command reads, it never reads its own log
        token = reserve(log_file, "the log file (--log-file)")
        ctx.call_on_close(lambda: unreserve(token))
    ctx.call_on_close(lambda: _close_handlers(logging.getLogger("neurotox")))


#: Command name → (module, attribute); a command is named like its function
#: (``_`` shown as ``-``: ``zebrafish_screen`` is ``neurotox zebrafish-screen``).
_LAZY = {spec.split(":")[1].replace("_", "-"): tuple(spec.split(":"))
         for spec in COMMAND_MODULES}
