"""The writer against real servers: real rows of chinook/demo cloned across PostgreSQL, MariaDB and SQLite."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from dbsynth.errors import SchemaMismatchError, UnsafeTargetError, WriteError
from dbsynth.metadata import sdtypes as st
from dbsynth.metadata.records import Metadata
from dbsynth.read import read_tables
from dbsynth.reflect import reflect
from dbsynth.write import write


def reflect_for_test(url: str) -> Metadata:
    """The metadata the product itself would use: dbsynth.reflect (without statistics: only the schema matters)."""
    return reflect(url, statistics=False)


def read_all(url: str, md: Metadata) -> dict[str, pd.DataFrame]:
    """The source's rows as the product reads them (contract-typed frames from one snapshot)."""
    return read_tables(url, md)


def assert_clone(url: str, md: Metadata, data: dict[str, pd.DataFrame]) -> None:
    """Counts equal the source's, every FK holds (checked by SQL), and the constraints exist in the target."""
    eng = sa.create_engine(url)
    try:
        insp = sa.inspect(eng)
        with eng.connect() as conn:
            q = conn.dialect.identifier_preparer.quote
            for name, table in md.tables.items():
                n = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {q(name)}").scalar_one()
                assert n == len(data[name]), name
                assert insp.get_pk_constraint(name)["constrained_columns"] == table.primary_key
                target_fks = {tuple(f["constrained_columns"]) for f in insp.get_foreign_keys(name)}
                assert target_fks == {tuple(fk.columns) for fk in table.foreign_keys}, name
                for fk in table.foreign_keys:
                    on = " AND ".join(f"c.{q(a)} = p.{q(b)}" for a, b in zip(fk.columns, fk.ref_columns))
                    orphans = conn.exec_driver_sql(
                        f"SELECT COUNT(*) FROM {q(name)} c LEFT JOIN {q(fk.ref_table)} p ON {on} "
                        f"WHERE c.{q(fk.columns[0])} IS NOT NULL AND p.{q(fk.ref_columns[0])} IS NULL"
                    ).scalar_one()
                    assert orphans == 0, (name, fk.name)
                    # deferred (self-referencing) keys were filled by the second pass, not left NULL
                    filled = conn.exec_driver_sql(
                        f"SELECT COUNT(*) FROM {q(name)} WHERE {q(fk.columns[0])} IS NOT NULL").scalar_one()
                    assert filled == int(data[name][fk.columns[0]].notna().sum()), (name, fk.name)
    finally:
        eng.dispose()


@pytest.fixture
def targets(pg_database, mariadb_database, sqlite_url):
    return {"postgresql": pg_database, "mariadb": mariadb_database, "sqlite": lambda: sqlite_url("target")}


@pytest.mark.parametrize("dataset", ["chinook", "demo"])
@pytest.mark.parametrize("target", ["postgresql", "mariadb", "sqlite"])
def test_clone_postgres_dataset_into_every_dialect(pg_dataset, targets, dataset, target):
    src = pg_dataset(dataset)
    md = reflect_for_test(src)
    data = read_all(src, md)
    dst = targets[target]()
    summary = write(data, dst, md, batch_size=700, source_url=src)
    assert summary.total_rows == sum(len(f) for f in data.values())
    assert {"row counts", "foreign keys"} <= set(summary.checks)
    assert_clone(dst, md, data)


@pytest.mark.parametrize("source", ["mariadb", "sqlite"])
def test_clone_chinook_from_mariadb_and_sqlite_into_postgres(mariadb_dataset, chinook_sqlite, pg_database, source):
    src = mariadb_dataset("chinook") if source == "mariadb" else chinook_sqlite
    md = reflect_for_test(src)
    data = read_all(src, md)
    dst = pg_database()
    write(data, dst, md)
    assert_clone(dst, md, data)


def test_sequences_continue_after_the_load(pg_dataset, pg_database):
    src = pg_dataset("chinook-identity")
    md = reflect_for_test(src)
    assert any(c.autoincrement for t in md for c in t.columns)
    data = read_all(src, md)
    dst = pg_database()
    write(data, dst, md)
    eng = sa.create_engine(dst)
    try:
        with eng.begin() as conn:
            for t in md:
                auto = [c.name for c in t.columns if c.autoincrement]
                if auto and not t.foreign_keys:
                    required = [c for c in t.columns if not c.nullable and c.name not in auto]
                    values = {c.name: "x" if c.type == st.STRING else 1 for c in required}
                    new_id = conn.execute(
                        sa.table(t.name, *[sa.column(k) for k in values]).insert().values(**values)
                        .returning(sa.literal_column(f'"{auto[0]}"'))
                    ).scalar_one()
                    assert new_id > data[t.name][auto[0]].max()
    finally:
        eng.dispose()


