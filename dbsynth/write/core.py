"""The work of :func:`dbsynth.write.write` (the package holds the entry point and its documentation).

One :class:`Job` per call; PostgreSQL and SQLite load in one transaction here, MariaDB/MySQL in
:mod:`dbsynth.write.mysql`.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from .. import faults, progress
from ..batch import Batch, as_batch
from ..dialects import LockWait, capabilities
from ..errors import DbsynthError, SchemaMismatchError, UnsafeTargetError, UnsupportedError, WriteError, mask_url
from ..metadata import sdtypes as st
from ..metadata.records import Metadata, Table
from .convert import ConversionError, collect_warnings
from .dberrors import Where, describe
from .ddl import (
    build_schema,
    check_schema,
    create_schemas,
    create_tables,
    dialect_name,
    drop_tables,
    existing_tables,
    sql_name,
)
from .loaders import load_batch, update_batch
from .safety import refuse_source
from .types import align_foreign_keys, text_fallbacks

__all__ = ["write", "WriteSummary", "TableWrite", "MODES", "Data", "Job", "is_driver_error", "load"]

MODES = ("create", "replace", "truncate", "append")



@dataclass
class TableWrite:
    """What was written into one table."""

    table: str
    """Metadata table name."""
    rows: int = 0
    """Rows inserted."""
    seconds: float = 0.0
    """Wall time spent loading this table (first pass)."""
    batches: int = 0
    """Batches written."""

    @property
    def rows_per_second(self) -> float:
        """Load throughput of this table."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class WriteSummary:
    """The result of :func:`write`."""

    url: str
    """Target URL, password masked."""
    mode: str
    """Write mode used."""
    tables: dict[str, TableWrite] = field(default_factory=dict)
    """Per-table figures, in load order."""
    seconds: float = 0.0
    """Total wall time, DDL and checks included."""
    checks: list[str] = field(default_factory=list)
    """Checks that passed after the load (row counts, foreign keys, sequences)."""
    warnings: list[str] = field(default_factory=list)
    """What the target could not hold exactly, once per table.column and kind (``table 't', column 'c': ...``):
    values written as the closest the target has (NaN or infinite floats as NULL on MariaDB, infinite dates as
    its last date...), columns of a type the target has nothing closer to than text, and foreign-key columns
    retyped to their key's type. The value conversions are also logged as they happen."""

    @property
    def total_rows(self) -> int:
        """Rows written over all tables."""
        return sum(t.rows for t in self.tables.values())

    @property
    def rows_per_second(self) -> float:
        """End-to-end throughput."""
        return self.total_rows / self.seconds if self.seconds > 0 else 0.0


#: What :func:`write` loads: ``{table: frame}`` (cut into batches of ``batch_size`` rows, parent-first), or
#: batches in load order, each a :class:`~dbsynth.batch.Batch` or a ``(table, frame)`` pair (rows).
Data = Mapping[str, pd.DataFrame] | Iterable[Batch | tuple[str, pd.DataFrame]]


def _batches(data: Data, order: list[str], batch_size: int) -> Iterator[Batch]:
    if isinstance(data, Mapping):
        for name in order:
            if name not in data:
                continue
            frame = data[name]
            for start in range(0, max(len(frame), 1), batch_size):
                yield Batch(name, frame.iloc[start : start + batch_size])
    else:
        for item in data:
            yield as_batch(item)


#: What a failed load that rolled back did to the target.
UNCHANGED = "the target was left unchanged (the transaction was rolled back)"


@dataclass
class Job:
    """Everything one call of :func:`write` works with, shared by the PostgreSQL/SQLite and MariaDB paths."""

    data: Data
    metadata: Metadata
    mode: str
    batch_size: int
    allow_nonempty: bool
    lock_timeout: float
    dialect: str
    order: list[str]
    deferred: set[tuple[str, str]]
    deferred_cols: dict[str, list]
    sa_tables: dict[str, sa.Table]
    """Tables the rows go into (staging tables on MariaDB), by metadata table name."""
    summary: WriteSummary
    where: Where = field(default_factory=Where)
    outcome: str = UNCHANGED
    """What a failure at this point leaves in the target (every message ends with it)."""

    def columns(self, table: str | None) -> list[str]:
        """Column names of a metadata table (for error messages)."""
        t = self.metadata.tables.get(table) if table else None
        return [c.name for c in t.columns] if t is not None else []

    def error(self, exc: BaseException) -> WriteError:
        """The one-line error for a driver exception at the current place."""
        return describe(exc, self.dialect, self.where, self.outcome, self.columns(self.where.table))


