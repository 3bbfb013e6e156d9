"""Shared fixtures: database servers, throwaway databases and the sample datasets.

Servers are found in this order: ``DBSYNTH_TEST_POSTGRES_URL`` / ``DBSYNTH_TEST_MARIADB_URL``, then the local
defaults (PostgreSQL on 127.0.0.1:5432, MariaDB on 127.0.0.1:3306), then testcontainers where a Docker engine
answers. Without any, database tests are skipped with the reason, unless ``DBSYNTH_REQUIRE_DB=1`` (CI sets it),
in which case they fail.

Every database a test gets is created under a unique name and dropped afterwards. Datasets (pagila, chinook,
demo, TPC-H) are loaded once per session into a uniquely named template database; tests that need their own
copy get one with ``CREATE DATABASE ... TEMPLATE`` (PostgreSQL) in a fraction of a second.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

DATA = Path(__file__).parent / "data"
REQUIRE_DB = os.environ.get("DBSYNTH_REQUIRE_DB") == "1"

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


def unique_name(prefix: str = "dbsynth_t") -> str:
    """A database/schema name no other test (or concurrent run) uses."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def _missing(reason: str):
    if REQUIRE_DB:
        pytest.fail(f"{reason} (DBSYNTH_REQUIRE_DB=1: database tests may not be skipped)")
    pytest.skip(reason)


def _reachable(url: str) -> bool:
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _docker_answers() -> bool:
    try:
        import docker  # testcontainers' dependency

        docker.from_env().ping()
        return True
    except Exception:
        return False


@dataclass
class Server:
    """A database server tests may create databases on."""

    kind: str  # "postgresql" or "mariadb"
    admin_url: sa.URL

    def url(self, database: str) -> str:
        """URL (as a string, password included) of ``database`` on this server."""
        return self.admin_url.set(database=database).render_as_string(hide_password=False)

    def admin(self) -> sa.Engine:
        return sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    def create(self, name: str, template: str | None = None) -> str:
        eng = self.admin()
        try:
            with eng.connect() as conn:
                if self.kind == "postgresql":
                    tpl = f' TEMPLATE "{template}"' if template else ""
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"{tpl}'))
                else:
                    conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        finally:
            eng.dispose()
        return self.url(name)

    def drop(self, name: str) -> None:
        eng = self.admin()
        try:
            with eng.connect() as conn:
                if self.kind == "postgresql":
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                else:
                    conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        finally:
            eng.dispose()

    def env(self) -> dict[str, str]:
        """Environment for the command-line clients (psql / mariadb) used by the dataset loaders."""
        u = self.admin_url
        env = dict(os.environ)
        # The TPC-H loader runs `python3` with duckdb: make it this interpreter, venv or not.
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
        if self.kind == "postgresql":
            env.update(PGHOST=u.host or "127.0.0.1", PGPORT=str(u.port or 5432), PGUSER=u.username or "postgres")
            if u.password:
                env["PGPASSWORD"] = u.password
        else:
            flags = f"-h{u.host or '127.0.0.1'} -P{u.port or 3306} -u{u.username or 'root'}"
            if u.password:
                flags += f" -p{u.password}"
            env["MARIADB"] = f"{shutil.which('mariadb') or 'mysql'} {flags}"
        return env


def _find_server(kind: str, env_var: str, default: str, request) -> Iterator[Server]:
    url = os.environ.get(env_var)
    candidates = [url] if url else [default]
    for candidate in candidates:
        if _reachable(candidate):
            yield Server(kind, sa.make_url(candidate))
            return
    if _docker_answers():
        if kind == "postgresql":
            from testcontainers.postgres import PostgresContainer

            container = PostgresContainer("postgres:15", driver="psycopg")
        else:
            from testcontainers.mysql import MySqlContainer

            container = MySqlContainer("mariadb:10.11", dialect="pymysql")
        with container:
            yield Server(kind, sa.make_url(container.get_connection_url()))
        return
    _missing(f"no {kind} server: set {env_var}, start one on its default port, or run a Docker engine")


