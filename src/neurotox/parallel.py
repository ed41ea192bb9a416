"""Task scheduling for any task list: in-process, a bounded local process pool, or Dask.

:func:`run_tasks` applies one picklable function to every task and yields the
results as they finish. With one worker (or one task) it runs in this process;
otherwise in a local process pool, or on a Dask cluster when ``scheduler`` is
given. At most twice as many tasks as workers are in flight at a time, so a long
task list never holds all its pending work (or all its results) at once. Nothing
here knows about assays; callers that need an order sort the results themselves.

:class:`TaskPool` is for work that should go on while the caller does something
else: tasks are submitted now and their results collected later (a report draws
its figures while it builds its tables).

What a task says in a worker process (a local pool's or a Dask worker's) -- its
log records, Python warnings and run notes -- travels back with its result and
is said again here when the result is collected (:func:`_in_worker`,
:func:`_replay`): the command counts its warnings, ``--warnings-as-errors``
refuses a warning note, and the manifest records the notes, wherever the task ran.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import functools
import logging
import os
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    CancelledError,
    Future,
    ProcessPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from neurotox.errors import InputError, NeurotoxError
from neurotox.files import NOTE_SINK, run_note
from neurotox.logs import quiet_third_party

T = TypeVar("T")
R = TypeVar("R")

#: Seconds to wait for a Dask scheduler to accept a connection before giving up.
SCHEDULER_TIMEOUT_S = 5.0
#: Seconds a run waits for a worker when its Dask scheduler has none (none started yet,
#: or all lost during the run) before it fails; env :data:`ENV_WORKER_WAIT`.
WORKER_WAIT_S = 120.0
ENV_WORKER_WAIT = "NEUROTOX_WORKER_WAIT"
#: Seconds between checks that the scheduler still has workers while tasks are pending.
WORKER_POLL_S = 5.0

log = logging.getLogger(__name__)


def check_scheduler(address: str | None) -> None:
    """Refuse a Dask scheduler address that is malformed or does not accept connections.

    Only ``tcp://HOST:PORT`` (and ``tls://``) addresses are checked by connecting,
    with a timeout of :data:`SCHEDULER_TIMEOUT_S` seconds.

    Raises
    ------
    InputError
        Naming ``--scheduler``, the address and the reason.

    """
    if address is None:
        return
    worker_wait()      # a bad NEUROTOX_WORKER_WAIT is said before the run starts
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None:
        raise InputError(f"expected a scheduler address like tcp://HOST:PORT, found "
                         f"{address!r}", where="--scheduler")
    try:
        with socket.create_connection((parts.hostname, port), timeout=SCHEDULER_TIMEOUT_S):
            pass
    except (OSError, UnicodeError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else \
            (getattr(exc, "strerror", None) or str(exc))
        raise InputError(f"cannot reach the scheduler {address}: {reason}",
                         where="--scheduler") from None
    if parts.scheme == "tcp" and not _is_dask_scheduler(address):
        raise InputError(f"{address} accepts connections but is not a Dask scheduler (no "
                         f"answer to a scheduler's handshake within {SCHEDULER_TIMEOUT_S:g} s; "
                         "the dashboard port 8787 instead of 8786?)", where="--scheduler")


def _is_dask_scheduler(address: str) -> bool:
    """Whether ``address`` answers a Dask ``identity`` request as a scheduler, within the timeout.

    A port that accepts connections may be anything (the dashboard's web server,
    another service): a client connecting to it waits forever, or reads its
    answer as a huge message length.
    """
    import asyncio

    try:
        from distributed.comm import connect
    except ImportError:  # pragma: no cover - optional dependency (refused by the caller)
        return True

    async def ask() -> Any:
        comm = await connect(address, timeout=SCHEDULER_TIMEOUT_S)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    try:
        answer = asyncio.run(asyncio.wait_for(ask(), 2 * SCHEDULER_TIMEOUT_S))
    except Exception:       # noqa: BLE001 - any failure of the handshake: not a scheduler
        return False
    return isinstance(answer, dict) and answer.get("type") == "Scheduler"


def worker_wait() -> float:
    """Seconds to wait for a Dask worker (:data:`WORKER_WAIT_S`, or ``NEUROTOX_WORKER_WAIT``).

    Raises
    ------
    InputError
        The variable is not a number of seconds above 0.

    """
    text = os.environ.get(ENV_WORKER_WAIT, "").strip()
    if not text:
        return WORKER_WAIT_S
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise InputError(f"expected a number of seconds above 0, found {text!r}",
                         where=ENV_WORKER_WAIT)
    return value


def run_tasks(fn: Callable[[T], R], tasks: list[T], *, workers: int | None = None,
              scheduler: Any = None, progress: bool = False, unit: str = "task",
              desc: str | None = None, label: Callable[[T], str] | None = None) -> Iterator[R]:
    """Yield ``fn(task)`` for every task, in the order the tasks finish.

    Parameters
    ----------
    fn
        Worker function (module-level, so it pickles).
    tasks
        Picklable task objects.
    workers
        Local processes (default, and at most: the number of cores, and no more
        than the tasks); 1 runs in this process.
    scheduler
        Dask scheduler address (``tcp://host:port``) or a ``distributed.Client``;
        overrides ``workers``.
    progress
        Show a tqdm progress bar when standard error is a terminal (a batch job's
        log file gets no carriage-return updates).
    unit, desc
        Labels of the progress bar (what a task is, what the run is).
    label
        Names a task (a field and its file) for an error: a task that fails with
        an error neurotox did not foresee (a bug, not a :class:`NeurotoxError`,
        which names its file) gets the note ``"<unit> <label>"`` (:func:`task_of`),
        wherever it ran.

    """
    from tqdm import tqdm

    cores = os.cpu_count() or 1
    # never more processes than tasks or cores (CPU-bound tasks: more only cost forks and
    # memory; --workers 999 forked 999 processes for 4 fields)
    workers = min(workers or cores, cores, max(len(tasks), 1))
    named = functools.partial(_named, unit=unit, label=label)
    if scheduler is not None:
        stream = _dask_results(fn, tasks, scheduler, named)
    elif workers <= 1 or len(tasks) <= 1:
        stream = (named(t, fn, t) for t in tasks)
    else:
        stream = _pool_results(fn, tasks, workers, named)
    # disable=None: tqdm itself turns the bar off when its stream is not a terminal
    yield from tqdm(stream, total=len(tasks), disable=None if progress else True, unit=unit,
                    desc=desc)


#: Start of the note that names the task an unforeseen error happened in (:func:`task_of`).
TASK_NOTE = "in task: "


def _named(task: T, get: Callable[[T], R], arg: Any, *, unit: str,
           label: Callable[[T], str] | None) -> R:
    """``get(arg)`` (the task run here, or its future's result); its error names ``task``."""
    try:
        return get(arg)
    except (NeurotoxError, BrokenExecutor, CancelledError):
        raise        # names its file already; not this task's own error
    except Exception as exc:
        if label is not None and not task_of(exc):
            exc.add_note(f"{TASK_NOTE}{unit} {label(task)}")
        raise


def task_of(exc: BaseException) -> str:
    """The task an error happened in, as :func:`run_tasks` noted it ("" when not noted)."""
    notes = [n for n in getattr(exc, "__notes__", []) if n.startswith(TASK_NOTE)]
    return notes[0].removeprefix(TASK_NOTE) if notes else ""


class TaskPool:
    """Tasks submitted now, their results collected later.

    A local process pool of ``workers`` processes (default: one per core), forked
    at the first submission (or :meth:`start`) so that they inherit what this
    process has loaded by then, each running ``initializer`` first; with one
    worker each task runs in this process when it is submitted (no initializer).
    Use as a context manager: leaving it waits for the tasks still running, or
    cancels the queued ones when an exception leaves it.
    """

    def __init__(self, workers: int | None = None, *,
                 initializer: Callable[[], Any] | None = None):
        self.workers = workers or os.cpu_count() or 1
        self.initializer = initializer
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Fork the processes now (they run ``initializer`` while this process goes on)."""
        if self.workers > 1 and self._pool is None:
            self.submit(_nothing, None)

    def submit(self, fn: Callable[[T], R], task: T) -> Future:
        """``fn(task)`` as a future (module-level ``fn`` and picklable ``task``)."""
        if self.workers <= 1:
            done: Future = Future()
            try:
                done.set_result(fn(task))
            except Exception as exc:  # raised again by done.result()
                done.set_exception(exc)
            return done
        if self._pool is None:
            self._pool = _executor(self.workers, self.initializer)
        try:
            return TaskFuture(_submit(self._pool, _in_worker, fn, _origin(), task))
        except BaseException:
            self._pool = None    # ended by _submit
            raise

    @property
    def running(self) -> bool:
        """True once the processes are forked (what this process loads later, they do not see)."""
        return self._pool is not None

    def close(self, *, cancel: bool = False) -> None:
        """Shut the processes down: wait for running tasks, drop queued ones if ``cancel``."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None

    def __enter__(self) -> TaskPool:
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        self.close(cancel=exc_type is not None)


def _nothing(_: Any) -> None:
    return None


#: Signals whose Python handlers (KeyboardInterrupt, the CLI's Terminated) a forked worker
#: inherits: each would print a worker traceback when a Ctrl-C or a SIGTERM reaches the
#: whole process group. Workers take the default action (end quietly); this process
#: reports and cleans up. A signal ignored here (nohup, a background job) stays ignored.
_WORKER_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP")
                        if hasattr(signal, n))


#: Seconds between a worker's checks that the process that started it is still there.
PARENT_CHECK_S = 1.0


def _exit_with_parent(parent: int) -> None:
    """End this worker once ``parent`` is gone (killed with SIGKILL, or by the OOM killer).

    Without it the workers of a killed run live on forever, waiting for tasks on a
    queue whose other end their siblings keep open, and hold the run's stdout,
    stderr and log open: a pipeline reading them never sees the end.
    """
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


#: Why this worker's ``initializer`` failed: raised by every task it is given.
_START_FAILED: list[BaseException] = []


def _worker_start(parent: int, initializer: Callable[[], Any] | None = None) -> None:
    """First thing in every worker: default signals, a watch on the parent, ``initializer``.

    The watch (:func:`_exit_with_parent`) ends the worker when its run is killed.
    A failing ``initializer`` is not left to the pool (a raw worker traceback on
    standard error, then every task lost as "a process died"): the worker keeps
    the error and its tasks raise it, so that the main process reports it once.
    """
    for sig in _WORKER_SIGNALS:
        if callable(signal.getsignal(sig)):
            signal.signal(sig, signal.SIG_DFL)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True,
                     name="neurotox-parent-watch").start()
    # errors a compiled library prints instead of raising (scipy's Sobol tables failing
    # to load when no file descriptor is left) go to the log, not the run's stderr
    sys.excepthook = _log_printed_error
    sys.unraisablehook = lambda u: _log_printed_error(type(u.exc_value), u.exc_value, None)
    if initializer is not None:
        try:
            initializer()
        except Exception as exc:
            _START_FAILED.append(_start_failure(exc))


