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
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar
from urllib.parse import urlsplit

from neurotox.errors import InputError

T = TypeVar("T")
R = TypeVar("R")

#: Seconds to wait for a Dask scheduler to accept a connection before giving up.
SCHEDULER_TIMEOUT_S = 5.0


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


def run_tasks(fn: Callable[[T], R], tasks: list[T], *, workers: int | None = None,
              scheduler: Any = None, progress: bool = False, unit: str = "task",
              desc: str | None = None) -> Iterator[R]:
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

    """
    from tqdm import tqdm

    cores = os.cpu_count() or 1
    # never more processes than tasks or cores (CPU-bound tasks: more only cost forks and
    # memory; --workers 999 forked 999 processes for 4 fields)
    workers = min(workers or cores, cores, max(len(tasks), 1))
    if scheduler is not None:
        stream = _dask_results(fn, tasks, scheduler)
    elif workers <= 1 or len(tasks) <= 1:
        stream = map(fn, tasks)
    else:
        stream = _pool_results(fn, tasks, workers)
    # disable=None: tqdm itself turns the bar off when its stream is not a terminal
    yield from tqdm(stream, total=len(tasks), disable=None if progress else True, unit=unit,
                    desc=desc)


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
        return self._pool.submit(fn, task)

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


def _worker_start(parent: int, initializer: Callable[[], Any] | None = None) -> None:
    """First thing in every worker: default signals, a watch on the parent, ``initializer``.

    The watch (:func:`_exit_with_parent`) ends the worker when its run is killed.
    """
    for sig in _WORKER_SIGNALS:
        if callable(signal.getsignal(sig)):
            signal.signal(sig, signal.SIG_DFL)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True,
                     name="neurotox-parent-watch").start()
    if initializer is not None:
        initializer()


def _executor(workers: int, initializer: Callable[[], Any] | None = None
              ) -> ProcessPoolExecutor:
    """A process pool whose workers leave signals to this process and end with it.

    See :func:`_worker_start`.
    """
    return ProcessPoolExecutor(max_workers=workers, initializer=functools.partial(
        _worker_start, os.getpid(), initializer))


def _bounded(submit: Callable[[T], Any], done_of: Callable[[set], tuple[set, set]],
             result_of: Callable[[Any], R], tasks: Iterable[T],
             in_flight: int) -> Iterator[R]:
    """Keep at most ``in_flight`` tasks submitted; yield results as they finish."""
    pending: set = set()
    for task in tasks:
        pending.add(submit(task))
        if len(pending) >= in_flight:
            done, pending = done_of(pending)
            yield from (result_of(f) for f in done)
    while pending:
        done, pending = done_of(pending)
        yield from (result_of(f) for f in done)


def _pool_results(fn: Callable[[T], R], tasks: list[T], workers: int) -> Iterator[R]:
    with _executor(workers) as pool:
        yield from _bounded(lambda t: pool.submit(fn, t),
                            lambda p: wait(p, return_when=FIRST_COMPLETED),
                            lambda f: f.result(), tasks, 2 * workers)


def _dask_results(fn: Callable[[T], R], tasks: list[T], scheduler: Any) -> Iterator[R]:
    try:
        from distributed import Client
        from distributed import wait as dwait
    except ImportError:  # pragma: no cover - optional dependency
        raise InputError("--scheduler needs dask.distributed; install neurotox[distributed]"
                         ) from None
    from distributed.client import FuturesCancelledError

    _quiet_distributed()
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
        n = max(1, len(client.scheduler_info().get("workers", {})))
        yield from _bounded(lambda t: client.submit(fn, t, pure=False),
                            lambda p: _split(dwait(p, return_when="FIRST_COMPLETED")),
                            lambda f: f.result(), tasks, 2 * n)
    except (CancelledError, OSError) as exc:   # FuturesCancelledError, CommClosedError
        if client.status == "running" and not isinstance(exc, FuturesCancelledError):
            raise     # a task's own error (a file it could not read ...)
        raise InputError(f"lost the connection to the scheduler {address} "
                         "during the run (scheduler stopped or unreachable); nothing was "
                         "written", where="--scheduler") from None
    finally:
        if own:
            client.close()


def _quiet_distributed() -> None:
    """Keep dask.distributed's own console handler (added when it is imported) off stderr.

    Its records go where the CLI sends third-party records: the log file, if any.
    """
    names = [n for n in logging.Logger.manager.loggerDict
             if n.split(".")[0] in ("distributed", "tornado")]
    for name in names:
        lib = logging.getLogger(name)
        console = [h for h in lib.handlers if type(h) is logging.StreamHandler]
        for h in console:
            lib.removeHandler(h)
        if console and "." in name:
            lib.propagate = True    # to "distributed" or "tornado": the log file, if any
    files = [h for h in logging.getLogger("neurotox").handlers
             if isinstance(h, logging.FileHandler)]      # the CLI's --log-file
    for name in ("distributed", "tornado"):
        top = logging.getLogger(name)
        for h in files:
            if h not in top.handlers:
                top.addHandler(h)
        if not top.handlers:
            top.addHandler(logging.NullHandler())
        top.propagate = False


def _split(result: Any) -> tuple[set, set]:
    return set(result.done), set(result.not_done)
