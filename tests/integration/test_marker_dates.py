"""Marker dates and extreme values read, copy and synthesize exactly on every dialect (issue 15).

Each source table holds the "still current" marker 9999-01-01 on a third of its rows, 9999-12-31 and
0001-01-01, microsecond fractions, and per dialect PostgreSQL 'infinity'/'-infinity', MariaDB zero dates and
BIGINT UNSIGNED max, a SQLite BLOB column holding bytes that are not UTF-8 (as TEXT and as BLOB values).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from dbsynth import cli

pytestmark = pytest.mark.db

N = 90  # rows: a third carry the marker


def _rows(dialect: str) -> list[str]:
    rows = []
    for i in range(N):
        if i % 3 == 0:
            d = "'9999-01-01'"
        elif i % 10 == 1:
            d = "'9999-12-31'"
        elif i % 10 == 2:
            d = "'0001-01-01'"
        elif i % 10 == 4 and dialect == "postgresql":
            d = "'infinity'"
        elif i % 10 == 5 and dialect == "postgresql":
            d = "'-infinity'"
        elif i % 10 == 5 and dialect == "mariadb":
            d = "'0000-00-00'"
        else:
            d = f"'2020-{1 + i % 12:02d}-{1 + i % 28:02d}'"
        ts = "'infinity'" if dialect == "postgresql" and i % 10 == 7 else f"'2021-03-04 05:06:{i % 60:02d}.{i:06d}'"
        extra = ""
        if dialect == "mariadb":
            extra = ", 18446744073709551615" if i % 5 == 0 else f", {i}"
        if dialect == "sqlite":  # '||' makes TEXT of bytes that are not UTF-8, in a BLOB column
            extra = ", x'00ffe6' || x'0102'" if i % 2 else f", x'ff{i:02x}00'"
        rows.append(f"({i}, {d}, {ts}{extra})")
    return rows


def _source(dialect: str, url: str) -> None:
    ddl = {
        "postgresql": "CREATE TABLE hist (id integer PRIMARY KEY, d date NOT NULL, ts timestamp(6))",
        "mariadb": "CREATE TABLE hist (id integer PRIMARY KEY, d date NOT NULL, ts datetime(6), "
                   "u8 bigint unsigned)",
        "sqlite": "CREATE TABLE hist (id integer PRIMARY KEY, d date NOT NULL, ts timestamp, b BLOB)",
    }[dialect]
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        if dialect == "mariadb":
            conn.exec_driver_sql("SET SESSION sql_mode = ''")  # zero dates allowed
        conn.exec_driver_sql(ddl)
        conn.exec_driver_sql("INSERT INTO hist VALUES " + ", ".join(_rows(dialect)))
    eng.dispose()


def _urls(dialect: str, pg_database, mariadb_database, sqlite_url) -> tuple[str, str]:
    if dialect == "postgresql":
        return pg_database(), pg_database()
    if dialect == "mariadb":
        return mariadb_database(), mariadb_database()
    return sqlite_url("src"), sqlite_url("dst")


def _run(tmp_path: Path, source: str, target: str, copy: bool) -> int:
    data: dict[str, Any] = {"source": {"url": source}, "target": {"url": target, "mode": "replace"},
                            "model": {"path": None}, "seed": 3}
    if copy:
        data["tables"] = {"hist": {"mode": "copy"}}
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(data))
    return cli.run_cli(["--quiet", "run", "--config", str(cfg)])


def _text_rows(url: str) -> list[tuple]:
    """Rows as the server's own text (so 'infinity' and '0000-00-00' compare as they are stored)."""
    eng = sa.create_engine(url)
    cast = {"postgresql": "text", "mysql": "char", "sqlite": "text"}[eng.dialect.name]
    cols = ["id", "d", "ts"] + (["u8"] if eng.dialect.name == "mysql" else [])
    sel = ", ".join(f"CAST({c} AS {cast})" for c in cols) + (", hex(b)" if eng.dialect.name == "sqlite" else "")
    with eng.connect() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql(f"SELECT {sel} FROM hist ORDER BY id")]
    eng.dispose()
    return rows


DIALECTS = ["postgresql", "mariadb", "sqlite"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_copy_round_trips_marker_dates_exactly(dialect, pg_database, mariadb_database, sqlite_url, tmp_path):
    source, target = _urls(dialect, pg_database, mariadb_database, sqlite_url)
    _source(dialect, source)
    assert _run(tmp_path, source, target, copy=True) == 0
    src, dst = _text_rows(source), _text_rows(target)
    assert len(src) == N and src == dst


@pytest.mark.parametrize("dialect", DIALECTS)
def test_synthesize_keeps_the_marker_as_a_point_mass(dialect, pg_database, mariadb_database, sqlite_url, tmp_path):
    source, target = _urls(dialect, pg_database, mariadb_database, sqlite_url)
    _source(dialect, source)
    assert _run(tmp_path, source, target, copy=False) == 0
    dates = [r[1] for r in _text_rows(target)]
    share = sum(d == "9999-01-01" for d in dates) / len(dates)
    assert 0.15 < share < 0.55, share  # a third in the source: kept as that exact date, not clipped or smeared


def test_infinite_floats_copy_from_postgresql_into_mariadb_as_null(pg_database, mariadb_database, tmp_path):
    source, target = pg_database(), mariadb_database()
    eng = sa.create_engine(source)
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE nums (id integer PRIMARY KEY, f8 double precision, "
                             "d date NOT NULL)")
        conn.exec_driver_sql("INSERT INTO nums VALUES (1, 1.5, 'infinity'), (2, 'Infinity', '9999-01-01'), "
                             "(3, '-Infinity', '-infinity'), (4, 'NaN', '0001-01-01')")
    eng.dispose()
    data = {"source": {"url": source}, "target": {"url": target, "mode": "replace"}, "model": {"path": None},
            "tables": {"nums": {"mode": "copy"}}}
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(data))
    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    eng = sa.create_engine(target)
    with eng.connect() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql("SELECT id, f8, CAST(d AS char) FROM nums ORDER BY id")]
    eng.dispose()
    # MariaDB has neither infinite floats nor infinite dates: NULL, and its last/first date
    assert rows == [(1, 1.5, "9999-12-31"), (2, None, "9999-01-01"), (3, None, "0001-01-01"),
                    (4, None, "0001-01-01")]


def test_wide_decimals_copy_exactly_on_postgresql(pg_database, tmp_path):
    source, target = pg_database(), pg_database()
    eng = sa.create_engine(source)
    big = "1" + "0" * 400 + ".25"  # past float64 (1e308): read as Infinity before
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE dec (id integer PRIMARY KEY, n30 numeric(30,10), n1000 numeric(1000,500), "
                             "nf numeric)")
        conn.exec_driver_sql(f"INSERT INTO dec VALUES (1, 10000000000000012345.6789012345, {big}, 1e40), "
                             "(2, NULL, NULL, NULL), (3, -0.0000000001, 0.5, 1.0000000000000000001)")
    eng.dispose()
    assert _run_tables(tmp_path, source, target, "dec") == 0
    q = "SELECT id, n30::text, n1000::text, nf::text FROM dec ORDER BY id"
    assert _query(source, q) == _query(target, q)


def _run_tables(tmp_path: Path, source: str, target: str, table: str) -> int:
    data = {"source": {"url": source}, "target": {"url": target, "mode": "replace"}, "model": {"path": None},
            "tables": {table: {"mode": "copy"}}}
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(data))
    return cli.run_cli(["--quiet", "run", "--config", str(cfg)])


def _query(url: str, sql: str) -> list[tuple]:
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql(sql)]
    eng.dispose()
    return rows
