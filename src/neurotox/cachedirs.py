"""Cache folders that work on any machine: read-only installs, no home, arbitrary user IDs.

numba (the compiled image filters of :mod:`neurotox.imaging.compiled`, and skan)
compiles on first use and caches the machine code; by
default it writes beside the installed package or under the home folder, and
an import fails when neither is writable (a read-only container image run
with an arbitrary UID). matplotlib likewise wants a writable configuration
folder. :func:`configure` (run when :mod:`neurotox` is imported) points both,
unless the user has set ``NUMBA_CACHE_DIR`` / ``MPLCONFIGDIR`` already, at

1. the per-user cache folder (``$XDG_CACHE_HOME/neurotox`` or
   ``~/.cache/neurotox``), so that compiled code persists on the machine; else
2. a private folder in the temporary directory
   (``<tmp>/neurotox-<uid>``, created with mode 0700 and used only when owned
   by this user and writable by no one else); else
3. a new private temporary folder.

Nothing here raises: without any writable folder the variables stay unset.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

APP = "neurotox"


def _uid() -> int | None:
    return os.getuid() if hasattr(os, "getuid") else None


def _user_cache_root() -> Path | None:
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP
    try:
        home = Path.home()
    except (RuntimeError, KeyError, OSError):
        return None
    return home / ".cache" / APP if str(home) not in ("", "/") else None


def _private(folder: Path) -> bool:
    """True when ``folder`` is a real folder owned by this user and writable by no one else."""
    try:
        st = folder.lstat()
    except OSError:
        return False
    uid = _uid()
    return (stat.S_ISDIR(st.st_mode) and (uid is None or st.st_uid == uid)
            and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _usable(folder: Path, *, private: bool) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return False
    if private and not _private(folder):
        return False
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.NamedTemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def cache_dir(name: str) -> Path | None:
    """A writable cache folder ``name`` (see the module notes), or None."""
    root = _user_cache_root()
    if root is not None and _usable(root / name, private=False):
        return root / name
    uid = _uid()
    shared_tmp = Path(tempfile.gettempdir()) / (f"{APP}-{uid}" if uid is not None else APP)
    if _usable(shared_tmp, private=True) and _usable(shared_tmp / name, private=True):
        return shared_tmp / name
    try:
        return Path(tempfile.mkdtemp(prefix=f"{APP}-{name}-"))
    except OSError:
        return None


def _creatable(folder: Path) -> bool:
    """True when ``folder`` is writable or could be created (nothing is created)."""
    for p in (folder, *folder.parents):
        if p.exists():
            return p.is_dir() and os.access(p, os.W_OK | os.X_OK)
    return False


def _matplotlib_default_writable() -> bool:
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    try:
        folder = Path(base) / "matplotlib" if base else Path.home() / ".config" / "matplotlib"
    except (RuntimeError, KeyError, OSError):
        return False
    return _creatable(folder)


def configure() -> None:
    """Set ``NUMBA_CACHE_DIR`` and ``MPLCONFIGDIR`` when unset and needed (never raises)."""
    try:
        if not os.environ.get("NUMBA_CACHE_DIR"):
            folder = cache_dir("numba")
            if folder is not None:
                os.environ["NUMBA_CACHE_DIR"] = str(folder)
        if not os.environ.get("MPLCONFIGDIR") and not _matplotlib_default_writable():
            folder = cache_dir("matplotlib")
            if folder is not None:
                os.environ["MPLCONFIGDIR"] = str(folder)
    except Exception:  # noqa: BLE001 - a cache location must never stop the program
        pass


def numba_cache_empty(package: str, module: str) -> bool:
    """True when numba's cache holds no compiled code of ``package``'s ``module`` yet.

    The first run on a machine then compiles it (seconds, silently); a caller can
    say so. A best guess, never raising: numba keys its cache on the source file,
    and a copy of the package elsewhere (another checkout) counts as compiled.
    """
    folder = os.environ.get("NUMBA_CACHE_DIR")
    if not folder:
        return False
    try:
        return not any(Path(folder).glob(f"{package}_*/{module}.*.nbi"))
    except OSError:
        return False