def _log_printed_error(kind: type, value: BaseException, tb: Any) -> None:
    """What a library prints as an error in a worker (at exit, too): DEBUG, its traceback kept.

    Not a task's own error: that travels back with the task (:func:`run_tasks`,
    :class:`TaskFuture`) and is raised where the run collects it, naming the task.
    """
    log.debug("a worker library reported %s: %s", kind.__name__, value,
              exc_info=(kind, value, tb))


def _start_failure(exc: Exception) -> BaseException:
    """The error to report for a worker whose start failed.

    Too few file descriptors (``ulimit -n``) show only as a library that could
    not load (imagecodecs' ``DelayedImportError``): when the worker has almost none
    left, that is the error, as :class:`OSError` EMFILE.
    """
    if _descriptors_exhausted():
        return OSError(errno.EMFILE, f"{os.strerror(errno.EMFILE)}: a worker process could "
                       "not load its libraries")
    return exc


def _descriptors_exhausted(margin: int = 8) -> bool:
    """Whether this process could not open ``margin`` more files now."""
    opened: list[int] = []
    try:
        for _ in range(margin):
            opened.append(os.open(os.devnull, os.O_RDONLY))
    except OSError as exc:
        return exc.errno in (errno.EMFILE, errno.ENFILE)
    finally:
        for fd in opened:
            os.close(fd)
    return False


