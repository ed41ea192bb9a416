"""The ``neurotox`` command group, global options and the error boundary.

User mistakes (:class:`~neurotox.errors.NeurotoxError`) print one line naming the
file and the row/column/key, and exit with status 2 -- never a traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from neurotox import __version__
from neurotox.errors import NeurotoxError

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

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; report NeurotoxError as one line and exit 2."""
        try:
            return super().invoke(ctx)
        except NeurotoxError as exc:
            log.debug("error detail", exc_info=True)
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)


def _close_handlers(logger: logging.Logger) -> None:
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()


def _setup_logging(quiet: bool | None, log_file: str | None) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if quiet is False else logging.INFO
    root = logging.getLogger("neurotox")
    _close_handlers(root)
    root.setLevel(logging.DEBUG)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(level)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(console)
    if log_file:
        fh = logging.FileHandler(log_file, encoding="utf-8")
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(fh)
    root.propagate = False
    _quiet_third_party(root.handlers[-1] if log_file else None)


#: Libraries that log their own warnings about damaged files (tifffile: "invalid offset
#: …"); neurotox reports the problem itself in one line, so theirs go to the log file only.
THIRD_PARTY_LOGGERS = ("tifffile",)


def _quiet_third_party(file_handler: logging.Handler | None) -> None:
    """Send third-party log records to the log file (if any), never to the console."""
    for name in THIRD_PARTY_LOGGERS:
        lib = logging.getLogger(name)
        for h in list(lib.handlers):
            lib.removeHandler(h)     # shared with neurotox's logger, closed there
        lib.addHandler(file_handler or logging.NullHandler())
        lib.propagate = False


@click.group(cls=NeurotoxGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="neurotox")
@click.option("--quiet/--verbose", "-q/-v", default=None,
              help="Only warnings and errors / also debug messages. Default: progress info.")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None,
              help="Also write a detailed log to this file.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool | None, log_file: str | None) -> None:
    """Neurotoxicity assay analysis.

    Raw assay output to endpoint data, statistics and GLP-style summary tables.
    """
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = bool(quiet)
    _setup_logging(quiet, log_file)
    ctx.call_on_close(lambda: _close_handlers(logging.getLogger("neurotox")))


#: Command name → (module, attribute); a command is named like its function
#: (``_`` shown as ``-``: ``zebrafish_screen`` is ``neurotox zebrafish-screen``).
_LAZY = {spec.split(":")[1].replace("_", "-"): tuple(spec.split(":"))
         for spec in COMMAND_MODULES}