def _snapshot(url: str) -> dict[str, list]:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            names = sorted(sa.inspect(conn).get_table_names())
            return {n: sorted(map(tuple, conn.exec_driver_sql(f'SELECT * FROM "{n}"').all())) for n in names}
    finally:
        eng.dispose()


def _demo(pg_dataset):
    src = pg_dataset("demo")
    md = reflect_for_test(src)
    return src, md, read_all(src, md)


@pytest.mark.parametrize("mode", ["create", "replace"])
def test_failure_midway_leaves_postgres_target_as_before(pg_dataset, pg_database, mode):
    src, md, data = _demo(pg_dataset)
    dst = pg_database()
    if mode == "replace":
        write(data, dst, md)  # the target holds a previous load
    before = _snapshot(dst)
    bad = dict(data)
    # a duplicate primary key in the last batch of the last table
    bad["transactions"] = pd.concat([data["transactions"], data["transactions"].tail(1)], ignore_index=True)
    with pytest.raises(WriteError) as err:
        write(bad, dst, md, mode=mode, batch_size=3)  # 11 transactions: the duplicate lands in batch 4
    assert err.value.table == "transactions" and err.value.constraint == "transactions_pkey"
    assert "batch 4" in str(err.value) and "Key (" not in str(err.value)  # psycopg's DETAIL quotes values
    assert _snapshot(dst) == before


def test_writing_into_the_source_is_refused(pg_dataset):
    src, md, data = _demo(pg_dataset)
    with pytest.raises(UnsafeTargetError):
        write(data, src, md, mode="append", source_url=src.replace("postgres@", "other@"))


def test_create_refuses_existing_tables_and_nonempty_targets(pg_dataset, pg_database):
    src, md, data = _demo(pg_dataset)
    dst = pg_database()
    write(data, dst, md)
    with pytest.raises(UnsafeTargetError):
        write(data, dst, md)
    with pytest.raises(UnsafeTargetError):
        write({"users2": data["users"]}, dst, _renamed(md))  # other tables exist: needs allow_nonempty
    write({"users2": data["users"]}, dst, _renamed(md), allow_nonempty=True)


def _renamed(md: Metadata) -> Metadata:
    out = md.subset(["users"])
    t = out.tables.pop("users")
    t.name = "users2"
    out.add_table(t)
    return out


def test_truncate_and_append_reuse_the_schema(pg_dataset, pg_database):
    src, md, data = _demo(pg_dataset)
    dst = pg_database()
    write(data, dst, md)
    write(data, dst, md, mode="truncate")
    assert_clone(dst, md, data)
    shifted = {n: f.copy() for n, f in data.items()}
    for n, pk in (("users", "user_id"), ("sessions", "session_id"), ("transactions", "transaction_id")):
        shifted[n][pk] += 1_000_000
    shifted["sessions"]["user_id"] += 1_000_000
    shifted["transactions"]["session_id"] += 1_000_000
    summary = write(shifted, dst, md, mode="append")
    assert summary.total_rows == sum(len(f) for f in data.values())


def test_schema_mismatch_lists_every_difference(pg_dataset, pg_database):
    src, md, data = _demo(pg_dataset)
    dst = pg_database()
    write(data, dst, md)
    eng = sa.create_engine(dst)
    with eng.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE sessions DROP COLUMN os")
        conn.exec_driver_sql("ALTER TABLE users ADD COLUMN tier integer NOT NULL DEFAULT 0")
        conn.exec_driver_sql("ALTER TABLE users ALTER COLUMN tier DROP DEFAULT")
    eng.dispose()
    before = _snapshot(dst)
    with pytest.raises(SchemaMismatchError) as err:
        write(data, dst, md, mode="truncate")
    assert "sessions.os" in str(err.value) and "users.tier" in str(err.value)
    assert _snapshot(dst) == before


@pytest.mark.parametrize("target", ["postgresql", "mariadb", "sqlite"])
def test_clone_pagila(pg_dataset, targets, target):
    src = pg_dataset("pagila")
    md = reflect_for_test(src)
    data = read_all(src, md)
    dst = targets[target]()
    write(data, dst, md, batch_size=5_000, source_url=src)
    assert_clone(dst, md, data)


def test_failure_on_mariadb_rolls_back_rows_and_drops_created_tables(pg_dataset, mariadb_database):
    src, md, data = _demo(pg_dataset)
    dst = mariadb_database()
    bad = dict(data)
    bad["transactions"] = pd.concat([data["transactions"], data["transactions"].tail(1)], ignore_index=True)
    with pytest.raises(WriteError) as err:
        write(bad, dst, md, batch_size=500)
    assert err.value.table == "transactions" and err.value.constraint == "PRIMARY"
    eng = sa.create_engine(dst)
    try:
        assert sa.inspect(eng).get_table_names() == []
    finally:
        eng.dispose()
