"""Fixtures of the imaging tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def imaging(shared_data):
    """``../shared/data/imaging``; skip when absent."""
    folder = shared_data / "imaging"
    if not folder.is_dir():
        pytest.skip("no imaging folder in the shared data")
    return folder
