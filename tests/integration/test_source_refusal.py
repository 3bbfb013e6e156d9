"""dbsynth never writes into its source, however the target URL spells it (issue 14, item 1).

Each spelling below reaches the source database under another name: a host alias, libpq's ``?dbname=`` and
``?host=`` query parameters (which win over the URL's own parts), a URL without a database name (libpq then
takes the user's name), a hard link or a symlink to a SQLite file. Each is refused through the Python API
(``write`` with metadata from ``reflect``, and with ``source_url``) and through ``dbsynth run``, and each
refusal is shown to come before any statement that writes: every statement sent from this process during the
refused call is recorded and must be a read, and the source's tables (contents checksum, and for PostgreSQL
the table's oid, which a drop-and-create would change) are the same afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

import dbsynth
import dbsynth.cli as cli
from dbsynth.errors import UnsafeTargetError
from dbsynth.read import read_tables

pytestmark = pytest.mark.db

PASSWORD = "S3c@Pw!x-refusal"  # trust auth accepts any password; it must never be shown
READS = ("select", "show", "pragma", "with")


# ---- helpers ------------------------------------------------------------------------------------------------
def _admin(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def _fill(url: str) -> None:
    """The source: a table with a primary key and 20 rows."""
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE accounts (id integer PRIMARY KEY, email varchar(80) NOT NULL)")
            conn.execute(
                sa.text("INSERT INTO accounts (id, email) VALUES (:id, :email)"),
                [{"id": i, "email": f"person{i}@example.org"} for i in range(1, 21)],
            )
    finally:
        eng.dispose()


def _state(url: str) -> tuple:
    """What a write into the source would change: row count, a checksum of the rows, the table's identity."""
    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            rows = conn.exec_driver_sql("SELECT id, email FROM accounts ORDER BY id").all()
            ident = None
            if eng.dialect.name == "postgresql":
                ident = conn.exec_driver_sql("SELECT 'accounts'::regclass::oid").scalar()
            elif eng.dialect.name == "mysql":
                ident = conn.exec_driver_sql(
                    "SELECT create_time FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() AND table_name = 'accounts'"
                ).scalar()
            return len(rows), hash(tuple(rows)), ident
    finally:
        eng.dispose()


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Every statement any engine of this process sends while the block runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


def _writes(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.lstrip().lower().startswith(READS)]


def _frames() -> dict[str, pd.DataFrame]:
    return {"accounts": pd.DataFrame({"id": [1, 2], "email": ["a@example.com", "b@example.com"]})}


def _assert_refused(source: str, target: str, tmp_path: Path) -> None:
    """Refused by write() with reflected metadata, by write() with source_url, and by dbsynth run."""
    before = _state(source)
    metadata = dbsynth.reflect(source)
    assert metadata.source_identity is not None
    bare = metadata.copy()
    bare.source_identity = None  # as if loaded from an older metadata file: source_url must do it alone

    with _statements() as seen:
        with pytest.raises(UnsafeTargetError) as err:
            dbsynth.write(_frames(), target, metadata, mode="replace")
        with pytest.raises(UnsafeTargetError):
            dbsynth.write(_frames(), target, bare, mode="replace", source_url=source)
    assert _writes(seen) == [], "a statement that writes was sent before the refusal"
    message = str(err.value)
    assert "source database" in message and "\n" not in message and PASSWORD not in message
    assert err.value.exit_code == 2

    cfg = tmp_path / "refusal.yaml"
    cfg.write_text(yaml.safe_dump({
        "source": {"url": source},
        "target": {"url": target, "mode": "replace"},
        "model": {"path": None},
        "seed": 1,
    }))
    with _statements() as seen:
        assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 2
    assert _writes(seen) == []
    assert _state(source) == before


def _loopback_aliases(host_of: Callable[[str], bool]) -> list[str]:
    """Names (not the URL's own spelling) that reach 127.0.0.1: the machine's host name where it resolves
    there, and '127.1' (inet_aton's short form, always 127.0.0.1)."""
    names = ["127.1"]
    name = socket.gethostname()
    try:
        if socket.gethostbyname(name).startswith("127.") and host_of(name):
            names.append(name)
    except OSError:
        pass
    return names