def is_driver_error(exc: BaseException) -> bool:
    """A database error, wrapped by SQLAlchemy or raised by the driver itself (psycopg's COPY, pymysql)."""
    if isinstance(exc, sa.exc.DBAPIError):
        return True
    mod = type(exc).__module__ or ""
    return mod.startswith(("psycopg", "pymysql", "sqlite3", "MySQLdb"))


def _engine(url: str | sa.URL, lock_timeout: float = 30.0) -> sa.Engine:
    try:
        from ..db import make_url

        parsed = make_url(url)
    except ImportError:
        parsed = sa.make_url(url)
    caps = capabilities(parsed)
    if caps.lock_wait is LockWait.BUSY_TIMEOUT:
        # the busy timeout: how long a statement waits for another connection's lock on the file
        eng = sa.create_engine(parsed, connect_args={"timeout": float(lock_timeout)})
    else:
        eng = sa.create_engine(parsed)
    if caps.fk_pragma:
        # pysqlite's own transaction handling runs DDL outside transactions; take over so DDL is atomic
        # too, and enforce foreign keys so a broken reference fails the load.
        @sa.event.listens_for(eng, "connect")
        def _connect(dbapi_conn, _rec):  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None
            dbapi_conn.execute("PRAGMA foreign_keys=ON")

        @sa.event.listens_for(eng, "begin")
        def _begin(conn):  # pragma: no cover - trivial
            # IMMEDIATE: take the write lock now, so a concurrent writer makes this wait (busy timeout) here,
            # naming no half-written table, instead of failing midway.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            # Foreign keys checked at commit: emptying tables of a cycle (truncate/replace) needs it; the
            # SQL integrity check of _after still names the key at fault before the commit.
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")

    return eng


def db_error(exc: Exception, table: str | None, batch: int | None, dialect: str) -> WriteError:
    """A WriteError naming table, constraint and batch, without the row values drivers like to quote."""
    where = Where("load" if batch is not None else "ddl", table, batch)
    return describe(exc, dialect, where, UNCHANGED)


def write(
    data: Data,
    url: str | sa.URL,
    metadata: Metadata,
    mode: str = "create",
    batch_size: int = 50_000,
    source_url: str | sa.URL | None = None,
    allow_nonempty: bool = False,
    lock_timeout: float = 30.0,
) -> WriteSummary:
    """:func:`dbsynth.write.write` (documented there)."""
    if mode not in MODES:
        raise UnsupportedError(f"unknown write mode '{mode}' (use one of: {', '.join(MODES)})")
    if batch_size < 1:
        raise UnsupportedError("batch_size must be at least 1")
    if not lock_timeout or lock_timeout <= 0:
        raise UnsupportedError("lock_timeout must be a positive number of seconds")
    refuse_source(url, source_url, metadata)
    started = time.perf_counter()
    graph = metadata.graph()
    order = graph.parent_first()
    deferred = {(d.edge.child, d.edge.fk.name) for d in graph.deferred}
    deferred_cols: dict[str, list] = {}
    for d in graph.deferred:
        deferred_cols.setdefault(d.edge.child, []).append(d.edge.fk)
    if not isinstance(data, Mapping):
        # The first batch before any connection or lock: a producer that still reads the target to make it
        # (append's key offsets) would otherwise wait on the locks this load takes, and a sampling error
        # fails before anything reaches the target.
        data = iter(data)
        first = next(data, None)
        data = itertools.chain([first], data) if first is not None else iter(())
    eng = _engine(url, lock_timeout)
    dialect = dialect_name(eng)
    _, sa_tables = build_schema(metadata, dialect, deferred)
    summary = WriteSummary(url=mask_url(url), mode=mode)
    for retyped in align_foreign_keys(metadata, sa_tables, dialect):
        table, column = retyped.split(".", 1) if retyped.count(".") == 1 else retyped.rsplit(".", 1)
        summary.warnings.append(f"table '{table}', column '{column}': created with the type of the key it refers "
                                "to (a foreign key and its key must agree in the target)")
    summary.warnings.extend(text_fallbacks(metadata, sa_tables, dialect))
    job = Job(data, metadata, mode, batch_size, allow_nonempty, float(lock_timeout), dialect, order, deferred,
              deferred_cols, sa_tables, summary)
    try:
        with collect_warnings() as said:
            try:
                if not capabilities(dialect).transactional_ddl:
                    # MariaDB/MySQL: staging tables swapped in by one RENAME (atomic_rename)
                    from .mysql import write_mysql

                    write_mysql(eng, job)
                else:
                    _write_one_transaction(eng, job)
            finally:
                eng.dispose()
    finally:
        summary.warnings.extend(said)
    summary.seconds = time.perf_counter() - started
    return summary


