"""numba's cache folder: per-user, temporary when home cannot be written, never an error."""

from __future__ import annotations

import os
import tempfile

import pytest

from neurotox import cachedirs


@pytest.fixture
def unset(monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("MPLCONFIGDIR", "/kept")      # only numba's folder is under test


def test_user_value_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    cachedirs.configure()
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")


def test_per_user_cache_folder(monkeypatch, tmp_path, unset):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cachedirs.configure()
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "cache" / "neurotox" / "numba")


def test_read_only_home_falls_back_to_the_temporary_folder(monkeypatch, tmp_path, unset):
    home = tmp_path / "home"
    real = cachedirs._usable
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    # a read-only home: nothing under it can be created (as for a non-root user)
    monkeypatch.setattr(cachedirs, "_usable", lambda folder, private: not str(folder).startswith(
        str(home)) and real(folder, private=private))
    cachedirs.configure()
    assert os.environ["NUMBA_CACHE_DIR"].startswith(str(tmp_path / "tmp"))
    assert not home.exists()


def test_nothing_writable_leaves_the_variable_unset(monkeypatch, unset):
    monkeypatch.setattr(cachedirs, "_usable", lambda folder, private: False)

    def refuse(*args, **kwargs):
        raise OSError("read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    cachedirs.configure()
    assert "NUMBA_CACHE_DIR" not in os.environ


def test_numba_cache_empty_says_when_the_first_run_will_compile(tmp_path, monkeypatch):
    from neurotox.cachedirs import numba_cache_empty

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    assert not numba_cache_empty("imaging", "compiled")         # no cache: nothing to say
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert numba_cache_empty("imaging", "compiled")
    (tmp_path / "imaging_0a1b").mkdir()
    (tmp_path / "imaging_0a1b" / "compiled._smooth_rows-82.py311.nbi").write_bytes(b"x")
    assert not numba_cache_empty("imaging", "compiled")
    assert numba_cache_empty("imaging", "other")