def _pg_reaches(url: sa.URL) -> Callable[[str], bool]:
    def reaches(host: str) -> bool:
        eng = sa.create_engine(url.set(host=host), connect_args={"connect_timeout": 3})
        try:
            with eng.connect():
                return True
        except Exception:
            return False
        finally:
            eng.dispose()

    return reaches


# ---- PostgreSQL -----------------------------------------------------------------------------------------------
@pytest.fixture
def pg_source(pg_database) -> str:
    url = pg_database()
    _fill(url)
    return url


def test_pg_host_alias_is_refused(pg_source, tmp_path):
    src = sa.make_url(pg_source)
    assert src.host == "127.0.0.1"
    for host in _loopback_aliases(_pg_reaches(src)):
        target = src.set(host=host, password=PASSWORD).render_as_string(hide_password=False)
        _assert_refused(pg_source, target, tmp_path)


def test_pg_dbname_query_parameter_is_refused(pg_source, tmp_path):
    src = sa.make_url(pg_source)
    # the URL names another (existing) database; libpq's dbname parameter wins
    target = src.set(database="postgres", password=PASSWORD, query={"dbname": src.database})
    _assert_refused(pg_source, target.render_as_string(hide_password=False), tmp_path)


def test_pg_host_query_parameter_is_refused(pg_source, tmp_path):
    src = sa.make_url(pg_source)
    target = src.set(host="example.invalid", password=PASSWORD, query={"host": src.host})
    _assert_refused(pg_source, target.render_as_string(hide_password=False), tmp_path)


def test_pg_unix_socket_is_refused(pg_source, tmp_path):
    """The local socket (no server address at all) reaches the same server as 127.0.0.1."""
    sockets = [d for d in ("/var/run/postgresql", "/tmp") if Path(d, ".s.PGSQL.5432").exists()]
    if not sockets:
        pytest.skip("no PostgreSQL socket on this machine")  # a server in a container: TCP only
    src = sa.make_url(pg_source)
    target = sa.URL.create(src.drivername, username=src.username, database="postgres",
                           query={"host": sockets[0], "dbname": src.database})
    _assert_refused(pg_source, target.render_as_string(hide_password=False), tmp_path)


def test_pg_url_without_database_name_is_refused(pg_source, postgres_server, tmp_path):
    src = sa.make_url(pg_source)
    role = src.database  # libpq connects to the database named after the user
    admin = postgres_server.admin()
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        target = sa.URL.create(src.drivername, username=role, password=PASSWORD, host=src.host, port=src.port)
        assert target.database is None
        _assert_refused(pg_source, target.render_as_string(hide_password=False), tmp_path)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
            )
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        admin.dispose()


def test_pg_role_that_may_not_read_the_system_identifier(pg_source, postgres_server, tmp_path):
    """The source read by a role without pg_control_system(): the running instance tells it is the same."""
    src = sa.make_url(pg_source)
    role = f"{src.database}_ro"
    admin = postgres_server.admin()
    source_admin = _admin(pg_source)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        with source_admin.connect() as conn:  # per database: pg_proc is not shared
            conn.exec_driver_sql("REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC")
            conn.exec_driver_sql(f'GRANT SELECT ON accounts TO "{role}"')
        as_role = src.set(username=role).render_as_string(hide_password=False)
        identity = dbsynth.reflect(as_role).source_identity
        assert identity is not None and identity.server_id is None and identity.instance
        alias = src.set(host="127.1", password=PASSWORD).render_as_string(hide_password=False)
        _assert_refused(as_role, alias, tmp_path)
    finally:
        with source_admin.connect() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        source_admin.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        admin.dispose()


def test_pg_another_database_on_the_same_server_is_written(pg_source, pg_database):
    """The control: same server, another database; the identity check must not refuse it."""
    target = pg_database()
    metadata = dbsynth.reflect(pg_source)
    summary = dbsynth.write(_frames(), target, metadata, source_url=pg_source)
    assert summary.total_rows == 2


# ---- MariaDB --------------------------------------------------------------------------------------------------
def test_mariadb_host_alias_and_database_parameter_are_refused(mariadb_database, tmp_path):
    source = mariadb_database()
    _fill(source)
    src = sa.make_url(source)
    assert src.host == "127.0.0.1"
    _assert_refused(source, src.set(host="127.1").render_as_string(hide_password=False), tmp_path)
    other = mariadb_database()
    # pymysql takes ?database= over the URL's own database
    override = sa.make_url(other).set(query={"database": src.database}).render_as_string(hide_password=False)
    _assert_refused(source, override, tmp_path)
    assert dbsynth.write(_frames(), other, dbsynth.reflect(source), source_url=source).total_rows == 2


