"""Shared fixtures.

``shared_data`` points at ``../shared/data`` beside the checkout (or
``$NEUROTOX_SHARED_DATA``); tests that use it skip cleanly when it is absent,
as on a user's machine, and run in CI where it is present.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

# Property tests must not depend on the machine's speed: no deadline, no
# time-based health check, and the same examples on every run (derandomize,
# no example database), so that the suite's run time and outcome are fixed.
# Tests that set their own max_examples keep these defaults for the rest.
settings.register_profile("neurotox", deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("neurotox")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("NEUROTOX_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the shared development data; skip the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def runner() -> CliRunner:
    """Click test runner."""
    return CliRunner()


@pytest.fixture
def invoke(runner):
    """Invoke the neurotox CLI; returns the click Result."""
    from neurotox.cli.main import cli

    def _invoke(*args: str, **kw):
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False, **kw)
    return _invoke
