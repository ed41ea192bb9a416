"""Where the command's log lines go: run ID, JSON lines, third-party loggers.

Light on purpose (the CLI imports it at start). The CLI sets the run's ID
(:func:`start_run`), formats lines as text or JSON (:class:`JsonFormatter`)
and sends the records of third-party libraries to the log file only
(:func:`quiet_third_party`); code that imports such a library later, after the
library installed its own console handler (dask.distributed does on import),
calls :func:`quiet_third_party` again.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import secrets

#: Libraries whose log records go to the log file only: some log their own warnings
#: about damaged files (tifffile: "invalid offset …") that neurotox reports itself in
#: one line; dask.distributed and tornado log connection chatter.
THIRD_PARTY_LOGGERS = ("tifffile", "matplotlib", "numba", "distributed", "tornado", "bokeh",
                       "PIL")

#: The running command's ID (``YYYYMMDDTHHMMSSZ-<8 hex>``), set by the CLI.
_RUN_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("neurotox_run_id",
                                                                    default=None)


#: A record attribute holding more keys of its JSON line (the CLI's exit status, the
#: number of warnings).
JSON_FIELDS = "neurotox_json_fields"

#: The start of a JSON log line (how an earlier log is recognised before appending to it).
JSON_LINE_START = '{"time": "'


class _Destination:
    """Where third-party records go once the CLI has set up logging (else: left alone)."""

    configured = False
    handler: logging.Handler | None = None


def new_run_id(now: dt.datetime | None = None) -> str:
    """A unique run ID: UTC time of the run and 8 random hex digits."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def start_run() -> contextvars.Token:
    """Give the running command a new run ID (:func:`run_id`); returns a token to reset."""
    return _RUN_ID.set(new_run_id())


def end_run(token: contextvars.Token) -> None:
    """Forget the run ID set by :func:`start_run`."""
    _RUN_ID.reset(token)


def run_id() -> str | None:
    """The running command's ID, or None outside the CLI."""
    return _RUN_ID.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: UTC time, level, run ID, process ID, logger, message.

    ``{"time": "2026-12-05T09:25:53.850Z", "level": "WARNING", "run_id":
    "20261205T092551Z-1a2b3c4d", "pid": 4711, "logger": "neurotox.pipeline",
    "message": "…"}``; a traceback (``-v``, the log file) is the key
    ``"traceback"``. The process ID is that of the process that logged the record
    (a worker's, for what a worker logged). Lines of parallel runs sharing a log
    file are told apart by ``run_id``.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (no line breaks inside: they are escaped)."""
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC)
        doc = {"time": f"{stamp:%Y-%m-%dT%H:%M:%S}.{stamp.microsecond // 1000:03d}Z",
               "level": record.levelname, "run_id": run_id(), "pid": record.process,
               "logger": record.name, "message": record.getMessage()}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            doc["traceback"] = record.exc_text
        doc.update(getattr(record, JSON_FIELDS, {}))
        return json.dumps(doc, ensure_ascii=False, default=str)


def quiet_third_party(handler: logging.Handler | None = None, *, setup: bool = False) -> None:
    """Send third-party log records to the log file (if any), never to the console.

    Parameters
    ----------
    handler
        The log file's handler (``setup``); None: no log file, the records are dropped.
    setup
        The CLI setting up a command's logging. Without it (a module that has just
        imported such a library) the loggers are quietened again the same way, and
        only if the CLI set up logging: library use keeps its own logging.

    """
    if setup:
        _Destination.configured, _Destination.handler = True, handler
    if not _Destination.configured:
        return
    names = [n for n in list(logging.Logger.manager.loggerDict)
             if n.split(".")[0] in THIRD_PARTY_LOGGERS and "." in n]
    for name in names:                  # e.g. distributed.client: its own console handler
        lib = logging.getLogger(name)
        for h in list(lib.handlers):
            lib.removeHandler(h)
        lib.propagate = True            # to its top logger, below
    for name in THIRD_PARTY_LOGGERS:
        lib = logging.getLogger(name)
        for h in list(lib.handlers):
            lib.removeHandler(h)        # a file handler is shared with neurotox's logger
        lib.addHandler(_Destination.handler or logging.NullHandler())
        lib.propagate = False


def end_quiet() -> None:
    """The command has ended: later imports leave the libraries' logging alone."""
    _Destination.configured, _Destination.handler = False, None
