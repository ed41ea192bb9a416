"""numba's cache folder: per-user, temporary when home cannot be written, never an error."""

from __future__ import annotations

import os

from neurotox import numba_cache


def test_user_value_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert numba_cache.configure() == str(tmp_path / "mine")


def test_per_user_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert numba_cache.configure() == str(tmp_path / "cache" / "neurotox" / "numba")
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "cache" / "neurotox" / "numba")


def test_read_only_home_falls_back_to_the_temporary_folder(monkeypatch, tmp_path):
    home = tmp_path / "home"
    real = numba_cache._writable
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path / "tmp"))
    # a read-only home: nothing under it can be created (as for a non-root user)
    monkeypatch.setattr(numba_cache, "_writable",
                        lambda folder: not str(folder).startswith(str(home)) and real(folder))
    folder = numba_cache.configure()
    assert folder is not None and folder.startswith(str(tmp_path / "tmp"))
    assert not home.exists()


def test_nothing_writable_gives_none_not_an_error(monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(numba_cache, "_writable", lambda folder: False)
    assert numba_cache.configure() is None
    assert "NUMBA_CACHE_DIR" not in os.environ
