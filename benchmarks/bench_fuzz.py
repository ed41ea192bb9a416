"""Fuzz every reader for a fixed time and report examples tried and failures.

Uses the hypothesis strategies of ``tests/robustness/fuzzing.py`` (mutated
templates of each format, arbitrary bytes, damaged TIFFs). A failure is any
exception other than :class:`~neurotox.errors.NeurotoxError` (warnings are
errors too). Distinct failures are keyed by exception type and the innermost
neurotox source line; the first input of each is printed.

Usage::

    python benchmarks/bench_fuzz.py                  # 10 min per reader
    python benchmarks/bench_fuzz.py --minutes 2 --jobs 2 --only rodent
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def fuzz_target(name: str, seconds: float) -> dict:
    """Run the strategies of target ``name`` for ``seconds``; return counts and failures."""
    import logging

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from tests.robustness.fuzzing import TIFF_NAMES, file_bytes, targets, write_input

    from neurotox.errors import NeurotoxError

    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    target = next(t for t in targets() if t.name == name)
    folder = Path(tempfile.mkdtemp(prefix="neurotox-fuzz-"))
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
                                f"{' '.join(str(exc).split())[:160]} | input {raw[:80]!r}")

    while time.monotonic() < deadline:
        one()
    return {"name": name, "tried": tried, "failures": failures, "seconds": seconds}


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
            for key, detail in sorted(res["failures"].items()):
                print(f"    {key}: {detail}", flush=True)
    print(f"total: {total} examples, {bad} distinct failure(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