@pytest.fixture(scope="session")
def postgres_server(request) -> Iterator[Server]:
    """The PostgreSQL server (see the module docstring for how it is found)."""
    yield from _find_server("postgresql", "DBSYNTH_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL, request)


@pytest.fixture(scope="session")
def mariadb_server(request) -> Iterator[Server]:
    """The MariaDB/MySQL server."""
    yield from _find_server("mariadb", "DBSYNTH_TEST_MARIADB_URL", DEFAULT_MARIADB_URL, request)


def _db_factory(server: Server) -> Iterator[Callable[..., str]]:
    created: list[str] = []

    def make(template: str | None = None) -> str:
        name = unique_name()
        url = server.create(name, template=template)
        created.append(name)
        return url

    yield make
    for name in created:
        server.drop(name)


@pytest.fixture
def pg_database(postgres_server) -> Iterator[Callable[..., str]]:
    """Factory: ``pg_database()`` creates an empty, uniquely named PostgreSQL database and returns its URL.

    ``pg_database(template=name)`` copies a template (see :func:`pg_dataset`). All are dropped afterwards.
    """
    yield from _db_factory(postgres_server)


@pytest.fixture
def mariadb_database(mariadb_server) -> Iterator[Callable[..., str]]:
    """Factory: ``mariadb_database()`` creates an empty, uniquely named MariaDB database; dropped afterwards."""
    yield from _db_factory(mariadb_server)


@pytest.fixture
def sqlite_url(tmp_path) -> Callable[[str], str]:
    """Factory: ``sqlite_url('name')`` gives the URL of a fresh SQLite file in the test's tmp dir."""
    return lambda name="db": f"sqlite:///{tmp_path / name}.sqlite"


# ---- datasets --------------------------------------------------------------------------------------------
_PG_DATASETS = {"demo", "pagila", "chinook", "chinook-identity", "tpch"}
_MARIADB_DATASETS = {"demo", "chinook"}


def _load(server: Server, script: str, dataset: str, name: str, *extra: str) -> None:
    proc = subprocess.run(
        ["bash", str(DATA / script), dataset, name, *extra],
        env=server.env(),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"loading {dataset} into {name} failed:\n{proc.stderr[-2000:]}")


@pytest.fixture(scope="session")
def pg_dataset(postgres_server) -> Iterator[Callable[..., str]]:
    """Factory: ``pg_dataset('pagila')`` returns the URL of a PostgreSQL database holding that dataset.

    Datasets: demo, pagila, chinook, chinook-identity, tpch (``pg_dataset('tpch', sf='0.01')``, generated
    with duckdb). Each is loaded once per session and shared read-only; tests that write into it must
    copy it first: ``pg_database(template=pg_dataset.name('pagila'))``. Dropped at session end.
    """
    loaded: dict[tuple, str] = {}

    def get(dataset: str, sf: str = "0.01") -> str:
        assert dataset in _PG_DATASETS, dataset
        key = (dataset, sf if dataset == "tpch" else None)
        if key not in loaded:
            name = unique_name(f"dbsynth_ds_{dataset.replace('-', '_')}")
            _load(postgres_server, "load-postgres.sh", dataset, name, *([sf] if dataset == "tpch" else []))
            loaded[key] = name
        return postgres_server.url(loaded[key])

    get.name = lambda dataset, sf="0.01": sa.make_url(get(dataset, sf)).database  # type: ignore[attr-defined]
    yield get
    for name in loaded.values():
        postgres_server.drop(name)


@pytest.fixture(scope="session")
def mariadb_dataset(mariadb_server) -> Iterator[Callable[[str], str]]:
    """Factory: ``mariadb_dataset('chinook')`` returns the URL of a MariaDB database holding that dataset."""
    loaded: dict[str, str] = {}

    def get(dataset: str) -> str:
        assert dataset in _MARIADB_DATASETS, dataset
        if dataset not in loaded:
            name = unique_name(f"dbsynth_ds_{dataset}")
            _load(mariadb_server, "load-mariadb.sh", dataset, name)
            loaded[dataset] = name
        return mariadb_server.url(loaded[dataset])

    yield get
    for name in loaded.values():
        mariadb_server.drop(name)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium (Debian's ``chromium`` package), for tests that render HTML.

    Skipped with the reason when it is missing, failed when ``DBSYNTH_REQUIRE_DB=1`` (CI installs it).
    """
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _missing("no chromium on PATH: apt-get install chromium to render the HTML report in a browser")
    return path


@pytest.fixture
def chinook_sqlite(tmp_path) -> str:
    """URL of a private copy of Chinook's SQLite database."""
    dst = tmp_path / "chinook.sqlite"
    shutil.copy(DATA / "chinook" / "Chinook_Sqlite.sqlite", dst)
    return f"sqlite:///{dst}"
