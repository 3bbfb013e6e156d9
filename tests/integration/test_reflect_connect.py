"""Connections used by reflection and reading: read-only snapshots and source/target identity."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dbsynth.db import engine, make_url, read_only_connection, same_database
from dbsynth.errors import ConnectError


def _try_write(url: str) -> None:
    eng = engine(url)
    try:
        with read_only_connection(eng) as conn:
            conn.exec_driver_sql("INSERT INTO Genre (Name) VALUES ('x')" if "sqlite" in url or "mysql" in url
                                 else "INSERT INTO genre (name) VALUES ('x')")
    finally:
        eng.dispose()


@pytest.mark.parametrize("kind", ["pg", "mariadb", "sqlite"])
def test_read_only_connection_refuses_writes(kind, pg_dataset, mariadb_dataset, chinook_sqlite):
    url = {"pg": lambda: pg_dataset("chinook"), "mariadb": lambda: mariadb_dataset("chinook"),
           "sqlite": lambda: chinook_sqlite}[kind]()
    with pytest.raises(sa.exc.DBAPIError):
        _try_write(url)
    eng = engine(url)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM " + ("genre" if kind == "pg" else "Genre")).scalar() == 25
    eng.dispose()


def test_sqlite_read_only_engine_cannot_write(chinook_sqlite):
    eng = engine(chinook_sqlite, read_only=True)
    with pytest.raises(sa.exc.OperationalError, match="readonly"), eng.begin() as conn:
        conn.exec_driver_sql("DELETE FROM Genre")
    eng.dispose()


def test_plain_schemes_use_the_bundled_drivers():
    assert make_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert make_url("mysql://u@h/db").drivername == "mysql+pymysql"
    assert make_url("mariadb://u@h/db").drivername == "mariadb+pymysql"
    assert make_url("postgresql+psycopg2://u@h/db").drivername == "postgresql+psycopg2"


def test_same_database(tmp_path, monkeypatch):
    assert same_database("postgresql://a:pw@localhost/x", "postgresql+psycopg://b@127.0.0.1:5432/x")
    assert not same_database("postgresql://a@localhost/x", "postgresql://a@localhost/y")
    assert not same_database("postgresql://a@localhost:5433/x", "postgresql://a@localhost/x")
    assert not same_database("postgresql://a@localhost/x", "mysql://a@localhost/x")
    monkeypatch.chdir(tmp_path)
    assert same_database("sqlite:///db.sqlite", f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert not same_database("sqlite:///a.sqlite", "sqlite:///b.sqlite")
    assert not same_database("sqlite://", "sqlite://")


def test_wrong_password_is_one_line_and_masked(mariadb_server):
    url = mariadb_server.admin_url.set(password="s3cret-pw").render_as_string(hide_password=False)
    with pytest.raises(ConnectError) as err:
        engine(url)
    assert "s3cret-pw" not in str(err.value) and "***" in str(err.value) and "\n" not in str(err.value)
