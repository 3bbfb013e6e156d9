"""``target.mode: append`` into a non-empty target: new keys continue past the target's largest (issue 14, item 9).

Each target (PostgreSQL, MariaDB, SQLite) is created by a first run, then appended to twice; every run must
succeed, the target must hold every run's rows, keys stay unique (the servers enforce it) and every foreign
key finds its parent.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

import dbsynth.cli as cli
from dbsynth.reflect import reflect

pytestmark = pytest.mark.db
pytest.importorskip("dbsynth.synthesizers")


def _target(kind: str, pg_database, mariadb_database, sqlite_url) -> str:
    if kind == "postgresql":
        return pg_database()
    if kind == "mariadb":
        return mariadb_database()
    return sqlite_url("append_target")


def _run(tmp_path: Path, source: str, target: str, mode: str, seed: int, **extra) -> dict:
    report = tmp_path / f"run-{mode}-{seed}.json"
    cfg = {
        "source": {"url": source},
        "target": {"url": target, "mode": mode},
        "model": {"path": None},
        "seed": seed,
        "report": {"json": str(report)},
        **extra,
    }
    path = tmp_path / f"c-{mode}-{seed}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.run_cli(["-q", "run", "--config", str(path)]) == 0
    return json.loads(report.read_text())["tables"]


def _counts(url: str, tables) -> dict[str, int]:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            return {t: conn.execute(sa.select(sa.func.count()).select_from(sa.table(t))).scalar_one() for t in tables}
    finally:
        eng.dispose()


def _orphans(url: str, metadata) -> dict[str, int]:
    """Rows per foreign key whose non-NULL reference finds no parent row (counted by SQL in the target)."""
    eng = sa.create_engine(url)
    out = {}
    try:
        with eng.connect() as conn:
            for table, fk in metadata.relationships():
                c = sa.table(table.name, *(sa.column(x) for x in fk.columns)).alias("c")
                p = sa.table(fk.ref_table, *(sa.column(x) for x in fk.ref_columns)).alias("p")
                on = sa.and_(*[c.c[a] == p.c[b] for a, b in zip(fk.columns, fk.ref_columns)])
                q = sa.select(sa.func.count()).select_from(c.outerjoin(p, on)).where(
                    *[c.c[a].isnot(None) for a in fk.columns], p.c[fk.ref_columns[0]].is_(None)
                )
                out[f"{table.name}->{fk.ref_table}"] = conn.execute(q).scalar_one()
    finally:
        eng.dispose()
    return out


def _keys(url: str, table: str, column: str) -> list:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            return [r[0] for r in conn.execute(sa.select(sa.column(column)).select_from(sa.table(table)))]
    finally:
        eng.dispose()


@pytest.mark.parametrize("kind", ["postgresql", "mariadb", "sqlite"])
def test_append_twice_continues_integer_keys(kind, tmp_path, pg_database, mariadb_database, sqlite_url):
    source = "builtin:chinook"
    target = _target(kind, pg_database, mariadb_database, sqlite_url)
    extra = {"scale": 0.15, "tables": {"Genre": {"mode": "copy"}, "MediaType": {"mode": "copy"}}}
    runs = [_run(tmp_path, source, target, "create", 1, **extra)]
    runs.append(_run(tmp_path, source, target, "append", 2, **extra))
    runs.append(_run(tmp_path, source, target, "append", 3, **extra))
    metadata = reflect(target)
    counts = _counts(target, metadata.tables)
    for name in ("Artist", "Album", "Track", "Invoice", "InvoiceLine", "Employee"):
        assert counts[name] == sum(r[name] for r in runs), name
    # a copied lookup table is not copied again: its real rows are in the target once
    assert counts["Genre"] == runs[0]["Genre"] == 25
    ids = _keys(target, "Track", "TrackId")
    assert len(ids) == len(set(ids)) and min(ids) == 1
    assert all(n == 0 for n in _orphans(target, metadata).values()), _orphans(target, metadata)


def _coded_source(path: Path) -> str:
    """A SQLite source whose customers are keyed by codes C-0000001..., referenced by orders."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (code VARCHAR(12) PRIMARY KEY, name VARCHAR(40) NOT NULL)")
        conn.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_code VARCHAR(12) NOT NULL "
            "REFERENCES customers(code), amount REAL NOT NULL)"
        )
        conn.executemany("INSERT INTO customers VALUES (?, ?)", [(f"C-{i:07d}", f"name {i % 7}") for i in range(1, 61)])
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?)", [(i, f"C-{i % 60 + 1:07d}", 1.5 * (i % 13)) for i in range(1, 181)]
        )
    return f"sqlite:///{path}"


@pytest.mark.parametrize("kind", ["postgresql", "mariadb", "sqlite"])
def test_append_continues_patterned_text_keys(kind, tmp_path, pg_database, mariadb_database, sqlite_url):
    source = _coded_source(tmp_path / "coded.sqlite")
    target = _target(kind, pg_database, mariadb_database, sqlite_url)
    runs = [_run(tmp_path, source, target, "create", 1), _run(tmp_path, source, target, "append", 2)]
    counts = _counts(target, ["customers", "orders"])
    assert counts["customers"] == runs[0]["customers"] + runs[1]["customers"]
    assert counts["orders"] == runs[0]["orders"] + runs[1]["orders"]
    codes = _keys(target, "customers", "code")
    assert len(set(codes)) == len(codes)
    # the prefix is the model's (derived from the keys' shape), the numbers continue past the first run's
    assert all(re.fullmatch(r"\D+\d+", c) for c in codes), codes[:3]
    numbers = sorted(int(re.search(r"\d+$", c).group()) for c in codes)
    assert numbers == list(range(1, len(codes) + 1))
    metadata = reflect(target)
    assert all(n == 0 for n in _orphans(target, metadata).values())
