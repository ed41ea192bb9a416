"""Opening the historical control database: where it is, how it is connected, its schema.

The database is named by a SQLAlchemy URL, taken from (first found): the
``--db`` option, the environment variable ``NEUROTOX_HCD_URL``, or the default
SQLite file ``$XDG_DATA_HOME/neurotox/hcd.sqlite`` (``~/.local/share/neurotox/
hcd.sqlite`` when ``XDG_DATA_HOME`` is unset). A plain file path is taken as a
SQLite file. A laboratory server is named as
``postgresql+psycopg://user:password@host/dbname`` (``pip install neurotox[postgres]``).

SQLite files run in WAL mode (readers do not block the writer) with foreign keys
on. WAL is a lasting property of the file, so it is set only by a command that
writes, once the file is known to be neurotox's (new, or holding its tables):
another program's SQLite file that is refused is left byte for byte as it was,
and a read command never changes the journal mode. Each write transaction takes
the write lock at its start (``BEGIN IMMEDIATE``) and waits up to 60 s for another
writer, so two imports at once queue rather than fail or interleave.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import os
import re
import socket
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event

from neurotox.errors import InputError, quoted
from neurotox.files import file_kind, lies_within
from neurotox.hcd import schema

log = logging.getLogger(__name__)

ENV_URL = "NEUROTOX_HCD_URL"
BUSY_TIMEOUT_S = 60
#: Arbitrary constant naming neurotox's advisory lock on PostgreSQL (migrations).
PG_LOCK_KEY = 4_242_424_242
#: Advisory lock that queues adding transactions on PostgreSQL, so that two imports
#: of one study (different sources, same study number) cannot both pass the check.
PG_ADD_LOCK_KEY = 4_242_424_243


def default_path() -> Path:
    """``$XDG_DATA_HOME/neurotox/hcd.sqlite`` (XDG default ``~/.local/share``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "neurotox" / "hcd.sqlite"


def resolve_url(db: str | None = None) -> str:
    """The database URL from ``db``, ``NEUROTOX_HCD_URL`` or the default SQLite file.

    A value without ``://`` is a path to a SQLite file.
    """
    text = db or os.environ.get(ENV_URL) or str(default_path())
    if "://" in text:
        return text
    path = Path(text).expanduser()
    return f"sqlite:///{path}"


#: ``scheme://user:password@`` of a URL: the password is masked in messages.
_PASSWORD = re.compile(r"^([^:/?#]+://[^:/@?#]*):[^/?#]*@")   # to the last @: one in a password
_PORT = re.compile(r"^[^:/?#]+://(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):([^/?#]*)")


def mask_password(url: str) -> str:
    """``url`` with the password of ``user:password@`` replaced by ``***`` (text only)."""
    return _PASSWORD.sub(r"\1:***@", url)


def parse_url(url: str) -> sa.URL:
    """``url`` parsed by SQLAlchemy; InputError naming it (password masked) when it cannot be.

    A port that is not a number (``@host:543a2/hcd``) is named as such.
    """
    try:
        return sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        port = _PORT.match(url)
        bad = (f": the port {port.group(1)!r} is not a number"
               if port and not port.group(1).isdigit() else "")
        raise InputError(f"not a database URL: {mask_password(url)!r}{bad}",
                         where="option '--db'") from None


def sqlite_path(db: str | None = None) -> Path | None:
    """The SQLite file of ``db`` (see :func:`resolve_url`), None for a server database."""
    try:
        url = sa.make_url(resolve_url(db))
    except (sa.exc.ArgumentError, ValueError):
        return None
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def display_url(url: str) -> str:
    """The URL with any password hidden (for messages and manifests)."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return mask_password(url)


def report_name(url: str) -> str:
    """The database as a report names it, without the analyst's folders or credentials.

    A SQLite file by its file name (``lab-hcd.sqlite``), a server database by its
    URL without user, password or options (``postgresql+psycopg://db.lab:5432/hcd``).
    A report is read away from the analyst's machine, where a local folder means
    nothing (and should not be printed); the run manifest keeps the full URL
    (:func:`display_url`).
    """
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return mask_password(url)
    if parsed.get_backend_name() == "sqlite":
        return Path(parsed.database).name if parsed.database else url
    return sa.URL.create(parsed.drivername, host=parsed.host, port=parsed.port,
                         database=parsed.database).render_as_string()


def now_utc() -> str:
    """The current UTC time, ISO 8601 with seconds."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def who() -> str:
    """``user@host`` of this process, for the audit table."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def _sqlite_setup(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None          # transactions are begun below
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _use_wal(engine: sa.Engine) -> None:
    """Switch a SQLite file known to be neurotox's to WAL mode (lasting; outside a transaction)."""
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA journal_mode = WAL").close()
    finally:
        raw.close()


def connect(db: str | None = None, *, create: bool = True,
            inputs: tuple[Path, ...] = (), readonly: bool = False) -> sa.Engine:
    """An engine on the historical control database, its schema brought up to date.

    Parameters
    ----------
    db
        URL or SQLite path (see :func:`resolve_url`).
    create
        Create a missing SQLite file (and its folder). With ``False`` a missing
        file is an error (for read-only commands such as ``list``).
    inputs
        Folders the command reads: a SQLite file may not lie inside them.
    readonly
        A command that only reads (list, export, ranges, a report's ranges): a
        SQLite file in a folder this user cannot write (a read-only share) is
        opened as an unchanging file, without the lock and journal files SQLite
        would create beside it; its schema must then be up to date. A read
        command never switches a SQLite file to WAL mode (a lasting change);
        a writing one does, once the file is known to be neurotox's.

    Raises
    ------
    InputError
        Unusable URL, missing driver, unreachable server, a missing file with
        ``create=False``, a SQLite file inside an input folder or that is not a
        regular file, a database holding tables of another program, or a database
        written by a newer neurotox.

    """
    url = resolve_url(db)
    parsed = parse_url(url)
    frozen = False
    file = parsed.database or ""
    if parsed.get_backend_name() == "sqlite":
        _sqlite_file(parsed, create, inputs)
        frozen = readonly and not _writable(Path(parsed.database))
        if frozen:
            parsed = sa.make_url(f"sqlite:///file:{quote(os.path.abspath(parsed.database))}"
                                 "?immutable=1&uri=true")
    try:
        engine = sa.create_engine(parsed, future=True,
                                  **({"connect_args": {"connect_timeout": 10}}
                                     if parsed.get_backend_name() == "postgresql" else {}))
    except (ModuleNotFoundError, sa.exc.NoSuchModuleError) as exc:
        raise InputError(f"no driver for {parsed.drivername!r} ({exc}); for PostgreSQL install "
                         "neurotox[postgres] and use postgresql+psycopg://",
                         where="option '--db'") from None
    if parsed.get_backend_name() == "sqlite" and not frozen:
        _sqlite_setup(engine)
    try:
        if frozen:
            _check_version(engine, file)
        else:
            migrate(engine, create=create)     # refuses a database that is not neurotox's
            if parsed.get_backend_name() == "sqlite" and not readonly:
                _use_wal(engine)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise InputError(f"cannot open database {display_url(url)}: "
                         f"{failure_reason(exc.orig, url)}") from None
    except sa.exc.DatabaseError as exc:
        engine.dispose()
        raise InputError(f"not a neurotox database {display_url(url)}: "
                         f"{_first_line(exc.orig)}") from None
    except BaseException:
        engine.dispose()
        raise
    return engine


def _writable(path: Path) -> bool:
    """Whether SQLite can write beside ``path`` (its journal) and the file itself."""
    folder = path.parent if str(path.parent) else Path(".")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return False
    try:                       # a read-only mount: root's access() says yes there
        return not os.statvfs(folder).f_flag & os.ST_RDONLY
    except OSError:
        return True


def _check_version(engine: sa.Engine, path: str) -> None:
    """Refuse a read-only database (SQLite file ``path``) whose schema would have to change."""
    with engine.connect() as conn:
        version = current_version(conn)
        if version == schema.SCHEMA_VERSION:
            _check_tables(conn, engine)
    if version == 0:
        raise InputError(NO_TABLES, path=path)
    if version != schema.SCHEMA_VERSION:
        raise InputError(f"the database is read-only here and at schema version {version}, "
                         f"not {schema.SCHEMA_VERSION}: open it once where it can be written "
                         "(any neurotox hcd command updates it)", path=path)


def failure_reason(exc: BaseException | None, url: str | None = None) -> str:
    """The driver's one-line reason, with what SQLite leaves unsaid.

    "database is locked" comes after waiting :data:`BUSY_TIMEOUT_S` for another
    process's write lock; "unable to open database file" or "attempt to write a
    readonly database" for a file or folder this user may not write (SQLite keeps its
    journal files beside the database) names which is read-only.
    """
    text = _first_line(exc)
    if "database is locked" in text:
        return (f"{text} (waited {BUSY_TIMEOUT_S} s for another process to finish writing "
                "to it)")
    path = sqlite_path(url) if url else None
    if path is None or not any(m in text for m in ("unable to open", "readonly")):
        return text
    if path.exists() and not os.access(path, os.W_OK):
        return f"{text}: the file {str(path)!r} is read-only for this user"
    folder = path.parent
    if folder.is_dir() and not os.access(folder, os.W_OK):
        return (f"{text}: the folder {str(folder)!r} is read-only for this user (SQLite "
                "writes its journal files beside the database)")
    return text


def _first_line(exc: BaseException | None) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sqlite_file(url: sa.URL, create: bool, inputs: tuple[Path, ...] = ()) -> None:
    if not url.database or url.database == ":memory:":
        raise InputError("an in-memory SQLite database cannot hold historical controls; "
                         "give a file", where="option '--db'")
    path = Path(url.database)
    for folder in inputs:
        if lies_within(path, folder):
            raise InputError(f"the database lies inside the folder {str(folder)!r} being "
                             "added; keep it outside", path=path)
    if path.exists() and not path.is_file():
        raise InputError(f"expected a SQLite database file, found "
                         f"{file_kind(path.stat().st_mode)}", path=path)
    if not create and path.exists() and path.stat().st_size == 0:
        raise InputError(f"{NO_TABLES}: the file is empty", path=path)
    if not path.exists():
        if not create:
            raise InputError("no historical control database here yet (add a study first)",
                             path=path)
        path.parent.mkdir(parents=True, exist_ok=True)


#: A read command's refusal of a database without neurotox's tables (it creates none).
NO_TABLES = "not a neurotox historical control database (no tables)"


def _where(engine: sa.Engine) -> str:
    """The database as messages name it: a SQLite file's path, else the URL (no password)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        return url.database
    return display_url(url.render_as_string(hide_password=False))


def _check_tables(conn: sa.Connection, engine: sa.Engine) -> None:
    """A damaged database (a neurotox table dropped) is named, not met by a query later."""
    have = set(sa.inspect(conn).get_table_names())
    missing = sorted(t.name for t in schema.metadata.sorted_tables if t.name not in have)
    if missing:
        raise InputError(f"damaged neurotox database: table(s) {quoted(missing)} missing; "
                         "restore it from a backup", path=_where(engine))


def current_version(conn: sa.Connection) -> int:
    """Highest migration applied (0 for a database without neurotox tables)."""
    if not sa.inspect(conn).has_table(schema.schema_table.name):
        return 0
    return int(conn.execute(sa.select(sa.func.max(schema.schema_table.c.version))).scalar()
               or 0)


def migrate(engine: sa.Engine, *, create: bool = True) -> int:
    """Apply the migrations the database lacks, in one transaction; return its version.

    With ``create=False`` (read commands) a database without tables is refused
    (:data:`NO_TABLES`), not given neurotox's.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
        version = current_version(conn)
        if version > schema.SCHEMA_VERSION:
            raise InputError(f"database schema version {version} is newer than this neurotox "
                             f"knows ({schema.SCHEMA_VERSION}); upgrade neurotox",
                             path=_where(engine))
        if version == 0:
            foreign = sorted(sa.inspect(conn).get_table_names())
            if foreign:
                raise InputError(f"not a neurotox database: it holds other tables "
                                 f"({quoted(foreign, limit=5)}); give a new file or a neurotox "
                                 "database",
                                 path=display_url(engine.url.render_as_string(False)))
            if not create:
                raise InputError(f"{NO_TABLES}; add a study to it first, or check the "
                                 "database name", path=_where(engine))
            schema.schema_table.create(conn)
        if version == 0:        # a new database is created at the current schema
            log.info("historical control database: created (schema version %d)",
                     schema.SCHEMA_VERSION)
        for m in schema.MIGRATIONS:
            if m.version > version:
                if version:
                    log.info("historical control database: applying migration %d (%s)",
                             m.version, m.description)
                m.apply(conn)
                conn.execute(schema.schema_table.insert().values(
                    version=m.version, description=m.description, applied_utc=now_utc()))
        _check_tables(conn, engine)
        if 0 < version < schema.SCHEMA_VERSION:
            _say_copies(conn, version)
        return max(version, schema.SCHEMA_VERSION)


def _say_copies(conn: sa.Connection, version: int) -> None:
    """Warn, on upgrading, of studies an older neurotox stored twice (ranges count them once)."""
    from neurotox.hcd.identity import duplicates

    found = duplicates(conn)
    if found:
        log.warning("upgraded the historical control database from schema version %d: it "
                    "holds a study twice (%s); ranges leave the later copy out; 'neurotox hcd "
                    "list' shows it (column same_as)", version,
                    "; ".join(d.describe() for d in found))
