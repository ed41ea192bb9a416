"""Exact and Monte Carlo permutation distributions of rank statistics, ties included.

The pooled values are split into tie classes (the distinct values, ascending).
Under the null hypothesis every assignment of the N values to the groups (sizes
fixed) is equally likely. Rank statistics with mid-ranks (Mann-Whitney counts,
Steel's maximum, Jonckheere-Terpstra's J) depend only on the *table* of counts
(tie class x group), so their exact conditional distribution is a sum over
tables, each weighted by the number of assignments giving it,
``prod_j t_j! / prod_g c_jg!``. The tables are built class by class, merging
partial tables that agree on the counts placed so far and on the statistic;
with many ties (scores, counts) this is far smaller than the N!/prod n_g!
arrangements of complete enumeration, and without ties it is never larger.

Statistics are carried as integers (twice the Mann-Whitney counts) so that equal
values compare equal.

References
----------
Mehta CR, Patel NR (1983). A network algorithm for performing Fisher's exact
test in r x c contingency tables. JASA 78:427-434 (tables as paths through
a network of partial sums).

"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np

#: Largest estimated work (:func:`exact_cost`) of an exact computation.
EXACT_WORK_LIMIT = 1e7

#: Monte Carlo resamples and seed used when a test falls back to simulation.
MC_RESAMPLES = 20_000
MC_SEED = 20240229


def tie_table(samples: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Class codes of the pooled values and the observed (class x group) count table."""
    pooled = np.concatenate(samples)
    _, codes = np.unique(pooled, return_inverse=True)
    group = np.repeat(np.arange(len(samples)), [len(s) for s in samples])
    table = np.zeros((codes.max() + 1, len(samples)), dtype=np.int64)
    np.add.at(table, (codes, group), 1)
    return codes, table


def compositions(total: int, parts: int) -> np.ndarray:
    """Every way to write ``total`` as an ordered sum of ``parts`` non-negative integers."""
    if math.comb(total + parts - 1, parts - 1) <= 10_000:
        return _small_compositions(total, parts)
    return _compositions(total, parts)


@functools.lru_cache(maxsize=256)
def _small_compositions(total: int, parts: int) -> np.ndarray:
    out = _compositions(total, parts)
    out.flags.writeable = False
    return out


def _compositions(total: int, parts: int) -> np.ndarray:
    if parts == 1:
        return np.array([[total]], dtype=np.int64)
    rows = []
    for first in range(total, -1, -1):
        rest = compositions(total - first, parts - 1)
        rows.append(np.column_stack([np.full(len(rest), first, dtype=np.int64), rest]))
    return np.concatenate(rows)


def _encode(cols: np.ndarray, highs: np.ndarray) -> np.ndarray | None:
    """Mixed-radix int64 key of each row (None when it would overflow)."""
    radix = highs.astype(np.float64) + 1
    if np.prod(radix) >= 2.0**62:
        return None
    mult = np.concatenate([np.cumprod(radix[::-1])[::-1][1:], [1.0]]).astype(np.int64)
    return cols @ mult


