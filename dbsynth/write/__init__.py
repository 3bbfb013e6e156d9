"""Write synthetic (or any) rows into a target database: clone the schema, bulk-load, check, summarise.

Entry point: :func:`write`. What is atomic:

- PostgreSQL and SQLite: everything (DDL, rows, second pass of deferred foreign keys, sequence resets, checks)
  runs in one transaction; any failure rolls back and the target is exactly as before.
- MariaDB/MySQL: DDL commits implicitly, so ``create``/``replace`` change the schema first. The rows, the
  second pass and the checks run in one transaction and roll back together. After a failed load, ``create``
  drops the tables it created (the target is as before); ``replace`` leaves the new, empty tables (the old
  rows are gone); ``truncate``/``append`` leave the target as it was.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
from types import ModuleType
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

import pandas as pd
import sqlalchemy as sa

from .. import progress
from ..errors import DbsynthError, SchemaMismatchError, UnsafeTargetError, UnsupportedError, WriteError, mask_url
from ..metadata import sdtypes as st
from ..metadata.records import Metadata, Table
from .ddl import build_schema, check_schema, dialect_name, drop_tables
from .loaders import load_batch, update_batch
from .safety import refuse_source

__all__ = ["write", "WriteSummary", "TableWrite", "MODES", "UPDATE_FLAG"]

MODES = ("create", "replace", "truncate", "append")

#: ``frame.attrs`` flag of a batch that only carries deferred foreign-key values (with the primary key) of
#: rows sent in earlier batches; the writer sets them in its second pass instead of inserting rows.
UPDATE_FLAG = "dbsynth_update"


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

    @property
    def total_rows(self) -> int:
        """Rows written over all tables."""
        return sum(t.rows for t in self.tables.values())

    @property
    def rows_per_second(self) -> float:
        """End-to-end throughput."""
        return self.total_rows / self.seconds if self.seconds > 0 else 0.0


Data = Mapping[str, pd.DataFrame] | Iterable[tuple[str, pd.DataFrame]]


def _batches(data: Data, order: list[str], batch_size: int) -> Iterator[tuple[str, pd.DataFrame]]:
    if isinstance(data, Mapping):
        for name in order:
            if name not in data:
                continue
            frame = data[name]
            for start in range(0, max(len(frame), 1), batch_size):
                yield name, frame.iloc[start : start + batch_size]
    else:
        yield from data


def _engine(url: str | sa.URL) -> sa.Engine:
    try:
        from ..db import make_url

        parsed = make_url(url)
    except ImportError:
        parsed = sa.make_url(url)
    eng = sa.create_engine(parsed)
    if eng.dialect.name == "sqlite":
        # pysqlite's own transaction handling runs DDL outside transactions; take over so DDL is atomic
        # too, and enforce foreign keys so a broken reference fails the load.
        @sa.event.listens_for(eng, "connect")
        def _connect(dbapi_conn, _rec):  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None
            dbapi_conn.execute("PRAGMA foreign_keys=ON")

        @sa.event.listens_for(eng, "begin")
        def _begin(conn):  # pragma: no cover - trivial
            conn.exec_driver_sql("BEGIN")
            # Foreign keys checked at commit: emptying tables of a cycle (truncate/replace) needs it; the
            # SQL integrity check of _after still names the key at fault before the commit.
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")

    return eng


_MYSQL_KEY = re.compile(r"for key '([^']+)'")
_MYSQL_CONSTRAINT = re.compile(r"CONSTRAINT `([^`]+)`")


def _db_error(exc: Exception, table: str | None, batch: int | None, dialect: str) -> WriteError:
    """A WriteError naming table, constraint and batch, without the row values drivers like to quote."""
    orig = getattr(exc, "orig", exc)
    constraint = None
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg
        constraint = diag.constraint_name
        table = diag.table_name or table
        what = diag.message_primary or type(orig).__name__
    elif dialect == "mysql" and getattr(orig, "args", None):
        code, text = orig.args[0], str(orig.args[-1])
        m = _MYSQL_CONSTRAINT.search(text) or _MYSQL_KEY.search(text)
        constraint = m.group(1) if m else None
        what = {1062: "duplicate key value", 1452: "foreign key violation", 1451: "foreign key violation",
                4025: "CHECK constraint violated", 1048: "NULL in a NOT NULL column"}.get(code, f"MariaDB error {code}")
    else:
        what = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    where = f" in batch {batch}" if batch is not None else ""
    return WriteError(f"{mask_url(what)}{where}; the target was rolled back", table=table, constraint=constraint)


def write(
    data: Data,
    url: str | sa.URL,
    metadata: Metadata,
    mode: str = "create",
    batch_size: int = 50_000,
    source_url: str | sa.URL | None = None,
    allow_nonempty: bool = False,
) -> WriteSummary:
    """Create (or reuse) the target schema and bulk-load ``data`` into it, atomically where the dialect allows.

    Args:
        data: ``{table: DataFrame}`` following the frame contract, or an iterator of ``(table, DataFrame)``
            batches, every batch of a parent before any batch of its children. A batch flagged
            ``frame.attrs[UPDATE_FLAG]`` carries primary keys and deferred foreign-key values of rows sent
            before (cycles whose parent came later); they are set after every row is loaded.
        url: target database URL.
        metadata: the tables (types, keys, constraints) to create and load.
        mode: ``create`` (fail if a table exists), ``replace`` (drop and recreate the managed tables),
            ``truncate`` (keep the target schema, empty the managed tables) or ``append``.
        batch_size: rows per batch when ``data`` is a dict.
        source_url: the source database; writing into it is refused.
        allow_nonempty: allow ``create`` into a database that already holds other tables.

    Returns:
        A :class:`WriteSummary`: rows, seconds and rows/s per table, checks done.

    Raises:
        UnsafeTargetError: the target is the source, or a table exists / the target is not empty in create mode.
        SchemaMismatchError: in truncate/append, the target schema differs from the metadata (all differences).
        WriteError: the load failed (table, constraint, batch named); the target was rolled back.
    """
    if mode not in MODES:
        raise UnsupportedError(f"unknown write mode '{mode}' (use one of: {', '.join(MODES)})")
    if batch_size < 1:
        raise UnsupportedError("batch_size must be at least 1")
    refuse_source(url, source_url, metadata)
    started = time.perf_counter()
    graph = metadata.graph()
    order = graph.parent_first()
    deferred = {(d.edge.child, d.edge.fk.name) for d in graph.deferred}
    deferred_cols: dict[str, list] = {}
    for d in graph.deferred:
        deferred_cols.setdefault(d.edge.child, []).append(d.edge.fk)
    eng = _engine(url)
    dialect = dialect_name(eng)
    _, sa_tables = build_schema(metadata, dialect, deferred)
    ordered = [sa_tables[n] for n in order]
    summary = WriteSummary(url=mask_url(url), mode=mode)
    try:
        if dialect == "mysql":
            # DDL commits implicitly on MariaDB: do it first, then load in one transaction.
            with eng.begin() as conn:
                _prepare(conn, metadata, sa_tables, ordered, dialect, mode, allow_nonempty)
            try:
                with eng.begin() as conn:
                    # A key of 0 is a key to keep, not a request for the next AUTO_INCREMENT value.
                    conn.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
                    _load(conn, data, metadata, sa_tables, order, dialect, batch_size, deferred_cols, summary, mode)
            except Exception:
                if mode == "create":
                    # The rows rolled back; drop the tables this call created so the target is as before.
                    with eng.begin() as conn:
                        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
                        drop_tables(conn, ordered, dialect)
                        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
                raise
        else:
            with eng.begin() as conn:
                if dialect == "postgresql":
                    # Timestamps travel as naive UTC text (see convert.pg_column).
                    conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
                _prepare(conn, metadata, sa_tables, ordered, dialect, mode, allow_nonempty)
                _load(conn, data, metadata, sa_tables, order, dialect, batch_size, deferred_cols, summary, mode)
    finally:
        eng.dispose()
    summary.seconds = time.perf_counter() - started
    return summary


def _prepare(conn, metadata, sa_tables, ordered, dialect, mode, allow_nonempty) -> None:
    existing = set(sa.inspect(conn).get_table_names())
    managed = {t.name for t in ordered}
    try:
        if mode == "create":
            clash = sorted(managed & existing)
            if clash:
                raise UnsafeTargetError(
                    f"table(s) {', '.join(clash)} already exist in the target",
                    table=clash[0],
                    hint="Use mode='replace' to recreate them, or 'truncate'/'append' to keep them.",
                )
            if existing and not allow_nonempty:
                raise UnsafeTargetError(
                    f"the target already holds {len(existing)} other table(s)",
                    hint="Pass allow_nonempty=True to create the tables beside them.",
                )
            ordered[0].metadata.create_all(conn, tables=ordered, checkfirst=False)
        elif mode == "replace":
            drop_tables(conn, ordered, dialect)
            ordered[0].metadata.create_all(conn, tables=ordered, checkfirst=False)
        else:
            check_schema(conn, metadata, sa_tables)
            if mode == "truncate":
                q = conn.dialect.identifier_preparer.quote
                if dialect == "postgresql":
                    conn.exec_driver_sql("TRUNCATE " + ", ".join(q(t.name) for t in ordered))
                else:
                    # DELETE, not TRUNCATE: MariaDB's TRUNCATE commits and refuses referenced tables.
                    if dialect == "mysql":
                        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
                    for t in reversed(ordered):
                        conn.exec_driver_sql(f"DELETE FROM {q(t.name)}")
                    if dialect == "mysql":
                        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
    except DbsynthError:
        raise
    except sa.exc.DBAPIError as exc:
        raise _db_error(exc, None, None, dialect) from None


def _drop_foreign_keys(conn, sa_tables: dict[str, sa.Table]) -> list[tuple[str, str, str]]:
    """Drop the target's foreign keys between loaded tables, returning (table, name, definition) to restore.

    PostgreSQL checks a foreign key row by row during COPY (a trigger per row and key); adding the constraint
    after the load checks every row at once with one join, which is what pg_dump does too. It all happens in
    the load's transaction, so no other session ever sees the tables without their keys.
    """
    names = [t.name for t in sa_tables.values()]
    rows = conn.execute(
        sa.text(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.contype = 'f' AND c.conrelid = ANY(CAST(:tables AS regclass[])) ORDER BY c.conname"
        ),
        {"tables": [conn.dialect.identifier_preparer.quote(n) for n in names]},
    ).all()
    q = conn.dialect.identifier_preparer.quote
    for table, name, _ in rows:
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {q(name)}")
    return [tuple(r) for r in rows]


def _restore_foreign_keys(conn, saved: list[tuple[str, str, str]], dialect: str) -> None:
    q = conn.dialect.identifier_preparer.quote
    for table, name, definition in saved:
        try:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {q(name)} {definition}")
        except sa.exc.DBAPIError as exc:
            raise _db_error(exc, table, None, dialect) from None


def _load(conn, data, metadata, sa_tables, order, dialect, batch_size, deferred_cols, summary, mode) -> None:
    saved_fks = _drop_foreign_keys(conn, sa_tables) if dialect == "postgresql" else []
    before = {}
    if mode == "append":
        before = {n: conn.execute(sa.select(sa.func.count()).select_from(sa_tables[n])).scalar_one() for n in order}
    staged: dict[str, list[pd.DataFrame]] = {}
    current: str | None = None
    stack = contextlib.ExitStack()
    task = None
    batch_no = 0
    try:
        with stack:
            for name, frame in _batches(data, order, batch_size):
                if name not in metadata.tables:
                    raise SchemaMismatchError("data holds a table the metadata does not describe", table=name)
                table = metadata.tables[name]
                if frame.attrs.get(UPDATE_FLAG):
                    # values of deferred foreign keys for rows sent earlier: filled by the second pass
                    fk_cols = [c for fk in deferred_cols.get(name, []) for c in fk.columns if c not in table.primary_key]
                    cols = [c for c in fk_cols if c in frame.columns]
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
                t0 = time.perf_counter()
                cols = [c for c in table.columns if not c.computed]
                missing = [c.name for c in cols if c.name not in frame.columns]
                if missing:
                    raise SchemaMismatchError(
                        f"the data has no column(s) {', '.join(missing)}", table=name, column=missing[0]
                    )
                frame = _defer(frame, table, deferred_cols.get(name, []), staged)
                try:
                    load_batch(conn, dialect, sa_tables[name].name, frame, cols)
                except sa.exc.DBAPIError as exc:
                    raise _db_error(exc, name, batch_no, dialect) from None
                except Exception as exc:
                    if getattr(exc, "diag", None) is not None:  # psycopg error raised outside SQLAlchemy
                        raise _db_error(exc, name, batch_no, dialect) from None
                    raise
                rec = summary.tables[name]
                rec.rows += len(frame)
                rec.batches += 1
                rec.seconds += time.perf_counter() - t0
                task.advance(len(frame))
        for name, frames in staged.items():
            table = metadata.tables[name]
            keys = pd.concat(frames, ignore_index=True)
            key_cols = [table.column(c) for c in table.primary_key]
            set_cols = [table.column(c) for c in keys.columns if c not in table.primary_key]
            for start in range(0, len(keys), batch_size):
                try:
                    update_batch(conn, dialect, sa_tables[name].name, keys.iloc[start : start + batch_size],
                                 key_cols, set_cols)
                except sa.exc.DBAPIError as exc:
                    raise _db_error(exc, name, None, dialect) from None
        _restore_foreign_keys(conn, saved_fks, dialect)
        _after(conn, metadata, sa_tables, order, dialect, summary, before, mode)
    except DbsynthError:
        raise
    except sa.exc.DBAPIError as exc:
        raise _db_error(exc, current, batch_no, dialect) from None


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
    fk_cols = [c for fk in fks for c in fk.columns if c not in table.primary_key]
    keep = frame[fk_cols].notna().any(axis=1)
    if keep.any():
        staged.setdefault(table.name, []).append(frame.loc[keep, table.primary_key + fk_cols].copy())
    frame = frame.copy()
    for c in fk_cols:
        frame[c] = None
    return frame


def _after(conn, metadata, sa_tables, order, dialect, summary, before, mode) -> None:
    q = conn.dialect.identifier_preparer.quote
    # Row counts: the target must hold exactly what was written (plus what it held, in append mode).
    for name in order:
        sat = sa_tables[name]
        written = summary.tables.get(name, TableWrite(name)).rows
        count = conn.execute(sa.select(sa.func.count()).select_from(sat)).scalar_one()
        expected = written + before.get(name, 0)
        if count != expected:
            raise WriteError(f"row count check failed: {count} rows in the target, {expected} expected", table=name)
    summary.checks.append("row counts")
    # Foreign keys, by SQL: no non-NULL reference without its parent row.
    for table, fk in metadata.relationships():
        if fk.ref_table not in metadata.tables:
            continue
        child, parent = sa_tables[table.name], sa_tables[fk.ref_table]
        c, p = child.alias("c"), parent.alias("p")
        on = sa.and_(*[c.c[a] == p.c[b] for a, b in zip(fk.columns, fk.ref_columns)])
        notnull = sa.and_(*[c.c[a].isnot(None) for a in fk.columns])
        orphans = conn.execute(
            sa.select(sa.func.count()).select_from(c.outerjoin(p, on)).where(notnull, p.c[fk.ref_columns[0]].is_(None))
        ).scalar_one()
        if orphans:
            raise WriteError(f"{orphans} row(s) refer to missing parent rows", table=table.name, constraint=fk.name)
    summary.checks.append("foreign keys")
    # Sequences past the largest key. MariaDB (InnoDB) and SQLite's INTEGER PRIMARY KEY advance by themselves
    # when explicit keys are inserted.
    if dialect == "postgresql":
        for name in order:
            for col in metadata.tables[name].columns:
                if col.autoincrement and col.type == st.INTEGER:
                    t = sa_tables[name].name
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence(%(t)s, %(c)s), COALESCE(MAX({q(col.name)}), 0) + 1, false) "
                        f"FROM {q(t)}",
                        {"t": q(t), "c": col.name},
                    )
        summary.checks.append("sequences reset")
        for name in order:
            conn.exec_driver_sql(f"ANALYZE {q(sa_tables[name].name)}")


class _CallableModule(ModuleType):
    """Makes ``dbsynth.write(...)`` work even once ``dbsynth.write`` is bound to this package (which Python
    does as soon as any submodule, e.g. ``dbsynth.write.ddl``, is imported)."""

    def __call__(self, *args, **kwargs) -> WriteSummary:
        return write(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
