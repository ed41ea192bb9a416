"""Where numba keeps compiled functions: one per-user cache, so code is compiled once per machine.

numba writes the machine code of ``cache=True`` functions next to their source
by default, which fails in a read-only installation and then recompiles in every
process (seconds per worker). :func:`configure` points ``NUMBA_CACHE_DIR`` at a
per-user cache folder (``$XDG_CACHE_HOME/neurotox/numba``, else
``~/.cache/neurotox/numba``), or at a folder in the temporary directory when the
home folder cannot be written. It must run before numba is first imported; a
value the user set is kept. It never raises.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ENV = "NUMBA_CACHE_DIR"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        return False
    return True


def cache_dir() -> Path | None:
    """The folder numba should use: per-user cache, else temporary; None if neither works."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    user = getattr(os, "getuid", lambda: "user")()
    for folder in (Path(base) / "neurotox" / "numba",
                   Path(tempfile.gettempdir()) / f"neurotox-numba-{user}"):
        if _writable(folder):
            return folder
    return None


def configure() -> str | None:
    """Set ``NUMBA_CACHE_DIR`` unless already set; return the folder in use (or None)."""
    if os.environ.get(ENV):
        return os.environ[ENV]
    try:
        folder = cache_dir()
    except (OSError, RuntimeError):     # no home folder at all
        folder = None
    if folder is None:
        return None
    os.environ[ENV] = str(folder)
    return str(folder)
