"""A cycle of NOT NULL foreign keys (store.manager_staff_id <-> staff.store_id) cloned into every dialect."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from dbsynth import cli

pytestmark = pytest.mark.db

SCHEMA = """
PRAGMA foreign_keys = ON;
CREATE TABLE store (
    store_id INTEGER NOT NULL PRIMARY KEY,
    manager_staff_id INTEGER NOT NULL REFERENCES staff (staff_id) DEFERRABLE INITIALLY DEFERRED,
    city TEXT NOT NULL
);
CREATE TABLE staff (
    staff_id INTEGER NOT NULL PRIMARY KEY,
    store_id INTEGER NOT NULL REFERENCES store (store_id) DEFERRABLE INITIALLY DEFERRED,
    salary REAL NOT NULL
);
"""


def _source(path: Path) -> str:
    con = sqlite3.connect(path)
    with con:
        con.executescript(SCHEMA)
        con.execute("BEGIN")
        stores, staff = 5, 60
        for s in range(1, staff + 1):
            con.execute("INSERT INTO staff VALUES (?, ?, ?)", (s, (s - 1) % stores + 1, 2000.0 + 37 * s))
        for st in range(1, stores + 1):  # the manager works at that store
            con.execute("INSERT INTO store VALUES (?, ?, ?)", (st, st, f"city{st}"))
        con.execute("COMMIT")
    con.close()
    return f"sqlite:///{path}"


@pytest.fixture
def targets(pg_database, mariadb_database, sqlite_url):
    return {"postgresql": pg_database, "mariadb": mariadb_database, "sqlite": lambda: sqlite_url("target")}


def _check(url: str) -> None:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            n_store = conn.exec_driver_sql("SELECT count(*) FROM store").scalar_one()
            n_staff = conn.exec_driver_sql("SELECT count(*) FROM staff").scalar_one()
            assert n_store > 0 and n_staff > 0
            for sql in (
                ("SELECT count(*) FROM store s LEFT JOIN staff m ON m.staff_id = s.manager_staff_id "
                 "WHERE m.staff_id IS NULL"),
                "SELECT count(*) FROM staff f LEFT JOIN store s ON s.store_id = f.store_id WHERE s.store_id IS NULL",
            ):
                assert conn.exec_driver_sql(sql).scalar_one() == 0, sql
            # the source's managers all work at their store: so do the clone's
            elsewhere = conn.exec_driver_sql("SELECT count(*) FROM store s JOIN staff m "
                                             "ON m.staff_id = s.manager_staff_id WHERE m.store_id <> s.store_id")
            assert elsewhere.scalar_one() == 0
        insp = sa.inspect(eng)
        # the clone keeps both keys and both NOT NULLs
        for table, col in (("store", "manager_staff_id"), ("staff", "store_id")):
            assert [f["constrained_columns"] for f in insp.get_foreign_keys(table)] == [[col]]
            assert not next(c for c in insp.get_columns(table) if c["name"] == col)["nullable"]
    finally:
        eng.dispose()


@pytest.mark.parametrize("synthesizer", ["hma", "hsa", "independent"])
@pytest.mark.parametrize("dialect", ["postgresql", "mariadb", "sqlite"])
def test_not_null_cycle_clones_into_every_dialect(dialect, synthesizer, targets, tmp_path):
    source, target = _source(tmp_path / "src.sqlite"), targets[dialect]()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"source": {"url": source}, "target": {"url": target, "mode": "replace"},
                                   "model": {"path": None}, "synthesizer": synthesizer, "seed": 3}))
    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    _check(target)
    # a second run replaces the tables of the cycle (the old ones are dropped with their cycle)
    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    _check(target)
