"""Tables of the historical control database and their versioned migrations.

The schema is SQLAlchemy Core (no ORM). Its version lives in the table
``neurotox_schema``: one row per migration applied, with the time. Opening a
database applies the migrations it lacks, in order, inside one transaction (under
an advisory lock on PostgreSQL, a write lock on SQLite), so two processes opening
a new database at once cannot both create it. A database written by a newer
neurotox (a version this one does not know) is refused rather than guessed at.

Tables
------
``study``
    One row per study added: identity (``source_hash``, unique), design (facility,
    guideline, species, strain, supplier, route, vehicle, dates) and provenance;
    whether the laboratory left it out of ranges (``excluded``, with the reason,
    when and by whom; ``hcd exclude``/``hcd include``; version 4).
``animal``
    One row per control animal: sex, age, role (main / recovery / tk / satellite),
    control type, vehicle (its control set's when that differs from the study's,
    e.g. a water control set in a saline study; empty: the study's; version 3),
    whether it enters ranges (``included``) and why not.
``result``
    One row per measured value: endpoint, category, data type, timepoint, value,
    unit, censoring, method, apparatus, session length, software version, and
    whether it enters ranges (``included``) and why not.
``study_input``
    One row per data file a study was read from (a run's raw data files, a SEND
    folder's ``.xpt`` files): its path when added and SHA-256. With the study
    number it identifies the study's data across re-runs and copies
    (:mod:`neurotox.hcd.identity`). Added in version 2; studies added before
    have none.
``audit``
    One row per change: who (user@host), when (UTC), what, why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

metadata = sa.MetaData()

schema_table = sa.Table(
    "neurotox_schema", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("applied_utc", sa.Text, nullable=False),
)

study = sa.Table(
    "study", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("study_id", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("facility", sa.Text, nullable=False, server_default=""),
    sa.Column("guideline", sa.Text, nullable=False, server_default=""),
    sa.Column("species", sa.Text, nullable=False, server_default=""),
    sa.Column("strain", sa.Text, nullable=False, server_default=""),
    sa.Column("supplier", sa.Text, nullable=False, server_default=""),
    sa.Column("route", sa.Text, nullable=False, server_default=""),
    sa.Column("vehicle", sa.Text, nullable=False, server_default=""),
    sa.Column("start_date", sa.Text, nullable=False, server_default=""),
    sa.Column("end_date", sa.Text, nullable=False, server_default=""),
    sa.Column("source_kind", sa.Text, nullable=False),
    sa.Column("source_path", sa.Text, nullable=False),
    sa.Column("source_hash", sa.Text, nullable=False, unique=True),
    sa.Column("software_version", sa.Text, nullable=False, server_default=""),
    sa.Column("added_utc", sa.Text, nullable=False),
    sa.Column("added_by", sa.Text, nullable=False),
    sa.Column("excluded", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("exclusion_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("excluded_utc", sa.Text, nullable=False, server_default=""),
    sa.Column("excluded_by", sa.Text, nullable=False, server_default=""),
)

animal = sa.Table(
    "animal", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("study", sa.Integer, sa.ForeignKey("study.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("sex", sa.Text, nullable=False),
    sa.Column("age_days", sa.Float, nullable=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("group_id", sa.Text, nullable=False, server_default=""),
    sa.Column("control_type", sa.Text, nullable=False, server_default=""),
    sa.Column("vehicle", sa.Text, nullable=False, server_default=""),
    sa.Column("included", sa.Boolean, nullable=False),
    sa.Column("exclusion_reason", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("study", "subject", name="uq_animal_study_subject"),
    sa.CheckConstraint("role IN ('main', 'recovery', 'tk', 'satellite')", name="ck_animal_role"),
)

result = sa.Table(
    "result", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("animal", sa.Integer, sa.ForeignKey("animal.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("endpoint", sa.Text, nullable=False, index=True),
    sa.Column("category", sa.Text, nullable=False, server_default=""),
    sa.Column("data_type", sa.Text, nullable=False, server_default="continuous"),
    sa.Column("timepoint", sa.Text, nullable=False, server_default="NA"),
    sa.Column("study_day", sa.Float, nullable=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("unit", sa.Text, nullable=False, server_default=""),
    sa.Column("censoring", sa.Text, nullable=False, server_default=""),
    sa.Column("method", sa.Text, nullable=False, server_default=""),
    sa.Column("apparatus", sa.Text, nullable=False, server_default=""),
    sa.Column("session_length", sa.Text, nullable=False, server_default=""),
    sa.Column("software_version", sa.Text, nullable=False, server_default=""),
    sa.Column("included", sa.Boolean, nullable=False),
    sa.Column("exclusion_reason", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("animal", "endpoint", "timepoint", name="uq_result_key"),
    sa.CheckConstraint("censoring IN ('', 'left', 'right', 'interval')",
                       name="ck_result_censoring"),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at_utc", sa.Text, nullable=False),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("study_id", sa.Text, nullable=False, server_default=""),
    sa.Column("source_hash", sa.Text, nullable=False, server_default=""),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
)


study_input = sa.Table(
    "study_input", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("study", sa.Integer, sa.ForeignKey("study.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False, index=True),
)


@dataclass(frozen=True)
class Migration:
    """One step of the schema: ``apply(connection)`` runs inside the caller's transaction."""

    version: int
    description: str
    apply: Callable[[sa.Connection], None]


def _v1(conn: sa.Connection) -> None:
    for t in (study, animal, result, audit):
        t.create(conn)


def _v2(conn: sa.Connection) -> None:
    study_input.create(conn)


def _v3(conn: sa.Connection) -> None:
    # version 1 creates ``animal`` from the current table, which has the column
    if "vehicle" not in {c["name"] for c in sa.inspect(conn).get_columns("animal")}:
        conn.execute(sa.text("ALTER TABLE animal ADD COLUMN vehicle TEXT NOT NULL DEFAULT ''"))


#: Columns of ``study`` added in version 4 (the laboratory's exclusion), as ALTER TABLE adds them.
_V4_COLUMNS = {"excluded": "BOOLEAN NOT NULL DEFAULT FALSE",
               "exclusion_reason": "TEXT NOT NULL DEFAULT ''",
               "excluded_utc": "TEXT NOT NULL DEFAULT ''",
               "excluded_by": "TEXT NOT NULL DEFAULT ''"}


def _v4(conn: sa.Connection) -> None:
    # version 1 creates ``study`` from the current table, which has the columns
    have = {c["name"] for c in sa.inspect(conn).get_columns("study")}
    for name, ddl in _V4_COLUMNS.items():
        if name not in have:
            conn.execute(sa.text(f"ALTER TABLE study ADD COLUMN {name} {ddl}"))


#: Every migration, in order. Append; never edit one that has been released.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "study, animal, result and audit tables", _v1),
    Migration(2, "study_input: SHA-256 of the data files of each study", _v2),
    Migration(3, "animal.vehicle: the vehicle of the animal's control set when not the "
                 "study's", _v3),
    Migration(4, "study.excluded: a study the laboratory leaves out of ranges, with the "
                 "reason, when and by whom", _v4),
)
SCHEMA_VERSION = MIGRATIONS[-1].version
