"""The writer's promises against real servers: a failed load leaves the target as it was (MariaDB in every mode,
sequences included), messages carry no row values and say what happened, lock waits end, values round-trip.

``target_state`` (schema, every row sorted, sequence/AUTO_INCREMENT values) is shared with the fault-injection
suite (test_fault_injection.py).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from dbsynth.errors import WriteError, show_values
from dbsynth.metadata import sdtypes as st
from dbsynth.metadata.records import (
    CheckConstraint,
    Column,
    ForeignKey,
    Metadata,
    Table,
)
from dbsynth.write import write

pytestmark = pytest.mark.db

STAGING = ("_dbsynth_new_", "_dbsynth_old_")


# ---- the state of a target, for "left unchanged" ------------------------------------------------------------
def _rows(conn, q, table: str) -> list:
    return sorted(tuple(repr(v) for v in r) for r in conn.exec_driver_sql(f"SELECT * FROM {q(table)}").all())


def target_state(url: str, *, staging: bool = False) -> dict:
    """Schema (DDL as the server shows it), every row of every table (sorted) and sequence/AUTO_INCREMENT values.

    Args:
        url: the target.
        staging: include MariaDB staging tables (``_dbsynth_new_*``/``_dbsynth_old_*``); by default they are
            left out, and tests check separately that the next run removes them.
    """
    eng = sa.create_engine(url)
    state: dict = {}
    try:
        with eng.connect() as conn:
            q = conn.dialect.identifier_preparer.quote
            name = eng.dialect.name
            if name == "postgresql":
                for (t,) in conn.exec_driver_sql(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").all():
                    cols = conn.exec_driver_sql(
                        "SELECT column_name, data_type, is_nullable, column_default, is_identity FROM "
                        "information_schema.columns WHERE table_schema = 'public' AND table_name = %(t)s "
                        "ORDER BY ordinal_position", {"t": t}).all()
                    cons = conn.exec_driver_sql(
                        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                        "CAST(%(t)s AS regclass) ORDER BY 1", {"t": q(t)}).all()
                    idx = conn.exec_driver_sql(
                        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %(t)s "
                        "ORDER BY 1", {"t": t}).all()
                    state[t] = {"columns": cols, "constraints": cons, "indexes": idx, "rows": _rows(conn, q, t)}
                for (s,) in conn.exec_driver_sql(
                        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1").all():
                    state["seq:" + s] = conn.exec_driver_sql(f"SELECT last_value, is_called FROM {q(s)}").one()
            elif name in ("mysql", "mariadb"):
                tables = [r[0] for r in conn.exec_driver_sql("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")]
                for t in sorted(tables):
                    if t.startswith(STAGING) and not staging:
                        continue
                    ddl = conn.exec_driver_sql(f"SHOW CREATE TABLE {q(t)}").one()[1]
                    auto = re.search(r" AUTO_INCREMENT=(\d+)", ddl)
                    state[t] = {"ddl": re.sub(r" AUTO_INCREMENT=\d+", "", ddl), "rows": _rows(conn, q, t)}
                    state["auto_increment:" + t] = int(auto.group(1)) if auto else None
            else:
                for t, sql in conn.exec_driver_sql(
                        "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all():
                    state[t] = {"ddl": sql}
                    if sql and sql.upper().startswith("CREATE TABLE"):
                        state[t]["rows"] = _rows(conn, q, t)
                if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").first():
                    state["sqlite_sequence"] = sorted(conn.exec_driver_sql("SELECT * FROM sqlite_sequence").all())
    finally:
        eng.dispose()
    return state


def checksum(state: dict) -> str:
    """A digest of :func:`target_state` (what the fault-injection suite compares)."""
    return hashlib.sha256(repr(sorted(state.items(), key=lambda kv: kv[0])).encode()).hexdigest()


def staging_tables(url: str) -> list[str]:
    eng = sa.create_engine(url)
    try:
        return [t for t in sa.inspect(eng).get_table_names() if t.startswith(STAGING)]
    finally:
        eng.dispose()


# ---- a small schema with a cycle, a self-reference, a CHECK and an identity ------------------------------
def cycle_meta(dialect: str | None) -> Metadata:
    """dept.head -> employee, employee.dept -> dept (a cycle), employee.boss -> employee; a CHECK on score."""
    md = Metadata(dialect=dialect)
    md.add_table(Table("dept", [Column("id", st.INTEGER, nullable=False, autoincrement=True),
                                Column("head", st.INTEGER), Column("name", st.STRING, length=40)],
                       primary_key=["id"],
                       foreign_keys=[ForeignKey(["head"], "employee", ["id"], name="dept_head_fk")]))
    md.add_table(Table("employee", [Column("id", st.INTEGER, nullable=False, autoincrement=True),
                                    Column("boss", st.INTEGER), Column("dept", st.INTEGER),
                                    Column("score", st.FLOAT), Column("email", st.STRING, length=80)],
                       primary_key=["id"],
                       foreign_keys=[ForeignKey(["boss"], "employee", ["id"], name="emp_boss_fk"),
                                     ForeignKey(["dept"], "dept", ["id"], name="emp_dept_fk")],
                       check_constraints=[CheckConstraint("score >= 0", "score_positive")]))
    return md.validate()


def cycle_data(n: int = 40, offset: int = 0) -> dict[str, pd.DataFrame]:
    ids = np.arange(1, n + 1) + offset
    return {
        "dept": pd.DataFrame({"id": [1 + offset, 2 + offset], "head": [n + offset, 1 + offset],
                              "name": ["a", "b"]}),
        "employee": pd.DataFrame({
            "id": ids, "boss": pd.array([pd.NA] + list(ids[:-1]), dtype="Int64"),
            "dept": [1 + offset + i % 2 for i in range(n)], "score": np.linspace(0, 1, n),
            "email": [f"person{i}@example.org" for i in ids],
        }),
    }


def _dialect(url: str) -> str:
    return {"mariadb": "mysql"}.get(sa.make_url(url).get_backend_name(), sa.make_url(url).get_backend_name())


@pytest.fixture
def targets(pg_database, mariadb_database, sqlite_url):
    return {"postgresql": pg_database, "mariadb": mariadb_database, "sqlite": lambda: sqlite_url("target")}


def _exec(url: str, *sql: str) -> None:
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            for s in sql:
                conn.exec_driver_sql(s)
    finally:
        eng.dispose()


def scalar(url: str, sql: str):
    """One value of ``sql`` in the database at ``url`` (its own connection; shared with the fault suite)."""
    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            return conn.exec_driver_sql(sql).scalar()
    finally:
        eng.dispose()


# ---- MariaDB: atomic in every mode ----------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["create", "replace", "truncate", "append"])
def test_mariadb_failed_load_leaves_the_target_unchanged_in_every_mode(mariadb_database, mode):
    dst = mariadb_database()
    md = cycle_meta("mysql")
    if mode != "create":
        write(cycle_data(), dst, md)
    before = target_state(dst)
    bad = cycle_data(offset=1000)
    bad["employee"].loc[30, "score"] = -1.0  # violates the CHECK in batch 4 of 10 rows
    with pytest.raises(WriteError) as err:
        write(bad, dst, md, mode="create" if mode == "create" else mode, batch_size=10)
    text = str(err.value)
    assert err.value.table == "employee" and "batch 4" in text and "\n" not in text
    assert "the target was left unchanged" in text
    after = target_state(dst)
    if mode == "append":
        # InnoDB never hands back AUTO_INCREMENT values of rolled-back inserts: the counter may only move on
        for k in [k for k in before if k.startswith("auto_increment:")]:
            assert after.pop(k) >= before.pop(k)
    assert after == before
    assert staging_tables(dst) == []


def test_mariadb_replace_with_a_cycle_runs_again_and_again(mariadb_database):
    dst = mariadb_database()
    md = cycle_meta("mysql")
    for i in range(3):
        write(cycle_data(offset=i), dst, md, mode="replace")
    assert scalar(dst, "SELECT MIN(id) FROM employee") == 3
    # the foreign keys got their real names back after the swap
    names = {r for r in _scalar_all(dst, "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
                                         "WHERE CONSTRAINT_SCHEMA = DATABASE()")}
    assert names == {"dept_head_fk", "emp_boss_fk", "emp_dept_fk"}
    write(cycle_data(offset=7), dst, md, mode="truncate")
    assert scalar(dst, "SELECT MIN(id) FROM employee") == 8 and staging_tables(dst) == []


def _scalar_all(url: str, sql: str) -> list:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            return [r[0] for r in conn.exec_driver_sql(sql).all()]
    finally:
        eng.dispose()


def _in_thread(fn):
    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def _wait_for(path: Path, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < end, f"the run never reached {path.name}"
        time.sleep(0.05)


@pytest.mark.parametrize("mode", ["truncate", "replace"])
def test_mariadb_other_sessions_see_the_old_rows_during_the_load(mariadb_database, tmp_path, monkeypatch, mode):
    dst = mariadb_database()
    md = cycle_meta("mysql")
    write(cycle_data(), dst, md)
    marker = tmp_path / "fault"
    monkeypatch.setenv("DBSYNTH_FAULT_AT", "commit")
    monkeypatch.setenv("DBSYNTH_FAULT_MARKER", str(marker))
    t, box = _in_thread(lambda: write(cycle_data(60, offset=100), dst, md, mode=mode, batch_size=10))
    _wait_for(marker)
    # every row is loaded (into staging): the target's tables still hold the old rows
    assert scalar(dst, "SELECT COUNT(*) FROM employee") == 40
    assert scalar(dst, "SELECT MIN(id) FROM employee") == 1
    marker.with_name("fault.go").write_text("")
    t.join(30)
    assert "error" not in box, box.get("error")
    assert scalar(dst, "SELECT COUNT(*) FROM employee") == 60 and staging_tables(dst) == []


# ---- PostgreSQL: sequences roll back, a failure at commit is one line ------------------------------------------
def test_postgres_failure_at_commit_is_one_line_and_leaves_sequences(pg_database):
    dst = pg_database()
    md = Metadata()
    md.add_table(Table("acct", [Column("id", st.INTEGER, nullable=False, autoincrement=True),
                                Column("email", st.STRING)], primary_key=["id"]))
    write({"acct": pd.DataFrame({"id": [1, 2, 3], "email": ["a@x.org", "b@x.org", "c@x.org"]})}, dst, md)
    # checked only at COMMIT: every statement of the load succeeds, the commit fails
    _exec(dst, "ALTER TABLE acct ADD CONSTRAINT acct_email_key UNIQUE (email) DEFERRABLE INITIALLY DEFERRED")
    before = target_state(dst)
    assert before["seq:acct_id_seq"] == (4, False)
    bad = pd.DataFrame({"id": [101, 102, 103], "email": ["secret.d@x.org", "e@x.org", "secret.d@x.org"]})
    with pytest.raises(WriteError) as err:
        write({"acct": bad}, dst, md, mode="truncate")
    text = str(err.value)
    assert "at commit" in text and "duplicate key" in text and "the target was left unchanged" in text
    assert err.value.table == "acct" and err.value.constraint == "acct_email_key"
    assert "secret" not in text and "\n" not in text
    assert target_state(dst) == before  # rows and the sequence: ALTER SEQUENCE rolled back with the load


def test_postgres_deferred_constraint_of_a_table_with_foreign_keys(pg_database):
    dst = pg_database()
    md = cycle_meta(None)
    write(cycle_data(), dst, md)
    _exec(dst, "ALTER TABLE employee ADD CONSTRAINT employee_email_key UNIQUE (email) DEFERRABLE INITIALLY DEFERRED")
    before = target_state(dst)
    bad = cycle_data(80, offset=500)
    bad["employee"].loc[70, "email"] = bad["employee"].loc[3, "email"]
    with pytest.raises(WriteError) as err:
        write(bad, dst, md, mode="truncate")
    text = str(err.value)
    assert "duplicate key" in text and "deferred constraints" in text and "left unchanged" in text
    assert err.value.constraint == "employee_email_key" and "person" not in text
    assert target_state(dst) == before
    good = cycle_data(80, offset=500)
    write(good, dst, md, mode="truncate")  # the deferred constraint does not stop the foreign keys' return
    assert target_state(dst)["seq:employee_id_seq"] == (581, False)


# ---- no row values in messages ---------------------------------------------------------------------------------
def _typed_meta() -> Metadata:
    """The metadata says text; the target (truncate mode) holds an integer column and an enum."""
    md = Metadata()
    md.add_table(Table("p", [Column("id", st.INTEGER, nullable=False), Column("n", st.STRING),
                             Column("mood", st.STRING)], primary_key=["id"]))
    return md


SECRET_EMAIL = "alice.secret@example.org"
SECRET_MOOD = "SECRETMOOD42"


@pytest.mark.parametrize("column", ["n", "mood"])
@pytest.mark.parametrize("target", ["postgresql", "mariadb"])
def test_driver_errors_name_table_column_batch_without_the_value(targets, target, column):
    dst = targets[target]()
    if target == "postgresql":
        _exec(dst, "CREATE TYPE mood AS ENUM ('happy', 'sad')",
              "CREATE TABLE p (id integer PRIMARY KEY, n integer, mood mood)")
    else:
        _exec(dst, "CREATE TABLE p (id integer PRIMARY KEY, n integer, mood ENUM('happy', 'sad'))")
    frame = pd.DataFrame({"id": [1, 2, 3], "n": ["1", "2", "3"], "mood": ["happy", "sad", "happy"]})
    frame.loc[2, column] = SECRET_EMAIL if column == "n" else SECRET_MOOD
    with pytest.raises(WriteError) as err:
        write({"p": frame}, dst, _typed_meta(), mode="truncate", batch_size=2)
    text = str(err.value)
    assert SECRET_EMAIL not in text and SECRET_MOOD not in text and "secret" not in text.lower()
    assert err.value.table == "p" and err.value.column == column and "batch 2" in text
    assert "not valid" in text and "left unchanged" in text
    # the debug switch (--show-values) puts the driver's text back
    show_values(True)
    try:
        with pytest.raises(WriteError) as err:
            write({"p": frame}, dst, _typed_meta(), mode="truncate", batch_size=2)
    finally:
        show_values(False)
    assert "[driver:" in str(err.value)
    if target == "postgresql" or column == "n":  # MariaDB does not quote the enum's value
        assert (SECRET_EMAIL if column == "n" else SECRET_MOOD) in str(err.value)


def test_sqlite_unique_violation_names_the_column_without_the_value(sqlite_url):
    dst = sqlite_url("t")
    md = cycle_meta(None)
    md.tables["employee"].unique_constraints.append(
        __import__("dbsynth.metadata.records", fromlist=["UniqueConstraint"]).UniqueConstraint(["email"], "emp_email"))
    data = cycle_data()
    data["employee"].loc[20, "email"] = data["employee"].loc[2, "email"]
    with pytest.raises(WriteError) as err:
        write(data, dst, md, batch_size=10)
    assert "person" not in str(err.value) and err.value.column == "email" and "batch 3" in str(err.value)


# ---- lock waits end --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["postgresql", "mariadb", "sqlite"])
def test_a_lock_held_by_another_session_ends_in_a_clear_error(targets, target):
    dst = targets[target]()
    md = cycle_meta("mysql" if target == "mariadb" else None)
    write(cycle_data(), dst, md)
    before = target_state(dst)
    eng = sa.create_engine(dst)
    conn = eng.connect()
    try:
        if target == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.begin()
            conn.exec_driver_sql("SELECT * FROM employee").all()  # a reader in an open transaction
        started = time.monotonic()
        with pytest.raises(WriteError) as err:
            write(cycle_data(offset=100), dst, md, mode="truncate", lock_timeout=1)
        assert time.monotonic() - started < 20
    finally:
        conn.rollback()
        conn.close()
        eng.dispose()
    text = str(err.value)
    assert "lock timeout" in text and "left unchanged" in text
    if target == "sqlite":
        assert "another connection holds a lock" in text
    else:
        assert err.value.table == "employee" and "another session holds a lock on it" in text
    assert target_state(dst) == before
    if target == "postgresql":  # the backend gave up: nothing of ours stays queued on a lock
        waiting = scalar(dst, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock'")
        assert waiting == 0


# ---- values and identifiers ------------------------------------------------------------------------------------
def _odd_meta() -> Metadata:
    md = Metadata()
    md.add_table(Table("my.table", [Column("id", st.INTEGER, nullable=False, bits=64),
                                    Column("select", st.INTEGER, bits=64), Column("Mixed Case", st.STRING),
                                    Column("big", st.STRING)], primary_key=["id"]))
    md.add_table(Table("Child Table", [Column("cid", st.INTEGER, nullable=False, autoincrement=True),
                                       Column("ref", st.INTEGER, bits=64), Column("up", st.INTEGER)],
                       primary_key=["cid"],
                       foreign_keys=[ForeignKey(["ref"], "my.table", ["id"], name="child.ref"),
                                     ForeignKey(["up"], "Child Table", ["cid"], name="child up")]))
    return md.validate()


EXTREMES = [2**63 - 1, -(2**63), 2**53 + 1, 0]


@pytest.mark.parametrize("kind", ["int64", "Int64", "object", "float"])
@pytest.mark.parametrize("target", ["postgresql", "mariadb", "sqlite"])
def test_bigints_odd_names_and_a_10mb_text_round_trip(targets, target, kind):
    dst = targets[target]()
    if kind == "float":
        # the closest float of 2**63-1 is 2**63: it means the top of the range, not -2**63
        ids = pd.Series([float(2**63 - 1), -float(2**63), 2.0**53, 0.0])
        want = [2**63 - 1, -(2**63), 2**53, 0]
    elif kind == "object":
        ids = pd.Series(EXTREMES, dtype=object)
        want = EXTREMES
    else:
        ids = pd.Series(EXTREMES, dtype=kind)
        want = EXTREMES
    sel = pd.Series(list(ids[:3]) + [None], dtype=object if kind != "Int64" else "Int64")
    frames = {
        "my.table": pd.DataFrame({"id": ids, "select": sel, "Mixed Case": ["a", None, "c", "d"],
                                  "big": ["x" * 10_000_000, "y", "", None]}),
        "Child Table": pd.DataFrame({"cid": [1, 2], "ref": pd.array([2**63 - 1, None], dtype="Int64"),
                                     "up": pd.array([None, 1], dtype="Int64")}),
    }
    frames["Child Table"]["ref"] = pd.Series([want[0], None], dtype=object)
    write(frames, dst, _odd_meta(), batch_size=2)
    eng = sa.create_engine(dst)
    try:
        with eng.connect() as conn:
            q = conn.dialect.identifier_preparer.quote
            rows = conn.exec_driver_sql(
                f"SELECT id, {q('select')}, {q('Mixed Case')}, LENGTH(big) FROM {q('my.table')} ORDER BY id").all()
            child = conn.exec_driver_sql(f"SELECT cid, ref, up FROM {q('Child Table')} ORDER BY cid").all()
    finally:
        eng.dispose()
    by_id = {r[0]: r for r in rows}
    assert sorted(by_id) == sorted(want)
    assert by_id[want[0]][1] == want[0] and by_id[want[1]][1] == want[1] and by_id[want[2]][1] == want[2]
    assert by_id[want[0]][3] == 10_000_000 and by_id[want[0]][2] == "a"
    assert child == [(1, want[0], None), (2, None, 1)]
    # a second load into the same tables (truncate: staging tables on MariaDB, TRUNCATE on PostgreSQL)
    write(frames, dst, _odd_meta(), mode="truncate")


# ---- a killed backend during COPY and during ANALYZE ---------------------------------------------------------
@pytest.mark.parametrize("phase", ["copy:employee", "analyze"])
def test_postgres_backend_terminated_mid_load(pg_database, tmp_path, monkeypatch, phase):
    dst = pg_database()
    md = cycle_meta(None)
    write(cycle_data(), dst, md)
    before = target_state(dst)
    marker = tmp_path / "fault"
    monkeypatch.setenv("DBSYNTH_FAULT_AT", phase)
    monkeypatch.setenv("DBSYNTH_FAULT_MARKER", str(marker))
    t, box = _in_thread(lambda: write(cycle_data(60, offset=100), dst, md, mode="replace", batch_size=25))
    _wait_for(marker)
    killed = scalar(dst, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert killed >= 1
    marker.with_name("fault.go").write_text("")
    t.join(30)
    err = box.get("error")
    assert isinstance(err, WriteError), repr(err)
    text = str(err)
    assert "connection to the target was lost" in text and "left unchanged" in text and "\n" not in text
    if phase == "analyze":  # the table whose ANALYZE failed: the first one analyzed, not the last one loaded
        assert err.table == md.graph().parent_first()[0] and "while analyzing" in text
    else:  # inside the COPY of employee's first batch
        assert err.table == "employee" and "batch 1" in text
    assert target_state(dst) == before


# ---- two runs into one target are serialised --------------------------------------------------------------------
@pytest.mark.parametrize("target", ["postgresql", "mariadb"])
def test_two_concurrent_loads_into_one_target_are_serialised(targets, target, tmp_path, monkeypatch):
    dst = targets[target]()
    md = cycle_meta("mysql" if target == "mariadb" else None)
    write(cycle_data(), dst, md)
    marker = tmp_path / "fault"
    monkeypatch.setenv("DBSYNTH_FAULT_AT", "commit")  # the first run pauses before its commit/swap, locks held
    monkeypatch.setenv("DBSYNTH_FAULT_MARKER", str(marker))
    first, box1 = _in_thread(lambda: write(cycle_data(50, offset=100), dst, md, mode="truncate"))
    _wait_for(marker)
    second, box2 = _in_thread(lambda: write(cycle_data(70, offset=200), dst, md, mode="truncate", lock_timeout=60))
    time.sleep(1.5)
    assert second.is_alive()  # waiting for the first run's locks, not loading beside it
    marker.with_name("fault.go").write_text("")
    first.join(60)
    second.join(60)
    assert "error" not in box1 and "error" not in box2, (box1.get("error"), box2.get("error"))
    assert scalar(dst, "SELECT COUNT(*) FROM employee") == 70 and scalar(dst, "SELECT MIN(id) FROM employee") == 201