def _merge(keys_cols: np.ndarray, highs: np.ndarray,
           logw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows and the log of their summed weights."""
    code = _encode(keys_cols, highs)
    if code is None:
        uniq, inv = np.unique(keys_cols, axis=0, return_inverse=True)
    else:
        ucode, first, inv = np.unique(code, return_index=True, return_inverse=True)
        uniq = keys_cols[first]
    top = logw.max()
    w = np.bincount(inv.ravel(), weights=np.exp(logw - top))
    return uniq, np.log(w) + top


def _margins(table: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Class sizes and group sizes of a count table: all an exact distribution depends on."""
    return (tuple(int(t) for t in table.sum(axis=1)), tuple(int(c) for c in table.sum(axis=0)))


def exact_cost(table: np.ndarray, stat_range: Callable[[np.ndarray], np.ndarray],
               limit: float | None = None) -> float:
    """Upper bound on the work of :func:`exact_distribution`, computed without running it.

    After each class the merged states are at most, per vector of counts placed,
    the smaller of the number of partial tables reaching it and the number of
    statistic values possible there (``stat_range(placed)``); the work is that
    bound times the splits of the next class. The bound is itself computed over
    count vectors only, and abandoned (``inf``) as soon as it exceeds ``limit``
    (default :data:`EXACT_WORK_LIMIT`) or a class has too many splits, so the
    estimate stays cheap whatever the design.
    """
    limit = EXACT_WORK_LIMIT if limit is None else limit
    return _exact_cost(_margins(table), stat_range, float(limit))


@functools.lru_cache(maxsize=512)
def _exact_cost(margins: tuple[tuple[int, ...], tuple[int, ...]],
                stat_range: Callable[[np.ndarray], np.ndarray], limit: float) -> float:
    sizes, caps = list(margins[0]), np.asarray(margins[1], np.int64)
    n_splits = [math.comb(t + caps.size - 1, caps.size - 1) for t in sizes]
    if max(n_splits) * (caps.size + 2) > CHUNK_ELEMENTS or max(n_splits) > limit:
        return np.inf  # one class alone would split into too many ways
    placed = np.zeros((1, caps.size), np.int64)
    logn = np.zeros(1)
    work = 0.0
    for j, t in enumerate(sizes):
        if placed.shape[0] * n_splits[j] > limit:
            return np.inf
        comps = compositions(t, caps.size)
        placed, logn = _step(placed, logn, comps, np.zeros(len(comps)), caps, caps, None)
        nxt = n_splits[j + 1] if j + 1 < len(sizes) else 1
        work += float(np.minimum(np.exp(logn), stat_range(placed)).sum()) * nxt
        if work > limit:
            return np.inf
    return work


Increment = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: Largest number of array elements one expansion step builds at a time.
CHUNK_ELEMENTS = 2_000_000


def _step(keys: np.ndarray, logw: np.ndarray, comps: np.ndarray, lm: np.ndarray,
          caps: np.ndarray, highs: np.ndarray,
          increment: Increment | None) -> tuple[np.ndarray, np.ndarray]:
    """Split one class over the groups from every state, merging as it goes.

    ``keys`` are (counts placed, statistics); states are expanded in chunks of
    at most :data:`CHUNK_ELEMENTS` array elements, so memory stays bounded
    whatever the number of states.
    """
    g = caps.size
    per_state = len(comps) * keys.shape[1]
    chunk = max(1, CHUNK_ELEMENTS // per_state)
    parts, weights = [], []
    for start in range(0, keys.shape[0], chunk):
        part = keys[start:start + chunk]
        new_p = part[:, None, :g] + comps[None, :, :]
        si, ci = np.nonzero(np.all(new_p <= caps, axis=2))
        new = new_p[si, ci]
        if increment is not None:
            new = np.concatenate([new, part[si, g:] + increment(part[:, :g], comps)[si, ci]],
                                 axis=1)
        k, w = _merge(new, highs, logw[start:start + chunk][si] + lm[ci])
        parts.append(k)
        weights.append(w)
    if len(parts) == 1:
        return parts[0], weights[0]
    return _merge(np.concatenate(parts), highs, np.concatenate(weights))


def exact_distribution(table: np.ndarray, increment: Increment, n_stats: int,
                       stat_high: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Exact null distribution of integer statistics built class by class.

    Parameters
    ----------
    table
        Observed (class x group) counts; only its margins are used.
    increment
        ``increment(placed, comps)`` → integer increments of the statistics,
        shape (states, compositions, n_stats), when a class is split as
        ``comps`` (compositions, groups) after ``placed`` (states, groups) values
        of smaller classes.
    n_stats
        Number of statistics carried.
    stat_high
        Largest possible value of each statistic (for merging keys).

    Returns
    -------
    tuple of numpy.ndarray
        Distinct statistic vectors (S, n_stats) and their probabilities (S,).

    """
    return _exact_distribution(_margins(table), increment, n_stats,
                               tuple(int(h) for h in stat_high))


@functools.lru_cache(maxsize=256)
def _exact_distribution(margins: tuple[tuple[int, ...], tuple[int, ...]], increment: Increment,
                        n_stats: int, stat_high: tuple[int, ...]
                        ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exact_distribution` by margins, cached (read-only arrays).

    The same design and tie pattern recur across the endpoints of a study (FOB
    scores, counts): 58 exact trend tests of the simulated TG 424 study have 32
    distinct margins.
    """
    sizes, caps = margins[0], np.asarray(margins[1], np.int64)
    g = caps.size
    highs = np.concatenate([caps, np.asarray(stat_high, np.int64)])
    keys = np.zeros((1, g + n_stats), np.int64)
    logw = np.zeros(1)
    lg = np.array([math.lgamma(v + 1) for v in range(int(caps.sum()) + 1)])
    for t in sizes:
        comps = compositions(t, g)
        lm = lg[t] - lg[comps].sum(axis=1)
        keys, logw = _step(keys, logw, comps, lm, caps, highs, increment)
    w = np.exp(logw - logw.max())
    stats, prob = keys[:, g:], w / w.sum()
    stats.flags.writeable = False
    prob.flags.writeable = False
    return stats, prob


def random_tables(codes: np.ndarray, group_sizes: Sequence[int], resamples: int,
                  seed: int, chunk: int = 2000):
    """Yield count tables (chunk, classes, groups) of random permutations of the codes."""
    rng = np.random.default_rng(seed)
    n_class = int(codes.max()) + 1
    group = np.repeat(np.arange(len(group_sizes)), group_sizes)
    g = len(group_sizes)
    done = 0
    while done < resamples:
        b = min(chunk, resamples - done)
        perm = rng.permuted(np.broadcast_to(codes, (b, codes.size)), axis=1)
        flat = (np.arange(b)[:, None] * n_class + perm) * g + group[None, :]
        counts = np.bincount(flat.ravel(), minlength=b * n_class * g)
        yield counts.reshape(b, n_class, g)
        done += b


def below(tables: np.ndarray) -> np.ndarray:
    """Counts in smaller classes: ``below[..., j, g] = sum_{i<j} table[..., i, g]``."""
    return np.cumsum(tables, axis=-2) - tables
