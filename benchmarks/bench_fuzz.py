"""Fuzz every reader for a fixed time and report examples tried and failures.

Uses the hypothesis strategies of ``tests/robustness/fuzzing.py`` (mutated
templates of each format, arbitrary bytes, damaged TIFFs). A failure is any
exception other than :class:`~neurotox.errors.NeurotoxError` (warnings are
errors too). Distinct failures are keyed by exception type and the innermost
neurotox source line; the first input of each is printed and saved under
``fuzz-failures/``. Each fuzzing process may use at most 6 GiB of address
space, so that unbounded allocation shows as a MemoryError finding.

Usage::

    python benchmarks/bench_fuzz.py                  # 10 min per reader
    python benchmarks/bench_fuzz.py --minutes 2 --jobs 2 --only rodent
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import traceback
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MEMORY_LIMIT = 6 << 30  # address space per fuzzing process (bytes)


def fuzz_target(name: str, seconds: float) -> dict:
    """Run the strategies of target ``name`` for ``seconds``; return counts and failures."""
    import logging

    from tests.robustness.fuzzing import targets

    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    # a reader that tries to allocate without bound fails with MemoryError here (a
    # finding, with its input) instead of taking the machine down
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    target = next(t for t in targets() if t.name == name)
    with tempfile.TemporaryDirectory(prefix="neurotox-fuzz-") as tmp:
        return _fuzz(target, Path(tmp), seconds)


def _fuzz(target, folder: Path, seconds: float) -> dict:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from tests.robustness.fuzzing import TIFF_NAMES, file_bytes, write_input

    from neurotox.errors import NeurotoxError

    tried, failures = 0, {}
    deadline = time.monotonic() + seconds

    @settings(max_examples=50, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        nonlocal tried
        raw = data.draw(file_bytes(target))
        fname = data.draw(st.sampled_from(TIFF_NAMES)) if target.binary == "tiff" else None
        path = write_input(target, raw, folder / "in", fname)
        tried += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                target.call(path)
        except NeurotoxError:
            pass
        except Exception as exc:  # every other exception is a finding
            frames = [f for f in traceback.extract_tb(exc.__traceback__)
                      if "/neurotox/" in f.filename]
            where = (f"{frames[-1].filename.split('src/')[-1]}:{frames[-1].lineno}"
                     if frames else "outside neurotox")
            failures.setdefault(f"{type(exc).__name__} at {where}",
                                (f"{' '.join(str(exc).split())[:160]} | input "
                                 f"{raw[:80]!r} ({len(raw)} bytes)", raw))

    while time.monotonic() < deadline:
        one()
    return {"name": target.name, "tried": tried, "failures": failures, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    """Fuzz every (or the selected) reader; exit 1 if any failure was found."""
    from tests.robustness.fuzzing import targets

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="time per reader (default 10)")
    ap.add_argument("--jobs", type=int, default=1, help="readers fuzzed in parallel")
    ap.add_argument("--only", default="",
                    help="comma-separated substrings of the reader names to fuzz")
    args = ap.parse_args(argv)
    wanted = [w for w in args.only.split(",") if w] or [""]
    names = [t.name for t in targets() if any(w in t.name for w in wanted)]
    print(f"fuzzing {len(names)} reader(s), {args.minutes:g} min each, {args.jobs} job(s)",
          flush=True)
    total, bad = 0, 0
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for res in pool.map(fuzz_target, names, [args.minutes * 60] * len(names)):
            total += res["tried"]
            bad += len(res["failures"])
            print(f"{res['name']:<40} {res['tried']:>8} examples  "
                  f"{len(res['failures'])} failure(s)", flush=True)
            for k, (key, (detail, raw)) in enumerate(sorted(res["failures"].items())):
                saved = Path("fuzz-failures") / f"{res['name'].replace(':', '-')}-{k}.bin"
                saved.parent.mkdir(exist_ok=True)
                saved.write_bytes(raw)
                print(f"    {key}: {detail} -> {saved}", flush=True)
    print(f"total: {total} examples, {bad} distinct failure(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