def _executor(workers: int, initializer: Callable[[], Any] | None = None
              ) -> ProcessPoolExecutor:
    """A process pool whose workers leave signals to this process and end with it.

    See :func:`_worker_start`.
    """
    return ProcessPoolExecutor(max_workers=workers, initializer=functools.partial(
        _worker_start, os.getpid(), initializer))


def _submit(pool: ProcessPoolExecutor, *args: Any) -> Future:
    """``pool.submit(*args)``; a pool that fails to start its processes ends those started.

    The first submission forks the processes: one that fails (too many open files)
    leaves the processes forked before it waiting for tasks that never come, and
    this process waiting for them at exit.
    """
    try:
        return pool.submit(*args)
    except BaseException:
        _abandon(pool)
        raise


def _abandon(pool: ProcessPoolExecutor) -> None:
    """End a pool whose processes did not all start: kill them, close its pipes.

    Its pipes are closed at once, not when the pool is collected: with too many
    files open, removing the staging folder needs those descriptors.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pipes = [getattr(pool, name, None) for name in
             ("_call_queue", "_result_queue", "_executor_manager_thread_wakeup")]
    for process in processes:
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join()
    for pipe in pipes:
        if pipe is not None:
            with contextlib.suppress(OSError, ValueError):
                pipe.close()


def _bounded(submit: Callable[[T], Any], done_of: Callable[[set], tuple[set, set]],
             result_of: Callable[[Any], R], tasks: Iterable[T],
             in_flight: int, named: Callable[..., R]) -> Iterator[R]:
    """Keep at most ``in_flight`` tasks submitted; yield results as they finish.

    ``named(task, result_of, future)``: a result whose error names its task (:func:`_named`).
    """
    task_of_future: dict[Any, T] = {}
    pending: set = set()
    for task in tasks:
        future = submit(task)
        task_of_future[future] = task
        pending.add(future)
        if len(pending) >= in_flight:
            done, pending = done_of(pending)
            yield from (named(task_of_future.pop(f), result_of, f) for f in done)
    while pending:
        done, pending = done_of(pending)
        yield from (named(task_of_future.pop(f), result_of, f) for f in done)


def _pool_results(fn: Callable[[T], R], tasks: list[T], workers: int,
                  named: Callable[..., R]) -> Iterator[R]:
    origin = _origin()
    with _executor(workers) as pool:
        yield from _bounded(lambda t: _submit(pool, _in_worker, fn, origin, t),
                            lambda p: wait(p, return_when=FIRST_COMPLETED),
                            lambda f: _replay(f.result()), tasks, 2 * workers, named)


def _dask_results(fn: Callable[[T], R], tasks: list[T], scheduler: Any,
                  named: Callable[..., R]) -> Iterator[R]:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - optional dependency
        raise InputError("--scheduler needs dask.distributed; install neurotox[distributed]"
                         ) from None
    from distributed.client import FuturesCancelledError

    quiet_third_party()     # importing distributed gave it a console handler of its own
    own = isinstance(scheduler, str)
    if own:
        check_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot connect to the scheduler {scheduler}: "
                             f"{' '.join(str(exc).split()) or type(exc).__name__}",
                             where="--scheduler") from None
    else:
        client = scheduler
    address = scheduler if own else getattr(client.scheduler, "address", "")
    try:
        wait = worker_wait()
        n = _workers(client, address, wait=wait)
        origin = _origin()
        yield from _bounded(lambda t: client.submit(_in_worker, fn, origin, t, pure=False),
                            lambda p: _first_done(client, address, p, wait),
                            lambda f: _replay(f.result()), tasks, 2 * n, named)
    except (CancelledError, OSError) as exc:   # FuturesCancelledError, CommClosedError
        if client.status == "running" and not isinstance(exc, FuturesCancelledError):
            raise     # a task's own error (a file it could not read ...)
        raise InputError(f"lost the connection to the scheduler {address} "
                         "during the run (scheduler stopped or unreachable); nothing was "
                         "written", where="--scheduler") from None
    except RuntimeError as exc:
        if not str(exc).startswith(_NOT_LOADED):
            raise
        raise InputError(f"the Dask cluster of {address} cannot load this run's tasks: its "
                         "scheduler or workers run another neurotox version or Python "
                         "environment (start them from the same installation); nothing was "
                         "written", where="--scheduler") from None
    finally:
        if own:
            client.close()


#: How dask.distributed reports a task its scheduler or worker could not unpickle.
_NOT_LOADED = "Error during deserialization of the task graph"


def _workers(client: Any, address: str, *, wait: float, lost: bool = False) -> int:
    """The scheduler's workers, waiting up to ``wait`` seconds for one when it has none.

    Raises
    ------
    InputError
        Still no worker after ``wait`` seconds, naming the scheduler.

    """
    n = len(client.scheduler_info().get("workers", {}))
    if n:
        return n
    log.info("waiting for workers: the scheduler %s has none%s (up to %g s; %s sets the "
             "wait)", address, " left" if lost else "", wait, ENV_WORKER_WAIT)
    try:
        client.wait_for_workers(1, timeout=wait)
    except TimeoutError:
        what = "lost its last worker and none joined again" if lost else "has no workers"
        raise InputError(f"the scheduler {address} {what} within {wait:g} s; start workers "
                         f"('dask worker {address}') or set {ENV_WORKER_WAIT} to wait longer; "
                         "nothing was written", where="--scheduler") from None
    return len(client.scheduler_info().get("workers", {}))


def _first_done(client: Any, address: str, pending: set, wait: float) -> tuple[set, set]:
    """Wait until a pending task is done, failing if the workers are gone ``wait`` s."""
    from distributed import wait as dwait

    while True:
        try:
            return _split(dwait(pending, timeout=WORKER_POLL_S, return_when="FIRST_COMPLETED"))
        except TimeoutError:
            _workers(client, address, wait=wait, lost=True)


def _split(result: Any) -> tuple[set, set]:
    return set(result.done), set(result.not_done)


# ------------------------------------------------------------------ what tasks say in workers

@dataclass
class _Said:
    """What one task said in a worker: log records, Python warnings, run notes."""

    records: list[logging.LogRecord] = field(default_factory=list)
    warnings: list[tuple[str, type[Warning], str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Reported(Generic[R]):
    """A task's result and what the task said on the way."""

    value: R
    said: _Said


