"""Database connections: engines with one-line errors, source/target identity, read-only snapshots.

Every stage that touches a database gets its engine from :func:`engine`, so that a wrong URL, an unreachable
host or bad credentials surface as one :class:`~dbsynth.errors.ConnectError` line (password masked) instead
of a driver traceback.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from .dialects import DEFAULT, DIALECTS, MYSQL, POSTGRESQL, SQLITE, capabilities
from .errors import ConnectError, mask_secrets, mask_url
from .metadata.records import DatabaseIdentity

__all__ = [
    "engine",
    "make_url",
    "same_database",
    "read_only_connection",
    "dialect_of",
    "DatabaseIdentity",
    "database_identity",
    "identity_of",
]

# Plain scheme -> the driver dbsynth ships with (psycopg 3, pymysql); explicit drivers are kept as given.
_DEFAULT_DRIVERS = {scheme: driver for d in DIALECTS.values() for scheme, driver in d.drivers.items()}
_CONNECT_TIMEOUT_S = 10


def make_url(url: str | URL) -> URL:
    """Parse ``url`` and pick dbsynth's default driver for plain ``postgresql://`` / ``mysql://`` URLs.

    Args:
        url: a SQLAlchemy URL or its text form.

    Returns:
        The parsed URL.

    Raises:
        ConnectError: when the text is not a database URL.
    """
    if isinstance(url, URL):
        parsed = url
    else:
        try:
            parsed = sa.make_url(str(url).strip())
        except Exception:
            raise ConnectError(
                f"'{mask_url(url)}' is not a database URL",
                hint="Use e.g. postgresql://user@host:5432/db, mysql://user@host/db or sqlite:///file.db.",
            ) from None
    driver = _DEFAULT_DRIVERS.get(parsed.drivername)
    if driver:
        parsed = parsed.set(drivername=driver)
    return parsed


def dialect_of(url: str | URL) -> str:
    """The SQLAlchemy dialect name of ``url`` (``postgresql``, ``mysql``, ``mariadb``, ``sqlite``)."""
    return make_url(url).get_backend_name()


def engine(url: str | URL, *, read_only: bool = False) -> sa.Engine:
    """An engine for ``url`` whose connection has been checked once.

    Args:
        url: database URL (text or ``sqlalchemy.URL``). ``postgresql://`` uses psycopg 3, ``mysql://`` and
            ``mariadb://`` use pymysql.
        read_only: for SQLite, open the file read-only (``mode=ro``) so nothing can write to it. Other
            dialects get read-only transactions from :func:`read_only_connection`.

    Returns:
        A connected-once :class:`sqlalchemy.Engine`.

    Raises:
        ConnectError: for an unknown dialect or driver, an unreachable host, an unknown database or bad
            credentials; one line with the masked URL and what to do.
    """
    parsed = make_url(url)
    shown = mask_url(parsed)
    caps = capabilities(parsed)
    kwargs: dict = {}
    if caps.file_identity:
        path = parsed.database
        if path and path != ":memory:" and not path.startswith("file:"):
            if not Path(path).exists():
                raise ConnectError(f"SQLite file of '{shown}' does not exist", hint="Check the path.")
            if read_only:
                # A URI connection is the only way to make sqlite3 refuse writes at the file level.
                uri = Path(path).resolve().as_uri() + "?mode=ro"
                parsed = parsed.set(database=uri, query={**parsed.query, "uri": "true"})
    elif caps.server and caps is not DEFAULT:
        kwargs["connect_args"] = {"connect_timeout": _CONNECT_TIMEOUT_S}
    try:
        eng = sa.create_engine(parsed, **kwargs)
    except Exception as exc:  # NoSuchModuleError, missing DBAPI, bad arguments
        raise ConnectError(
            f"cannot use '{shown}': {type(exc).__name__}: {mask_secrets(_first_line(exc), url)}",
            hint="Use a postgresql://, mysql://, mariadb:// or sqlite:/// URL.",
        ) from None
    try:
        with eng.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        eng.dispose()
        hint = "Check host, port, database name and credentials."
        if parsed.host and "@" in parsed.host:
            # SQLAlchemy ends the password at its first '@' and takes the rest for the host name
            hint = "The password holds a raw '@': write it as %40 in the URL."
        raise ConnectError(
            f"cannot connect to '{shown}': {mask_secrets(_first_line(getattr(exc, 'orig', None) or exc), url)}",
            hint=hint,
        ) from None
    return eng


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return mask_url(text[0] if text else type(exc).__name__)


def same_database(url_a: str | URL, url_b: str | URL) -> bool:
    """True when both URLs spell the same database: a quick first check, without connecting.

    Same dialect, host, port and database name; for SQLite the same file after resolving paths. Drivers,
    users and passwords do not matter. A False proves nothing (another host name, a ``?dbname=`` parameter or
    a hard link reach the same database under another spelling): the refusal that counts compares the
    :func:`identity_of` both databases.
    """
    a, b = make_url(url_a), make_url(url_b)
    if _family(a) != _family(b):
        return False
    caps = capabilities(a)
    if caps.file_identity:
        da, db_ = a.database or "", b.database or ""
        if da in ("", ":memory:") or db_ in ("", ":memory:"):
            return False  # two in-memory databases are never the same one
        return _sqlite_path(da) == _sqlite_path(db_)
    default_port = caps.default_port
    return (
        _host(a) == _host(b)
        and (a.port or default_port) == (b.port or default_port)
        and (a.database or "") == (b.database or "")
    )


def _family(url: URL) -> str:
    # mysql:// and mariadb:// reach the same kind of server
    caps = capabilities(url)
    return caps.name if caps is not DEFAULT else url.get_backend_name()


def _host(url: URL) -> str:
    # localhost and 127.0.0.1 (or no host: the local socket) are the same server
    host = (url.host or "localhost").lower()
    return "localhost" if host in ("127.0.0.1", "::1") else host


def _sqlite_path(database: str) -> Path:
    if database.startswith("file:"):
        database = database[5:].split("?", 1)[0]
        database = database[2:] if database.startswith("//") else database
    return Path(database).expanduser().resolve()


def database_identity(conn: sa.Connection) -> DatabaseIdentity | None:
    """Which database ``conn`` is connected to, as the server reports it (only SELECTs are sent).

    Args:
        conn: an open connection, possibly inside a (read-only) transaction: only SELECTs that cannot fail
            are sent (functions a server may lack or a role may not run are looked up first).

    Returns:
        The :class:`~dbsynth.metadata.records.DatabaseIdentity`, or None for an in-memory or temporary SQLite
        database (which is never the same as any other) and for another dialect, which has no way to tell.
    """
    caps = capabilities(conn)
    if caps is POSTGRESQL:
        return _pg_identity(conn)
    if caps is MYSQL:
        database, hostname, port, datadir = conn.exec_driver_sql(
            "SELECT DATABASE(), @@hostname, @@port, @@datadir"
        ).one()
        server_uuid = None
        has_uuid = conn.exec_driver_sql("SHOW VARIABLES LIKE 'server_uuid'").first()  # MySQL has it, MariaDB not
        if has_uuid is not None:
            server_uuid = has_uuid[1] or None
        return DatabaseIdentity(
            MYSQL.name, database=database, server_id=server_uuid, instance=f"{hostname}:{port}:{datadir}"
        )
    if caps.file_identity:
        for _seq, name, file in conn.exec_driver_sql("PRAGMA database_list").all():
            if name == "main":
                return _file_identity(file) if file else None
        return None
    # Other dialects: nothing reliable to ask; the URL check is all there is.
    return None


def _pg_identity(conn: sa.Connection) -> DatabaseIdentity:
    # Statements that cannot fail: an error would abort the caller's transaction (reflection runs inside one),
    # and a savepoint would be a statement other than SELECT sent to the source. Functions a server may lack
    # (PostgreSQL-compatible ones, versions before 9.6) are looked up first, and a function the role may not
    # run is not called at all: that fails when the plan starts, even in a CASE branch never taken.
    database, has_control, has_start, address, port = conn.exec_driver_sql(
        "SELECT current_database(), to_regprocedure('pg_control_system()') IS NOT NULL, "
        "to_regprocedure('pg_postmaster_start_time()') IS NOT NULL, "
        "host(inet_server_addr()) || ':' || inet_server_port()::text, "
        "coalesce(inet_server_port()::text, current_setting('port'))"
    ).one()
    system_id = instance = None
    if has_control and conn.exec_driver_sql("SELECT has_function_privilege('pg_control_system()', 'EXECUTE')").scalar():
        system_id = conn.exec_driver_sql("SELECT system_identifier::text FROM pg_control_system()").scalar()
    if has_start:
        # epoch, not the timestamp's text: that follows the session's TimeZone, which a URL can set
        started = conn.exec_driver_sql("SELECT extract(epoch FROM pg_postmaster_start_time())::text").scalar()
        instance = f"{port}/{started}"
    return DatabaseIdentity(POSTGRESQL.name, database=database, server_id=system_id, instance=instance, address=address)


def _file_identity(path: str | Path) -> DatabaseIdentity | None:
    try:
        st = os.stat(path)  # follows symlinks; a hard link has the same inode
    except OSError:
        return None
    return DatabaseIdentity(SQLITE.name, server_id=f"{st.st_dev}:{st.st_ino}")


def identity_of(url: str | URL) -> DatabaseIdentity | None:
    """Connect to ``url`` and return which database it reaches (see :func:`database_identity`).

    A SQLite file that does not exist yet is no database at all (None): it is not opened, which would create
    it. Only SELECTs (and PRAGMA database_list) are sent.

    Args:
        url: database URL.

    Returns:
        The identity, or None for a SQLite file that does not exist, an in-memory database or a dialect
        without a way to tell.

    Raises:
        ConnectError: the server cannot be reached (one line, URL masked).
    """
    parsed = make_url(url)
    if capabilities(parsed).file_identity:
        database = parsed.database or ""
        if database in ("", ":memory:") or "mode=memory" in database:
            return None
        return _file_identity(_sqlite_path(database))
    eng = engine(parsed)
    try:
        with eng.connect() as conn:
            return database_identity(conn)
    finally:
        eng.dispose()


@contextlib.contextmanager
def read_only_connection(eng: sa.Engine) -> Iterator[sa.Connection]:
    """A connection inside a read-only transaction that sees one consistent snapshot.

    PostgreSQL: ``REPEATABLE READ READ ONLY``; MariaDB/MySQL: ``REPEATABLE READ`` + ``START TRANSACTION READ
    ONLY``; SQLite: a deferred transaction (plus ``query_only``) that never writes. The transaction is
    rolled back at the end: nothing of it could be committed anyway.

    Args:
        eng: an engine from :func:`engine`.

    Yields:
        The connection.
    """
    caps = capabilities(eng)
    with eng.connect() as conn:
        if caps is POSTGRESQL:
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            conn.begin()
        elif caps is MYSQL:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            # SQLAlchemy would emit a plain BEGIN; READ ONLY must be part of the START TRANSACTION itself.
            conn.exec_driver_sql("START TRANSACTION READ ONLY")
        else:
            conn.exec_driver_sql("PRAGMA query_only = ON")
            # pysqlite only opens a transaction before writes; an explicit one pins a snapshot for reads.
            conn.exec_driver_sql("BEGIN DEFERRED")
        try:
            yield conn
        finally:
            try:
                conn.rollback()
                if caps is not POSTGRESQL and caps is not MYSQL:
                    conn.exec_driver_sql("PRAGMA query_only = OFF")
                    conn.rollback()
            except Exception:  # the connection is returned to the pool (and reset) regardless
                pass
