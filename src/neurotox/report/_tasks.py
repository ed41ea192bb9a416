"""Run report work (figures, benchmark-dose fits) in a few local processes.

Temporary stand-in with the call shape of ``neurotox.parallel.run_tasks`` until
that module is on this branch; results are yielded in task order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_tasks(fn: Callable[[T], R], tasks: list[T], *, workers: int | None = None) -> Iterator[R]:
    """Yield ``fn(task)`` for every task, in this process when one worker suffices."""
    workers = min(workers or os.cpu_count() or 1, len(tasks))
    if workers <= 1:
        yield from map(fn, tasks)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(fn, tasks, chunksize=max(1, len(tasks) // (4 * workers)))