#: What the task running in this thread of a worker has said so far (a Dask worker runs
#: several tasks at once, one per thread; a local pool's worker one at a time).
_TASK: contextvars.ContextVar[_Said | None] = contextvars.ContextVar("neurotox_task_said",
                                                                    default=None)
_ROUTED = threading.Lock()
_routed: list[bool] = []


def _origin() -> tuple[int, int]:
    """The ID of the submitting process and the lowest level it logs (what a worker keeps)."""
    return os.getpid(), logging.getLogger("neurotox").getEffectiveLevel()


class _TaskLog(logging.Handler):
    """In a worker: a task's records kept for its result; other records as before."""

    def __init__(self, before: list[logging.Handler]):
        super().__init__()
        self.before = before

    def emit(self, record: logging.LogRecord) -> None:
        said = _TASK.get()
        if said is None:
            for h in self.before:
                if record.levelno >= h.level:
                    h.handle(record)
        else:
            said.records.append(_portable(record))


class _TaskWarnings:
    """In a worker: a task's Python warnings kept for its result; others shown as before."""

    def __init__(self, shown: Callable[..., None]):
        self.shown = shown

    def __call__(self, message: Warning | str, category: type[Warning], filename: str,
                 lineno: int, file: Any = None, line: str | None = None) -> None:
        said = _TASK.get()
        if said is None:
            self.shown(message, category, filename, lineno, file, line)
        else:
            said.warnings.append((str(message), category, filename, lineno))