# ---- SQLite -------------------------------------------------------------------------------------------------
@pytest.fixture
def sqlite_source(tmp_path) -> Path:
    path = tmp_path / "src.sqlite"
    _fill(f"sqlite:///{path}")
    return path


def test_sqlite_hard_link_is_refused(sqlite_source, tmp_path):
    link = tmp_path / "elsewhere" / "hard.sqlite"
    link.parent.mkdir()
    os.link(sqlite_source, link)
    _assert_refused(f"sqlite:///{sqlite_source}", f"sqlite:///{link}", tmp_path)


def test_sqlite_symlink_is_refused(sqlite_source, tmp_path):
    link = tmp_path / "elsewhere" / "soft.sqlite"
    link.parent.mkdir()
    os.symlink(sqlite_source, link)
    _assert_refused(f"sqlite:///{sqlite_source}", f"sqlite:///{link}", tmp_path)


def test_sqlite_new_target_file_is_not_the_source(sqlite_source, tmp_path):
    """A target file that does not exist yet is created by the writer, and is not the source."""
    target = tmp_path / "new.sqlite"
    metadata = dbsynth.reflect(f"sqlite:///{sqlite_source}")
    with _statements() as seen:
        assert dbsynth.write(_frames(), f"sqlite:///{target}", metadata).total_rows == 2
    assert _writes(seen), "the statement recorder the refusal tests rely on saw no write"
    # a copy (another inode) is another database too
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(sqlite_source.read_bytes())
    assert dbsynth.write(_frames(), f"sqlite:///{copy}", metadata, mode="replace").total_rows == 2


def test_metadata_from_json_without_identity_skips_the_check(sqlite_source, tmp_path):
    metadata = dbsynth.reflect(f"sqlite:///{sqlite_source}")
    data = metadata.to_dict()
    assert "source_identity" in data
    data.pop("source_identity")
    loaded = dbsynth.Metadata.from_dict(data)
    assert loaded.source_identity is None and loaded.fingerprint() == metadata.fingerprint()
    assert type(metadata).from_dict(metadata.to_dict()).source_identity == metadata.source_identity


def test_cli_refusal_is_one_line_exit_2_and_masked(pg_source, tmp_path):
    """Through a real process: exit code 2, one line on stderr naming the masked target, no password."""
    src = sa.make_url(pg_source)
    target = src.set(database="postgres", query={"dbname": src.database, "password": PASSWORD})
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({
        "source": {"url": pg_source},
        "target": {"url": target.render_as_string(hide_password=False), "mode": "replace"},
        "model": {"path": None},
    }))
    before = _state(pg_source)
    proc = subprocess.run(
        [sys.executable, "-m", "dbsynth", "--quiet", "run", "--config", str(cfg)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "source database" in lines[0] and "target.url" in lines[0]
    assert "password=***" in lines[0]
    assert PASSWORD not in proc.stderr + proc.stdout and "S3c" not in proc.stderr + proc.stdout
    assert _state(pg_source) == before


def test_metadata_of_a_saved_model_still_refuses_the_source(sqlite_source, tmp_path):
    """write(synth.sample(), url, synth.get_metadata()) after a model file round trip: the identity travels."""
    source = f"sqlite:///{sqlite_source}"
    metadata = dbsynth.reflect(source)
    synth = dbsynth.HMASynthesizer(metadata, seed=1)
    synth.fit(read_tables(source, metadata))
    path = tmp_path / "model.dbsynth"
    synth.save(path)
    loaded = dbsynth.load_synthesizer(path)
    assert loaded.get_metadata().source_identity == metadata.source_identity
    link = tmp_path / "link.sqlite"
    os.link(sqlite_source, link)
    before = _state(source)
    with pytest.raises(UnsafeTargetError):
        dbsynth.write(loaded.sample(scale=0.5), f"sqlite:///{link}", loaded.get_metadata(), mode="replace")
    assert _state(source) == before