def _write_one_transaction(eng: sa.Engine, job: Job) -> None:
    """PostgreSQL and SQLite: DDL, rows, cycles, constraints, sequences and checks in one transaction."""
    where = job.where
    conn = eng.connect()
    trans = None
    try:
        try:
            where.at("ddl")
            trans = conn.begin()  # SQLite's BEGIN IMMEDIATE waits here for another writer (busy timeout)
            caps = capabilities(job.dialect)
            if caps.utc_session:
                # Timestamps travel as naive UTC text (see convert.pg_column).
                conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
            if caps.lock_wait is LockWait.SET_LOCAL:
                # A lock held by another session fails the load after lock_timeout instead of queueing forever
                # (and a backend whose client died gives up too, instead of staying queued on a DROP).
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(job.lock_timeout * 1000)}ms'")
            _prepare(conn, job)
            load(conn, job)
            faults.point("commit")
            where.at("commit")
            trans.commit()
        except DbsynthError:
            _rollback(conn, trans)
            raise
        except Exception as exc:
            if not is_driver_error(exc):
                _rollback(conn, trans)
                raise
            if where.phase == "commit" and _lost(exc):
                job.outcome = ("the connection was lost during COMMIT, so whether the rows were committed is "
                               "unknown: check the target before using it")
            elif _lost(exc):
                job.outcome = "the target was left unchanged (the server rolled the transaction back)"
            err = job.error(exc)
            _rollback(conn, trans)
            raise err from None
        except BaseException:
            # KeyboardInterrupt/SystemExit mid-statement: the session is in an unknown state; closing it makes
            # the server roll the transaction back.
            conn.invalidate()
            raise
    finally:
        conn.close()


def _lost(exc: BaseException) -> bool:
    from .dberrors import is_connection_lost

    return is_connection_lost(exc)


def _rollback(conn: sa.Connection, trans) -> None:
    """Roll back, or close a session that cannot (a lost connection): the server rolls back either way."""
    try:
        if trans is not None and trans.is_active:
            trans.rollback()
    except Exception:
        conn.invalidate()


def _lock_tables(conn: sa.Connection, job: Job, existing: set[str]) -> None:
    """PostgreSQL: lock the managed tables one at a time, so a lock timeout names the table another holds."""
    for name in job.order:
        sat = job.sa_tables[name]
        if sat.key in existing:
            job.where.at("ddl", name)
            conn.exec_driver_sql(f"LOCK TABLE {sql_name(conn, sat)} IN ACCESS EXCLUSIVE MODE")


def _prepare(conn: sa.Connection, job: Job) -> None:
    """Check the mode against the target and create, recreate or empty the managed tables (PostgreSQL, SQLite)."""
    where, dialect, mode = job.where, job.dialect, job.mode
    ordered = [job.sa_tables[n] for n in job.order]
    where.at("ddl")
    faults.point("ddl")
    existing = existing_tables(conn, ordered)
    caps = capabilities(dialect)
    if caps.lock_table and mode != "create":
        _lock_tables(conn, job, existing)
    where.at("ddl")
    check_mode(job, existing)
    if mode == "create":
        create_schemas(conn, ordered)  # PostgreSQL: CREATE SCHEMA IF NOT EXISTS, in this transaction
        create_tables(conn, job.metadata, job.order, job.sa_tables, dialect)
    elif mode == "replace":
        drop_tables(conn, ordered, dialect)
        create_schemas(conn, ordered)
        create_tables(conn, job.metadata, job.order, job.sa_tables, dialect)
    else:
        check_schema(conn, job.metadata, job.sa_tables)
        if mode == "truncate":
            if caps.truncate_many:
                conn.exec_driver_sql("TRUNCATE " + ", ".join(sql_name(conn, t) for t in ordered))
            else:
                for t in reversed(ordered):
                    conn.exec_driver_sql(f"DELETE FROM {sql_name(conn, t)}")