def _portable(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of ``record`` that pickles: the message formatted, a traceback as text."""
    copy = logging.makeLogRecord(record.__dict__)
    copy.msg, copy.args = record.getMessage(), None
    if record.exc_info:
        copy.exc_text = record.exc_text or logging.Formatter().formatException(record.exc_info)
    copy.exc_info = None
    return copy


def _route_worker_output() -> None:
    """Once per worker process: tasks' records and warnings go to their results."""
    with _ROUTED:
        if _routed:
            return
        logger = logging.getLogger("neurotox")
        before = list(logger.handlers)
        for h in before:
            logger.removeHandler(h)
        logger.addHandler(_TaskLog(before))
        warnings.showwarning = _TaskWarnings(warnings.showwarning)
        _routed.append(True)


def _in_worker(fn: Callable[[T], R], origin: tuple[int, int], task: T) -> _Reported[R]:
    """``fn(task)`` in a worker, with what it notes (and, in another process, logs and warns).

    ``origin``: the ID of the process that submitted the task and the lowest level
    it logs (:func:`_origin`). A Dask worker thread in that same process logs there
    directly.
    """
    if _START_FAILED:
        raise _START_FAILED[0]
    pid, level = origin
    said = _Said()
    sink, token = NOTE_SINK.set(said.notes.append), None
    if os.getpid() != pid:
        _route_worker_output()
        logger = logging.getLogger("neurotox")
        if logger.getEffectiveLevel() > level:
            logger.setLevel(level)      # a Dask worker's default is WARNING
        token = _TASK.set(said)
    try:
        return _Reported(fn(task), said)
    finally:
        NOTE_SINK.reset(sink)
        if token is not None:
            _TASK.reset(token)


def _replay(out: _Reported[R] | R) -> R:
    """A task's result; what it said in its worker is said here now (once)."""
    if not isinstance(out, _Reported):
        return out
    for record in out.said.records:
        logging.getLogger(record.name).handle(record)
    for message, category, filename, lineno in out.said.warnings:
        warnings.showwarning(message, category, filename, lineno)
    for message in out.said.notes:
        run_note(message)
    return out.value


class TaskFuture(Generic[R]):
    """The future of a task run by :class:`TaskPool` in a worker process.

    :meth:`result` gives the task's result and, the first time, says here what
    the task said in its worker (:func:`_replay`).
    """

    def __init__(self, future: Future):
        self._future = future
        self._lock = threading.Lock()
        self._value: list[R] = []

    def result(self, timeout: float | None = None) -> R:
        """The task's result (waiting for it); raises the task's error."""
        out = self._future.result(timeout)
        with self._lock:
            if not self._value:
                self._value.append(_replay(out))
        return self._value[0]

    def done(self) -> bool:
        """Whether the task has finished (or was cancelled)."""
        return self._future.done()

    def cancel(self) -> bool:
        """Cancel the task if it has not started."""
        return self._future.cancel()
