"""Time `neurotox report` on the simulated OECD TG 424 study (goal: <= 10 s, all formats).

The study (4 groups x 2 sexes, full battery) is simulated once; then the report
command runs as a user runs it (a fresh process: CLI import included) with
xlsx, docx, html and csv; with csv only (no figures are drawn); and, when
LibreOffice is installed, with the PDF as well. Prints wall time, the CPU time
of the process and its children, the machine's load, and the stage lines of
the run's log (assays, statistics, tables and fits, figures, writing).

    python benchmarks/bench_report.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 10.0
NEUROTOX = [sys.executable, "-m", "neurotox"]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(study: Path, out: Path, formats: str) -> tuple[float, float, list[str]]:
    shutil.rmtree(out, ignore_errors=True)
    cpu0, t0 = _cpu(), time.perf_counter()
    proc = subprocess.run([*NEUROTOX, "report", str(study), "-o", str(out), "--format", formats],
                          capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
    if proc.returncode != 0:
        sys.exit(f"report failed ({formats}):\n{proc.stderr[-2000:]}")
    stages = [m.group(1) for m in re.finditer(r"INFO: report [^:]+: (.+)", proc.stderr)]
    return wall, cpu, stages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per format set (best is kept)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        sim = Path(tmp) / "oecd-424"
        subprocess.run([*NEUROTOX, "-q", "simulate", "oecd-424", "-o", str(sim)], check=True)
        sets = ["xlsx,docx,html,csv", "csv"]
        from neurotox.report.render.pdf import available

        if available():
            sets.append("xlsx,docx,pdf,html,csv")
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
              f"(goal: all four formats in <= {GOAL_S:g} s)")
        for formats in sets:
            runs = [_run(sim / "study.yaml", Path(tmp) / "out", formats)
                    for _ in range(args.repeat)]
            wall, cpu, stages = min(runs)
            print(f"\n--format {formats}: best {wall:.1f} s wall of {args.repeat} "
                  f"(all: {', '.join(f'{r[0]:.1f}' for r in runs)} s), {cpu:.1f} s CPU"
                  + ("" if formats != sets[0] else
                     f" -> {'meets' if wall <= GOAL_S else 'misses'} the {GOAL_S:g} s goal"))
            for line in stages:
                print(f"    {line}")


if __name__ == "__main__":
    main()
