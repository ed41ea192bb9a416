"""``neurotox --help`` and every ``neurotox <cmd> --help`` import no heavy library.

Start-up time is measured in ``make bench`` (benchmarks/bench_cli.py), not here:
this guard checks the cause instead, in a fresh interpreter, so that a module-level
``import pandas`` in any command module fails the suite at once.
"""

from __future__ import annotations

import json
import subprocess
import sys

#: Libraries that take from tenths of a second to seconds to import.
HEAVY = ("pandas", "numpy", "scipy", "matplotlib", "skimage", "statsmodels", "pydantic",
         "openpyxl", "python_calamine", "skan", "numba", "tifffile", "sqlalchemy", "docx",
         "pyarrow", "dask", "distributed", "h5py", "scikit_posthocs", "pybmds", "yaml",
         "PIL", "imagecodecs", "xlrd", "psycopg")

SCRIPT = """
import json, sys
import click
from neurotox.cli.main import cli

seen, loaded = {}, set()

def help_of(args):
    # each step records the heavy modules it imported first: the culprit is named
    try:
        cli([*args, "--help"], prog_name="neurotox", standalone_mode=False)
    except SystemExit:
        pass
    now = {m for m in HEAVY if m in sys.modules}
    seen[" ".join(args) or "(group)"] = sorted(now - loaded)
    loaded.update(now)

def walk(group, path):
    for name in group.list_commands(click.Context(group)):
        help_of([*path, name])
        cmd = group.get_command(click.Context(group), name)
        if isinstance(cmd, click.Group):
            walk(cmd, [*path, name])

walk(cli, [])
help_of([])
print(json.dumps(seen))
"""


def test_help_imports_no_heavy_library():
    script = f"HEAVY = {HEAVY!r}\n{SCRIPT}"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    seen = json.loads(out.splitlines()[-1])
    assert len(seen) > 20                   # the group, every command and sub-command
    assert {"(group)", "nor", "neurite", "hcd add", "zebrafish-screen"} <= set(seen)
    heavy = {cmd: mods for cmd, mods in seen.items() if mods}
    assert not heavy, f"--help imported heavy libraries: {heavy}"