def check_mode(job: Job, existing: set[str]) -> None:
    """``create``: refuse tables that exist, and a non-empty target unless ``allow_nonempty``."""
    if job.mode != "create":
        return
    managed = {job.sa_tables[n].key for n in job.order}
    clash = sorted(managed & existing)
    if clash:
        raise UnsafeTargetError(
            f"table(s) {', '.join(clash)} already exist in the target",
            table=clash[0],
            hint="Use mode='replace' to recreate them, or 'truncate'/'append' to keep them.",
        )
    if existing and not job.allow_nonempty:
        raise UnsafeTargetError(
            f"the target already holds {len(existing)} other table(s)",
            hint="Pass allow_nonempty=True to create the tables beside them.",
        )


def _drop_foreign_keys(conn, job: Job) -> list[tuple[str, str, str, str]]:
    """Drop the target's foreign keys between loaded tables, returning (table, sql name, fk name, definition).

    PostgreSQL checks a foreign key row by row during COPY (a trigger per row and key); adding the constraint
    after the load checks every row at once with one join, which is what pg_dump does too. It all happens in
    the load's transaction, so no other session ever sees the tables without their keys.
    """
    q = conn.dialect.identifier_preparer.quote
    by_sql = {sql_name(conn, t): n for n, t in job.sa_tables.items()}
    rows = conn.execute(
        sa.text(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.contype = 'f' AND c.conrelid = ANY(CAST(:tables AS regclass[])) ORDER BY c.conname"
        ),
        {"tables": list(by_sql)},
    ).all()
    out = []
    for table, name, definition in rows:
        meta_name = by_sql.get(table, by_sql.get(q(table), table))
        job.where.at("ddl", meta_name)
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {q(name)}")
        out.append((meta_name, table, name, definition))
    return out


def _restore_foreign_keys(conn, saved: list[tuple[str, str, str, str]], job: Job) -> None:
    q = conn.dialect.identifier_preparer.quote
    for meta_name, table, name, definition in saved:
        job.where.at("constraints", meta_name)
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {q(name)} {definition}")


def load(conn, job: Job) -> None:
    """First pass (rows, deferred keys set aside), second pass (cycles), constraints, checks, sequences."""
    metadata, dialect = job.metadata, job.dialect
    caps = capabilities(dialect)
    saved_fks = _drop_foreign_keys(conn, job) if caps.readd_fks_after_load else []
    # rows of a NOT NULL cycle come with their keys filled, some before the rows they refer to: InnoDB would
    # refuse them, so its checks are off for the load; the SQL check in _after then proves every reference
    checks_off = caps.fk_check_switch and any(not metadata.tables[n].fk_is_nullable(fk)
                                            for n, fks in job.deferred_cols.items() for fk in fks)
    if checks_off:
        conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")
    try:
        _load_rows(conn, job, saved_fks)
    finally:
        if checks_off:
            with contextlib.suppress(Exception):  # a lost connection must not hide the load's own error
                conn.exec_driver_sql("SET SESSION foreign_key_checks = 1")


