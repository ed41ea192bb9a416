"""The databases the historical control tests run on: SQLite always, PostgreSQL when a server is up.

``.ci/run`` starts a throwaway PostgreSQL server (``.ci/postgres start``) and sets
``NEUROTOX_TEST_PG_URL``; without that variable the tests look for the same
server on its default port, and skip the PostgreSQL cases when none answers.
Each test gets its own PostgreSQL schema (dropped afterwards), so tests can run
in parallel on one server.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ENV = "NEUROTOX_TEST_PG_URL"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:54329/neurotox_test"


@functools.cache
def pg_base_url() -> str | None:
    """URL of a reachable PostgreSQL test server, or None."""
    url = os.environ.get(PG_ENV) or PG_DEFAULT
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception:   # noqa: BLE001  (no driver, no server, no database: skip)
        if os.environ.get(PG_ENV):
            raise    # the CI said a server is there: a failure to reach it is a failure
        return None
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def hcd_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty historical control database: a SQLite file or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hcd.sqlite'}"
        return
    base = pg_base_url()
    if base is None:
        pytest.skip(f"no PostgreSQL test server (set {PG_ENV}; .ci/postgres start)")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def hcd_engine(hcd_url: str):
    """A connected engine on :func:`hcd_url`'s fresh database, disposed afterwards."""
    from neurotox.hcd import db

    eng = db.connect(hcd_url)
    yield eng
    eng.dispose()
