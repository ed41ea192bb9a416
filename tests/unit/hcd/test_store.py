"""Storage on SQLite and PostgreSQL: add, duplicate, list, remove with audit, schema versions."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa
from tests.hcd_backends import hcd_engine, hcd_url  # noqa: F401  (fixtures)
from tests.send_files import ANIMALS, write_study

from neurotox.errors import InputError
from neurotox.hcd import db, schema, store
from neurotox.hcd.send import send_batch
from neurotox.io.send import read_send


@pytest.fixture
def batch(tmp_path):
    return send_batch(read_send(write_study(tmp_path / "syn")))


@pytest.fixture
def engine(hcd_engine):  # noqa: F811
    return hcd_engine


def counts(engine):
    with engine.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                     for t in (schema.study, schema.animal, schema.result, schema.audit))


def test_add_stores_every_animal_and_value(engine, batch):
    added = store.add(engine, batch)
    assert (added.animals, added.animals_included, added.results) == (9, 5, 22)
    assert counts(engine) == (1, 9, 22, 1)
    rows = store.fetch(engine)
    assert len(rows) == 22
    bw = rows[(rows["endpoint"] == "brain_weight") & rows["animal_included"]]
    assert sorted(bw["value"]) == [1.8, 1.9, 2.0, 2.0, 2.2]
    assert set(rows["strain"]) == {"SPRAGUE-DAWLEY"}
    listed = store.list_studies(engine)
    assert listed[["study_id", "animals", "animals_included", "results"]].values.tolist() == \
        [["SYN-1", 9, 5, 22]]


def test_same_source_twice_is_refused_and_changes_nothing(engine, batch):
    store.add(engine, batch)
    with pytest.raises(InputError, match=r"study 'SYN-1' is in the historical control database "
                                         r"already as id 1 \(study 'SYN-1', added "):
        store.add(engine, batch)
    assert counts(engine) == (1, 9, 22, 1)


def test_failed_add_leaves_nothing(engine, batch):
    bad = batch.results.copy()
    bad.loc[3, "censoring"] = "sideways"          # violates a CHECK constraint at insert
    batch.results = bad
    with pytest.raises(sa.exc.IntegrityError):
        store.add(engine, batch)
    assert counts(engine) == (0, 0, 0, 0)


def test_remove_needs_reason_and_is_audited(engine, batch):
    store.add(engine, batch)
    with pytest.raises(InputError, match="a reason is required"):
        store.remove(engine, "SYN-1", "  ")
    with pytest.raises(InputError, match="no study 'NOPE'"):
        store.remove(engine, "NOPE", "typo")
    done = store.remove(engine, "SYN-1", "wrong strain recorded")
    assert (done["animals"], done["results"]) == (9, 22)
    assert counts(engine)[:3] == (0, 0, 0)
    log = store.audit_log(engine)
    assert log["action"].tolist() == ["add", "remove"]
    last = log.iloc[-1]
    assert last["reason"] == "wrong strain recorded" and "@" in last["who"]
    assert last["source_hash"] == batch.source_hash and last["at_utc"].endswith("Z")


def test_ambiguous_study_number_needs_the_id(engine, batch, tmp_path):
    store.add(engine, batch)
    other = send_batch(read_send(write_study(tmp_path / "b", study_id="SYN-2")))
    store.add(engine, other)
    with engine.begin() as conn:     # two entries of one number, as added before schema v2
        conn.execute(schema.study.update().where(schema.study.c.id == 2).values(study_id="SYN-1"))
    with pytest.raises(InputError, match=r"'SYN-1' names 2 studies: id 1 .*, id 2 .*give the id"):
        store.remove(engine, "SYN-1", "duplicate")
    assert store.remove(engine, "2", "duplicate")["id"] == 2


def test_migrations_are_recorded_and_rerun_is_a_no_op(engine, hcd_url):  # noqa: F811
    with engine.connect() as conn:
        assert db.current_version(conn) == schema.SCHEMA_VERSION
    assert db.migrate(engine) == schema.SCHEMA_VERSION
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(schema.schema_table)).scalar()
    assert n == len(schema.MIGRATIONS)


def test_newer_schema_is_refused(engine, hcd_url):  # noqa: F811
    with engine.begin() as conn:
        conn.execute(schema.schema_table.insert().values(version=99, description="future",
                                                         applied_utc="2099-01-01T00:00:00Z"))
    engine.dispose()
    with pytest.raises(InputError) as err:
        db.connect(hcd_url)
    where = sa.make_url(hcd_url).database if hcd_url.startswith("sqlite") else \
        db.display_url(hcd_url)
    assert str(err.value) == (f"{where}: database schema version 99 is newer than this "
                              f"neurotox knows ({schema.SCHEMA_VERSION}); upgrade neurotox")


def test_a_damaged_database_is_named(engine, hcd_url):  # noqa: F811
    with engine.begin() as conn:
        schema.study_input.drop(conn)
    engine.dispose()
    with pytest.raises(InputError) as err:
        db.connect(hcd_url, create=False, readonly=True)
    assert str(err.value).endswith(": damaged neurotox database: table(s) 'study_input' "
                                   "missing; restore it from a backup")
    assert str(err.value).startswith(sa.make_url(hcd_url).database if
                                     hcd_url.startswith("sqlite") else db.display_url(hcd_url))


def test_read_commands_create_no_tables_in_an_empty_database(hcd_url, tmp_path, invoke):  # noqa: F811
    """A 0-byte SQLite file, an empty PostgreSQL database: refused, left without tables."""
    if hcd_url.startswith("sqlite"):
        path = tmp_path / "empty.sqlite"
        path.touch()
        for cmd in (["list"], ["ranges"], ["export", "-o", str(tmp_path / "e.csv")]):
            res = invoke("hcd", *cmd, "--db", str(path))
            assert res.exit_code == 2, res.output
            assert res.output.strip() == (f"Error: {path}: not a neurotox historical control "
                                          "database (no tables): the file is empty")
        assert path.stat().st_size == 0 and not (tmp_path / "e.csv").exists()
        return
    with pytest.raises(InputError) as err:
        db.connect(hcd_url, create=False, readonly=True)
    assert str(err.value) == (f"{db.display_url(hcd_url)}: not a neurotox historical control "
                              "database (no tables); add a study to it first, or check the "
                              "database name")
    engine = sa.create_engine(hcd_url)
    try:
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
    finally:
        engine.dispose()


def test_sqlite_is_in_wal_mode(tmp_path):
    eng = db.connect(str(tmp_path / "x.sqlite"))
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    eng.dispose()


def test_default_location_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("NEUROTOX_HCD_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert db.resolve_url() == f"sqlite:///{tmp_path / 'xdg' / 'neurotox' / 'hcd.sqlite'}"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert db.resolve_url().endswith(".local/share/neurotox/hcd.sqlite")
    monkeypatch.setenv("NEUROTOX_HCD_URL", "postgresql+psycopg://u@h/d")
    assert db.resolve_url() == "postgresql+psycopg://u@h/d"
    assert db.resolve_url("other.sqlite") == "sqlite:///other.sqlite"


def test_missing_file_for_reading_and_bad_urls(tmp_path):
    with pytest.raises(InputError, match="no historical control database here yet"):
        db.connect(str(tmp_path / "none.sqlite"), create=False)
    with pytest.raises(InputError, match="in-memory SQLite"):
        db.connect("sqlite://")
    with pytest.raises(InputError, match="no driver for 'mysql"):
        db.connect("mysql+nosuchdriver://u@h/d")
    with pytest.raises(InputError, match=r"password\*\*\*|\*\*\*"):
        db.connect("postgresql+psycopg://u:secret@127.0.0.1:1/d")
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="junk.sqlite"):
        db.connect(str(tmp_path / "junk.sqlite"))


def test_password_never_shown():
    assert db.display_url("postgresql+psycopg://u:secret@h/d") == "postgresql+psycopg://u:***@h/d"
    assert db.display_url("postgresql+psycopg://u:secret@h:5x/d") == \
        "postgresql+psycopg://u:***@h:5x/d"


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql+psycopg://nt:secretpw@127.0.0.1:543a54/hcd",
     "option '--db': not a database URL: 'postgresql+psycopg://nt:***@127.0.0.1:543a54/hcd': "
     "the port '543a54' is not a number"),
    ("postgresql+psycopg://nt@[::1]:54x/hcd",
     "option '--db': not a database URL: 'postgresql+psycopg://nt@[::1]:54x/hcd': the port "
     "'54x' is not a number"),
])
def test_a_port_that_is_not_a_number_is_named(url, message, invoke):
    with pytest.raises(InputError) as err:
        db.connect(url)
    assert str(err.value) == message
    res = invoke("hcd", "list", "--db", url)
    assert res.exit_code == 2 and res.output.strip() == f"Error: {message}"
    assert "secretpw" not in res.output


@pytest.mark.parametrize(("url", "name"), [
    ("sqlite:////home/analyst/Desktop/lab-hcd.sqlite", "lab-hcd.sqlite"),
    ("sqlite:///relative/hcd.sqlite?mode=ro", "hcd.sqlite"),
    ("postgresql+psycopg://u:secret@db.lab:5432/hcd?sslrootcert=/home/u/ca.pem",
     "postgresql+psycopg://db.lab:5432/hcd")])
def test_report_name_has_no_local_folder_nor_credentials(url, name):
    assert db.report_name(url) == name


def test_fetch_types(engine, batch):
    store.add(engine, batch)
    rows = store.fetch(engine, endpoints=["brain_weight"], included_only=True)
    assert len(rows) == 5 and rows["value"].dtype == float
    assert rows["animal_included"].all() and isinstance(rows, pd.DataFrame)


def test_remove_names_a_study_as_the_identity_rules_do(engine, batch):
    # stranger42: 'pds2014' and ' pds2014 ' named no study, 'e926' said nothing of its length
    store.add(engine, batch)
    prefix = batch.source_hash[:7]
    with pytest.raises(InputError, match=rf"argument 'STUDY': no study '{prefix}' in the "
                                         r"historical control database; a source-hash prefix "
                                         r"needs at least 8 hex digits, found 7; see"):
        store.remove(engine, prefix, "typo")
    assert store.remove(engine, "  syn-1 ", "case and spaces")["study_id"] == "SYN-1"


def test_an_end_date_before_the_start_date_is_refused(engine, batch, invoke, tmp_path):
    batch.study.update(start_date="2025-05-01", end_date="2025-01-01")
    with pytest.raises(InputError, match=r"syn, fields 'start_date', 'end_date': the study's end "
                                         r"date 2025-01-01 is before its start date 2025-05-01"):
        store.add(engine, batch)
    assert counts(engine) == (0, 0, 0, 0)
    res = invoke("hcd", "add", tmp_path / "run", "--db", tmp_path / "h.sqlite",
                 "--start-date", "2025-05-01", "--end-date", "2025-01-01")
    assert res.exit_code == 2
    assert ("Invalid value for --start-date/--end-date: the end date 2025-01-01 is before the "
            "start date 2025-05-01") in res.output


@pytest.mark.parametrize(("given", "found"), [
    ("inf", "expected an age in weeks from 0 to 1000, found inf"),
    ("1e300", "expected an age in weeks from 0 to 1000, found 1e+300"),
    ("-1", "expected an age in weeks from 0 to 1000, found -1"),
    ("nan", "expected an age in weeks, found nan (not a number)"),
    ("8 weeks", "expected an age in weeks, found '8 weeks'"),
])
def test_every_hcd_command_takes_one_rule_for_ages(invoke, tmp_path, given, found):
    """stranger53 M6a: 'hcd add --age-weeks inf' (or 1e300) stored age_days=inf for every
    animal, whereas 'hcd ranges' refused the same values."""
    res = invoke("hcd", "add", tmp_path / "run", "--db", tmp_path / "h.sqlite",
                 f"--age-weeks={given}")
    assert res.exit_code == 2
    assert f"Invalid value for '--age-weeks': {found};" in res.output
    assert not (tmp_path / "h.sqlite").exists()
    res = invoke("hcd", "ranges", "--db", tmp_path / "h.sqlite", "--age-weeks", "8", given)
    assert res.exit_code == 2
    assert f"Invalid value for '--age-weeks': {found};" in res.output


@pytest.mark.parametrize(("given", "found"), [
    ("nan", "expected a finite number, found 'nan'"),     # said: 'less than or equal to 100'
    ("inf", "expected a finite number, found 'inf'"),
    ("1e300", "expected a number above 0 and at most 100, found '1e300'"),
    ("0", "expected a number above 0 and at most 100, found '0'"),
])
def test_window_years_is_a_finite_number(invoke, tmp_path, given, found):
    res = invoke("hcd", "ranges", "--db", tmp_path / "h.sqlite", "--window-years", given)
    assert res.exit_code == 2
    assert f"Invalid value for '--window-years': {found};" in res.output


def test_a_stored_age_follows_the_same_rule_whatever_the_source(engine, tmp_path):
    # SEND dm AGE 300 MONTHS = 9131 days = 1304 weeks at the start of the study
    n = len(ANIMALS)
    folder = write_study(tmp_path / "old", {"dm": {"AGE": [300.0] * n, "AGEU": ["MONTHS"] * n}})
    batch = send_batch(read_send(folder))
    with pytest.raises(InputError) as err:
        store.add(engine, batch)
    assert str(err.value) == (
        f"{batch.source_path}, field 'age_days': animal S-101: age 9131.25 days: expected an "
        "age in weeks from 0 to 1000, found 1304.46 (and 8 more animal(s))")
    batch = send_batch(read_send(write_study(tmp_path / "syn")))
    batch.animals.loc[batch.animals["subject"] == "S-112", "age_days"] = float("inf")
    with pytest.raises(InputError, match=r"field 'age_days': animal S-112: age inf days: "
                                         r"expected an age in weeks from 0 to 1000, found inf$"):
        store.add(engine, batch)
    assert counts(engine) == (0, 0, 0, 0)


def test_a_study_starting_in_the_future_is_refused(engine, batch, invoke, tmp_path, caplog):
    """stranger53 Q-futureadd: a study 'started' in 2099 entered the database."""
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    batch.study.update(start_date="2099-01-01")
    with pytest.raises(InputError) as err:
        store.add(engine, batch)
    assert str(err.value) == (f"{batch.source_path}, field 'start_date': the study's start "
                              f"date 2099-01-01 lies in the future (today is {today}, UTC)")
    assert counts(engine) == (0, 0, 0, 0)
    # tomorrow is today somewhere east of Greenwich; an end date to come is a warning
    tomorrow = today + dt.timedelta(days=1)
    batch.study.update(start_date=str(tomorrow), end_date="2099-06-30")
    store.add(engine, batch)
    assert counts(engine)[0] == 1
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        f"{batch.source_path}: the study's end date 2099-06-30 lies in the future (today is "
        f"{today}, UTC): is the study still running?"]
    res = invoke("hcd", "add", tmp_path / "run", "--db", tmp_path / "h.sqlite",
                 "--start-date", "2099-01-01")
    assert res.exit_code == 2 and ("Invalid value for --start-date: the study's start date "
                                   f"2099-01-01 lies in the future (today is {today}, UTC)"
                                   ) in res.output


@pytest.mark.parametrize("url, shown", [
    ("postgresql+psycopg://nt:se@cret@127.0.0.1:5432/hcd",
     "postgresql+psycopg://nt:***@127.0.0.1:5432/hcd"),     # an unescaped @ in the password
    ("postgresql://nt:pw@h/db?x=a@b", "postgresql://nt:***@h/db?x=a@b"),
    ("postgresql://nt@h/db", "postgresql://nt@h/db"),
    ("sqlite:///a@b.sqlite", "sqlite:///a@b.sqlite"),
])
def test_a_password_is_masked_whole(url, shown):
    # stranger55: 'nt:se@cret@host' printed 'nt:***@cret@host'
    from neurotox.hcd.db import mask_password

    assert mask_password(url) == shown