def _load_rows(conn, job: Job, saved_fks: list) -> None:
    data, metadata, dialect, where = job.data, job.metadata, job.dialect, job.where
    sa_tables, summary = job.sa_tables, job.summary
    before = {}
    if job.mode == "append":
        before = {n: conn.execute(sa.select(sa.func.count()).select_from(sa_tables[n])).scalar_one() for n in job.order}
    staged: dict[str, list[pd.DataFrame]] = {}
    current: str | None = None
    stack = contextlib.ExitStack()
    task: progress.Task | None = None
    batch_no = 0
    with stack:
        for batch in _batches(data, job.order, job.batch_size):
            name, frame = batch.table, batch.frame
            if name not in metadata.tables:
                raise SchemaMismatchError("data holds a table the metadata does not describe", table=name)
            table = metadata.tables[name]
            if batch.is_update:
                # values for rows sent earlier, filled by the second pass: deferred foreign keys (cycles), and
                # non-key columns a rule derives once later tables are drawn (a parent's total of its children)
                fk_cols = [c for fk in job.deferred_cols.get(name, []) for c in fk.columns
                           if c not in table.primary_key]
                refs = {c for fk in table.foreign_keys for c in fk.columns}
                derived = [c for c in frame.columns
                           if c not in table.primary_key and c not in refs and table.has_column(c)]
                cols = [c for c in fk_cols if c in frame.columns] + derived
                if cols:
                    staged.setdefault(name, []).append(frame[table.primary_key + cols].copy())
                continue
            if name != current:
                stack.close()
                total = len(data[name]) if isinstance(data, Mapping) else None
                task = stack.enter_context(progress.task("write", name, total))
                current, batch_no = name, 0
                summary.tables.setdefault(name, TableWrite(name))
            batch_no += 1
            where.at("load", name, batch_no)
            t0 = time.perf_counter()
            cols = [c for c in table.columns if not c.computed]
            missing = [c.name for c in cols if c.name not in frame.columns]
            if missing:
                raise SchemaMismatchError(
                    f"the data has no column(s) {', '.join(missing)}", table=name, column=missing[0]
                )
            frame = _defer(frame, table, job.deferred_cols.get(name, []), staged)
            try:
                load_batch(conn, dialect, sa_tables[name], frame, cols, label=name)
            except ConversionError as exc:
                raise WriteError(f"{exc.what} in batch {batch_no}; {job.outcome}", table=name,
                                 column=exc.column) from None
            except (ValueError, TypeError, OverflowError) as exc:
                if is_driver_error(exc):
                    raise
                # a value the conversion for the driver refused; its text would quote the value
                raise WriteError(
                    f"a value could not be converted for the target ({type(exc).__name__}) in batch {batch_no}; "
                    f"{job.outcome}",
                    table=name,
                ) from None
            rec = summary.tables[name]
            rec.rows += len(frame)
            rec.batches += 1
            rec.seconds += time.perf_counter() - t0
            if task is not None:  # entered with the table's first batch
                task.advance(len(frame))
    for name, frames in staged.items():
        table = metadata.tables[name]
        where.at("cycle", name)
        faults.point("cycle", name)
        # one UPDATE pass per set of columns (a cycle's keys, an aggregate), in the order they came
        by_columns: dict[tuple[str, ...], list[pd.DataFrame]] = {}
        for f in frames:
            by_columns.setdefault(tuple(f.columns), []).append(f)
        for group in by_columns.values():
            keys = pd.concat(group, ignore_index=True)
            key_cols = [table.column(c) for c in table.primary_key]
            set_cols = [table.column(c) for c in keys.columns if c not in table.primary_key]
            for start in range(0, len(keys), job.batch_size):
                update_batch(conn, dialect, sa_tables[name], keys.iloc[start : start + job.batch_size],
                             key_cols, set_cols)
    if saved_fks:
        # ALTER TABLE refuses a table with pending trigger events (a DEFERRABLE INITIALLY DEFERRED constraint of
        # the target touched by the load): check the deferred constraints now; they must hold at commit anyway.
        where.at("deferred")
        conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
        where.at("constraints")
        faults.point("constraints")
    _restore_foreign_keys(conn, saved_fks, job)
    _after(conn, job, before)


def _defer(frame: pd.DataFrame, table: Table, fks: list, staged: dict[str, list[pd.DataFrame]]) -> pd.DataFrame:
    """Set aside the values of deferred foreign keys (written NULL now, filled by the second pass)."""
    if not fks:
        return frame
    if not table.primary_key:
        raise UnsupportedError(
            "a table with a self-reference or a cycle-breaking foreign key needs a primary key",
            table=table.name,
            constraint=fks[0].name,
        )
    # a NOT NULL key (a cycle of NOT NULL keys) arrives filled and is inserted as is: the load runs with its
    # check deferred (PostgreSQL: keys dropped and re-added; SQLite: defer_foreign_keys; MariaDB: checks off)
    fk_cols = [c for fk in fks if table.fk_is_nullable(fk) for c in fk.columns if c not in table.primary_key]
    if not fk_cols:
        return frame
    keep = frame[fk_cols].notna().any(axis=1)
    if keep.any():
        staged.setdefault(table.name, []).append(frame.loc[keep, table.primary_key + fk_cols].copy())
    frame = frame.copy()
    for c in fk_cols:
        frame[c] = None
    return frame


