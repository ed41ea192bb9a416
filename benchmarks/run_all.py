"""Run every benchmarks/bench_*.py script in turn; each prints its measured figures.

The fuzzing benchmark runs 15 s per reader here (about 5 minutes on 2 cores);
the acceptance run of 10 minutes per reader is ``python benchmarks/bench_fuzz.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
scripts = sorted(here.glob("bench_*.py"))
ARGS = {"bench_fuzz.py": ["--minutes", "0.25", "--jobs", "2"]}
failed = []
for script in scripts:
    print(f"\n=== {script.name}", flush=True)
    if subprocess.call([sys.executable, str(script), *ARGS.get(script.name, [])]) != 0:
        failed.append(script.name)
if failed:
    sys.exit(f"benchmarks failed: {', '.join(failed)}")
