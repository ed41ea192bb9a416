"""Start-up and Excel reading as a user sees them (issue 21): whole runs, fresh processes.

* ``neurotox --help`` and ``neurotox <cmd> --help`` (goal: <= 0.5 s each);
* reading a 2.3 MB EthoVision xlsx export with ``read_rodent`` (goal: <= 1.5 s),
  with python-calamine (the default) and with openpyxl
  (``NEUROTOX_EXCEL_ENGINE=openpyxl``), in a process of its own: the read alone
  and the whole process (imports included);
* a one-field ``neurotox neurite`` run (start-up, imports, one field), and whether
  it imports numba at all (a JIT compile in every process was issue 20's 5 s).

Prints the best of ``--repeat`` runs (wall and CPU seconds) beside the goal and
the machine's load; the Excel part is skipped without ``../shared/data``.

    python benchmarks/bench_startup.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELP_GOAL_S = 0.5
EXCEL_GOAL_S = 1.5
SHARED = Path(os.environ.get("NEUROTOX_SHARED_DATA",
                             Path(__file__).resolve().parents[1].parent / "shared" / "data"))
ETHOVISION = SHARED / "rodent" / "anderson_mouse_nor_ethovision_xlsx"
NEUROTOX = [sys.executable, "-m", "neurotox"]

READ = """
import json, sys, time
t0 = time.perf_counter()
from neurotox.io.rodent import read_rodent
t1, c1 = time.perf_counter(), time.process_time()
data = read_rodent(sys.argv[1])
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"import": t1 - t0, "read": t2 - t1, "read_cpu": c2 - c1,
                  "rows": len(data.table)}))
"""

NEURITE = """
import sys, runpy
sys.argv = ["neurotox", *sys.argv[1:]]
try:
    runpy.run_module("neurotox", run_name="__main__")
finally:
    print("numba imported:", "numba" in sys.modules, file=sys.stderr)
"""


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str, str]:
    cpu0, t0 = _cpu(), time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})
    wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{proc.stderr[-2000:]}")
    return wall, cpu, proc.stdout, proc.stderr


def _best(runs: list[tuple]) -> tuple:
    return min(runs, key=lambda r: r[0])


def _line(name: str, wall: float, cpu: float, goal: float | None) -> None:
    mark = "" if goal is None else f"  goal <= {goal:g} s: {'met' if wall <= goal else 'NOT met'}"
    print(f"  {name:44} {wall:6.2f} s wall {cpu:6.2f} s CPU{mark}", flush=True)


def bench_help(repeat: int) -> None:
    print("CLI start-up (fresh process, best of runs)")
    for cmd in ([], ["nor"], ["neurite"], ["zebrafish"], ["report"], ["hcd", "add"]):
        wall, cpu, *_ = _best([_run([*NEUROTOX, *cmd, "--help"]) for _ in range(repeat)])
        _line(" ".join(["neurotox", *cmd, "--help"]), wall, cpu, HELP_GOAL_S)


def bench_excel(repeat: int) -> None:
    files = sorted(ETHOVISION.glob("*.xlsx"), key=lambda p: p.stat().st_size)
    if not files:
        print(f"EthoVision xlsx: skipped ({ETHOVISION} not found)")
        return
    path = files[-1]
    print(f"EthoVision xlsx read_rodent: {path.name} ({path.stat().st_size / 1e6:.1f} MB)")
    for engine in ("auto", "openpyxl"):
        runs = []
        for _ in range(repeat if engine == "auto" else 1):
            wall, cpu, out, _ = _run([sys.executable, "-c", READ, str(path)],
                                     env={"NEUROTOX_EXCEL_ENGINE": engine})
            runs.append((wall, cpu, json.loads(out)))
        wall, cpu, got = _best(runs)
        label = "calamine" if engine == "auto" else "openpyxl"
        _line(f"{label}: read ({got['rows']} rows)", got["read"], got["read_cpu"], EXCEL_GOAL_S)
        _line(f"{label}: whole process (imports {got['import']:.2f} s)", wall, cpu, None)


def bench_neurite(repeat: int) -> None:
    print("one-field neurite run (simulated SH-SY5Y field, 1 worker, fresh process)")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        sim, one = Path(tmp) / "sim", Path(tmp) / "one"
        subprocess.run([*NEUROTOX, "-q", "simulate", "neurite-plate", "-o", str(sim)],
                       check=True)
        (one / "images").mkdir(parents=True)
        well = sorted((sim / "images").glob("*"))[0].name.split("_")[1]
        for f in (sim / "images").glob(f"*_{well}_*"):
            shutil.copy(f, one / "images" / f.name)
        layout = (sim / "layout.csv").read_text().splitlines()
        (one / "layout.csv").write_text("\n".join([layout[0], *[r for r in layout
                                                               if r.startswith(well)]]) + "\n")
        runs = []
        for i in range(repeat):
            runs.append(_run([sys.executable, "-c", NEURITE, "-q", "neurite",
                              str(one / "images"), "--layout", str(one / "layout.csv"),
                              "--workers", "1", "-o", str(Path(tmp) / f"out{i}")]))
        wall, cpu, _, err = _best(runs)
        numba = "numba imported" if "numba imported: True" in err else "numba not imported"
        _line(f"neurotox neurite, one field ({numba})", wall, cpu, None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (best is kept)")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    bench_help(args.repeat)
    bench_excel(args.repeat)
    bench_neurite(args.repeat)


if __name__ == "__main__":
    main()