def _after(conn, job: Job, before: dict[str, int]) -> None:
    """Checks by SQL (row counts, foreign keys), then sequences and statistics (PostgreSQL)."""
    metadata, sa_tables, summary, where = job.metadata, job.sa_tables, job.summary, job.where
    # Row counts: the target must hold exactly what was written (plus what it held, in append mode).
    for name in job.order:
        where.at("checks", name)
        sat = sa_tables[name]
        written = summary.tables.get(name, TableWrite(name)).rows
        count = conn.execute(sa.select(sa.func.count()).select_from(sat)).scalar_one()
        expected = written + before.get(name, 0)
        if count != expected:
            raise WriteError(
                f"row count check failed: {count} rows in the target, {expected} expected; {job.outcome}", table=name
            )
    summary.checks.append("row counts")
    # Foreign keys, by SQL: no non-NULL reference without its parent row.
    for table, fk in metadata.relationships():
        if fk.ref_table not in metadata.tables:
            continue
        where.at("checks", table.name)
        child, parent = sa_tables[table.name], sa_tables[fk.ref_table]
        c, p = child.alias("c"), parent.alias("p")
        on = sa.and_(*[c.c[a] == p.c[b] for a, b in zip(fk.columns, fk.ref_columns)])
        notnull = sa.and_(*[c.c[a].isnot(None) for a in fk.columns])
        orphans = conn.execute(
            sa.select(sa.func.count()).select_from(c.outerjoin(p, on)).where(notnull, p.c[fk.ref_columns[0]].is_(None))
        ).scalar_one()
        if orphans:
            raise WriteError(
                f"{orphans} row(s) refer to missing parent rows; {job.outcome}", table=table.name, constraint=fk.name
            )
    summary.checks.append("foreign keys")
    # MariaDB (InnoDB) and SQLite's INTEGER PRIMARY KEY advance by themselves when explicit keys are inserted.
    caps = capabilities(job.dialect)
    if caps.sequences:
        where.at("sequences")
        faults.point("sequences")
        _reset_sequences(conn, job)
        summary.checks.append("sequences reset")
    if caps.analyze:
        where.at("analyze")
        faults.point("analyze")
        for name in job.order:
            where.at("analyze", name)
            conn.exec_driver_sql(f"ANALYZE {sql_name(conn, sa_tables[name])}")


def _reset_sequences(conn, job: Job) -> None:
    """Move each serial/identity sequence past the largest key, in a way that rolls back with the load.

    ``setval`` is not transactional: a load that rolls back (killed, failing at ANALYZE or at COMMIT) would
    leave the sequence moved. ``ALTER SEQUENCE ... RESTART WITH`` is (checked on PostgreSQL 15: rolled back with
    the transaction, even after a ``nextval`` in it), so the sequence and the rows commit or roll back together.
    ``append`` never moves a sequence backwards.
    """
    q = conn.dialect.identifier_preparer.quote
    for name in job.order:
        sat = job.sa_tables[name]
        for col in job.metadata.tables[name].columns:
            if not (col.autoincrement and col.type == st.INTEGER) or col.name not in sat.c:
                continue
            job.where.at("sequences", name)
            seq = conn.exec_driver_sql("SELECT pg_get_serial_sequence(%(t)s, %(c)s)",
                                       {"t": sql_name(conn, sat), "c": col.name}).scalar()
            if seq is None:
                continue
            top = conn.exec_driver_sql(f"SELECT MAX({q(col.name)}) FROM {sql_name(conn, sat)}").scalar()
            lo, hi = conn.exec_driver_sql(
                "SELECT seqmin, seqmax FROM pg_sequence WHERE seqrelid = CAST(%(s)s AS regclass)", {"s": seq}
            ).one()
            nxt = max(int(lo), (int(top) + 1) if top is not None else int(lo))
            if job.mode == "append":
                last, called = conn.exec_driver_sql(f"SELECT last_value, is_called FROM {seq}").one()
                nxt = max(nxt, int(last) + (1 if called else 0))
            # at the top of its range the sequence stays exhausted (its next nextval fails, as it would have)
            conn.exec_driver_sql(f"ALTER SEQUENCE {seq} RESTART WITH {min(nxt, int(hi))}")

