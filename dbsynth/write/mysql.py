"""MariaDB/MySQL loads that leave the target either as it was or fully loaded.

DDL commits implicitly in MariaDB, so a load cannot create, empty and fill tables in one transaction. Instead:

- ``create``, ``replace`` and ``truncate`` load into staging tables ``_dbsynth_new_<name>`` (created from the
  metadata, or ``CREATE TABLE ... LIKE`` the existing table in ``truncate`` mode, which keeps the target's own
  schema), check them by SQL, then swap them in with one ``RENAME TABLE x TO _dbsynth_old_x,
  _dbsynth_new_x TO x, ...`` statement, which MariaDB runs atomically. Until that statement other sessions see
  the old tables with all their rows (never an empty table); a failure or a killed run before it leaves every
  target table untouched. The old tables are dropped after the swap.
- ``append`` inserts into the existing tables in one InnoDB transaction: a failure, a SIGKILL or a killed
  session rolls the rows back (InnoDB does not hand back AUTO_INCREMENT values of rolled-back inserts: the
  counters may move forward, never behind the data). Swapping a copy in would lose rows other sessions
  insert meanwhile.

Foreign keys: InnoDB's follow a renamed table, so staging children refer to staging parents and end up
referring to the swapped-in tables. Constraint names are unique per database in InnoDB, and the old tables
hold the real names until they are dropped, so staging foreign keys get a temporary name
(``_dbsynth_fk_<hash>``) and are renamed back right after the old tables are dropped (``ALTER TABLE ... DROP
FOREIGN KEY tmp, ADD CONSTRAINT real ...`` with ``foreign_key_checks=0``: in place, no re-validation; the rows
were checked by SQL before the swap). Creating the keys on the staging tables, rather than adding them after the
swap, means the swapped-in tables are never without their constraints.

Same-dialect clones create the staging tables from the source's ``SHOW CREATE TABLE`` text (captured at reflect
time, see :mod:`dbsynth.reflect.ddl`) with the table name swapped for the staging name; its foreign-key clauses
were set aside at reflect time and are added here under their temporary names, pointing at the staging parents.
After the swap and the renames ``SHOW CREATE TABLE`` of the clone reads like the source's, except for foreign keys
into another database (``outside_foreign_keys``), which no clone creates: the rows sampled for them are not
drawn from that database's table, and with ``foreign_key_checks`` off (NOT NULL cycles) they would go in
unchecked.

A killed run may leave staging tables (``_dbsynth_new_*``, or ``_dbsynth_old_*`` when killed right after the
swap); the next run removes them first. Concurrent runs into one target are serialised by a named lock
(``GET_LOCK``), which also keeps one run from removing another's staging tables.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import sqlalchemy as sa

from .. import faults
from ..dialects import MYSQL
from ..errors import DbsynthError, SchemaMismatchError, WriteError
from ..metadata.records import ForeignKey, Metadata
from .core import Job, check_mode, is_driver_error, load
from .dberrors import is_connection_lost, is_lock_timeout
from .ddl import add_checks, build_schema, check_schema, native_usable
from .types import align_foreign_keys

__all__ = ["STAGE_NEW", "STAGE_OLD", "write_mysql"]

STAGE_NEW = "_dbsynth_new_"
STAGE_OLD = "_dbsynth_old_"
_FK_PREFIX = "_dbsynth_fk_"
_MAX_IDENT = 64


def _stage(prefix: str, name: str) -> str:
    """Staging name of a table, within MariaDB's 64-character limit (a hash of long names)."""
    full = prefix + name
    if len(full) <= _MAX_IDENT:
        return full
    return prefix + hashlib.sha1(name.encode()).hexdigest()[:24]


def _fk_stage(table: str, fk: str) -> str:
    return _FK_PREFIX + hashlib.sha1(f"{table}\0{fk}".encode()).hexdigest()[:20]


@dataclass
class _Fk:
    """A foreign key as the target's catalog holds it."""

    table: str
    name: str
    columns: list[str]
    ref_table: str
    ref_columns: list[str]
    on_delete: str
    on_update: str
    ref_schema: str | None = None
    """The parent's database when it is not the current one (a key into another database)."""


def _foreign_keys(conn: sa.Connection) -> list[_Fk]:
    """Every foreign key of the current database (information_schema)."""
    rows = conn.exec_driver_sql(
        "SELECT rc.TABLE_NAME, rc.CONSTRAINT_NAME, k.COLUMN_NAME, rc.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME,"
        " rc.DELETE_RULE, rc.UPDATE_RULE,"
        " CASE WHEN rc.UNIQUE_CONSTRAINT_SCHEMA <> rc.CONSTRAINT_SCHEMA THEN rc.UNIQUE_CONSTRAINT_SCHEMA END"
        " FROM information_schema.REFERENTIAL_CONSTRAINTS rc"
        " JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA"
        " AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME AND k.TABLE_NAME = rc.TABLE_NAME"
        " WHERE rc.CONSTRAINT_SCHEMA = DATABASE() ORDER BY rc.TABLE_NAME, rc.CONSTRAINT_NAME, k.ORDINAL_POSITION"
    ).all()
    out: dict[tuple[str, str], _Fk] = {}
    for table, name, col, ref_table, ref_col, on_delete, on_update, ref_schema in rows:
        fk = out.setdefault((table, name), _Fk(table, name, [], ref_table, [], on_delete, on_update, ref_schema))
        fk.columns.append(col)
        fk.ref_columns.append(ref_col)
    return list(out.values())


def _fk_sql(q, fk: _Fk, name: str, ref_table: str) -> str:
    rules = ""
    if fk.on_delete and fk.on_delete.upper() not in ("RESTRICT", "NO ACTION"):
        rules += f" ON DELETE {fk.on_delete}"
    if fk.on_update and fk.on_update.upper() not in ("RESTRICT", "NO ACTION"):
        rules += f" ON UPDATE {fk.on_update}"
    parent = f"{q(fk.ref_schema)}.{q(ref_table)}" if fk.ref_schema else q(ref_table)
    return (f"ADD CONSTRAINT {q(name)} FOREIGN KEY ({', '.join(q(c) for c in fk.columns)}) "
            f"REFERENCES {parent} ({', '.join(q(c) for c in fk.ref_columns)}){rules}")


def _tables(conn: sa.Connection) -> set[str]:
    return {r[0] for r in conn.exec_driver_sql("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'").all()}


def _drop(conn: sa.Connection, q, names: list[str]) -> None:
    if not names:
        return
    conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")
    try:
        conn.exec_driver_sql("DROP TABLE IF EXISTS " + ", ".join(q(n) for n in names))
    finally:
        conn.exec_driver_sql("SET SESSION foreign_key_checks = 1")


def _session(conn: sa.Connection, job: Job) -> None:
    secs = max(1, math.ceil(job.lock_timeout))
    # Waits for another session's row locks (InnoDB) and table/metadata locks (DDL, RENAME) end after this.
    conn.exec_driver_sql(f"SET SESSION lock_wait_timeout = {secs}, innodb_lock_wait_timeout = {secs}")
    # A key of 0 is a key to keep, not a request for the next AUTO_INCREMENT value.
    conn.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")


def _named_lock(conn: sa.Connection, job: Job) -> None:
    db = conn.exec_driver_sql("SELECT DATABASE()").scalar() or ""
    key = "dbsynth:" + (db if len(db) <= 50 else hashlib.sha1(db.encode()).hexdigest())
    got = conn.exec_driver_sql("SELECT GET_LOCK(%s, %s)", (key, max(1, math.ceil(job.lock_timeout)))).scalar()
    if got != 1:
        raise WriteError(
            f"lock timeout: another dbsynth run is writing into this target database; {job.outcome}",
            hint="Wait for it to finish, or raise the lock timeout (lock_timeout, in seconds).",
        )


def _leftovers(conn: sa.Connection, q) -> list[str]:
    return sorted(t for t in _tables(conn) if t.startswith((STAGE_NEW, STAGE_OLD)))


def _refuse_outside_references(conn: sa.Connection, job: Job, managed: set[str]) -> None:
    """Replace/truncate swap tables: a foreign key of a table outside the run would follow the old table."""
    for fk in _foreign_keys(conn):
        if fk.ref_table in managed and fk.table not in managed and not fk.table.startswith((STAGE_NEW, STAGE_OLD)):
            raise SchemaMismatchError(
                f"table '{fk.table}' is not written by this run but its foreign key refers to '{fk.ref_table}', "
                "which is replaced; the target was left unchanged",
                table=fk.table,
                constraint=fk.name,
                hint="Include that table in the run, or drop its foreign key first.",
            )
    if job.mode == "truncate":
        rows = conn.exec_driver_sql(
            "SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
        ).all()
        for table, trigger in rows:
            if table in managed:
                # CREATE TABLE ... LIKE copies no trigger: swapping in a copy would lose it
                raise SchemaMismatchError(
                    f"trigger '{trigger}' on a table truncate mode would swap out; the target was left unchanged",
                    table=table,
                    hint="Use mode='append' into emptied tables, or drop the trigger and recreate it after the run.",
                )


def write_mysql(eng: sa.Engine, job: Job) -> None:
    """Load ``job`` into a MariaDB/MySQL target (see the module docstring for what is atomic and how)."""
    where = job.where
    # AUTOCOMMIT: DDL commits anyway; the load opens its own transaction with START TRANSACTION.
    conn = eng.connect().execution_options(isolation_level="AUTOCOMMIT")
    q = conn.dialect.identifier_preparer.quote
    state: dict = {"staged": False, "swapped": False}
    try:
        try:
            _session(conn, job)
            where.at("ddl")
            faults.point("ddl")
            _named_lock(conn, job)
            _drop(conn, q, _leftovers(conn, q))  # a killed run's staging tables (we hold the named lock)
            existing = _tables(conn)
            check_mode(job, existing)
            if job.mode in ("truncate", "append"):
                check_schema(conn, job.metadata, job.sa_tables)
            if job.mode == "append":
                job.outcome = ("the target was left unchanged (the transaction was rolled back; AUTO_INCREMENT "
                               "counters may have moved forward, as after any rolled-back insert)")
                conn.exec_driver_sql("START TRANSACTION")
                load(conn, job)
                where.at("commit")
                faults.point("commit")
                conn.exec_driver_sql("COMMIT")
                return
            _write_staged(conn, job, existing, state)
        except BaseException as exc:
            lost = isinstance(exc, Exception) and is_driver_error(exc) and is_connection_lost(exc)
            if not isinstance(exc, Exception) or lost:
                # A KeyboardInterrupt mid-statement or a lost session: closing it makes the server roll back its
                # transaction; the clean-up runs on a new connection.
                conn.invalidate()
            else:
                # the failed transaction's locks on the staging tables would make the clean-up's DROP wait
                try:
                    conn.exec_driver_sql("ROLLBACK")
                except sa.exc.DBAPIError:
                    conn.invalidate()
            if isinstance(exc, Exception) and is_lock_timeout(exc) and where.phase == "swap":
                where.table = _blocked_table(eng, job, state.get("targets") or {}) or where.table
            cleaned = _clean_up(eng, job, state)
            if isinstance(exc, DbsynthError) or not isinstance(exc, Exception) or not is_driver_error(exc):
                raise
            if cleaned is not None:
                job.outcome = cleaned
            raise job.error(exc) from None
    finally:
        conn.close()


def _write_staged(conn: sa.Connection, job: Job, existing: set[str], state: dict) -> None:
    where, q, mode = job.where, conn.dialect.identifier_preparer.quote, job.mode
    targets = {n: job.sa_tables[n].name for n in job.order}
    managed = set(targets.values())
    if mode in ("replace", "truncate"):
        _refuse_outside_references(conn, job, managed)
    new = {n: _stage(STAGE_NEW, t) for n, t in targets.items()}
    old = {n: _stage(STAGE_OLD, t) for n, t in targets.items()}
    # Unnamed keys stay unnamed: InnoDB names them <table>_ibfk_<n> and renames them with their table.
    fk_names = {(t.name, fk.name): _fk_stage(t.name, fk.name) for t in job.metadata
                for fk in t.foreign_keys if fk.name}
    # staging name -> the name the constraint has (or gets) in the target
    real = {stage: str(f)[:_MAX_IDENT] for (_t, f), stage in fk_names.items()}
    # No warnings list: a CHECK that cannot be written in MariaDB's SQL stays on its staging table
    # (sat.info) and is said in the run's warnings when create_staged creates that table (add_checks);
    # write()'s own build under the real names is never created, so it says nothing.
    _, staged = build_schema(job.metadata, MYSQL.name, job.deferred, names=new, fk_names=fk_names)
    align_foreign_keys(job.metadata, staged, MYSQL.name)  # as write() did for the tables under their real names
    job.outcome = "the target was left unchanged (the rows went into staging tables, which were dropped)"
    state["staged"] = True
    state["new"], state["old"], state["targets"] = list(new.values()), list(old.values()), targets
    where.at("ddl")
    if mode == "truncate":
        # the target's own schema, not the metadata's: truncate keeps it (columns, indexes, CHECKs, options)
        fks = [fk for fk in _foreign_keys(conn) if fk.table in managed]
        by_target = {t: n for n, t in targets.items()}
        real = {_fk_stage(fk.table, fk.name): fk.name for fk in fks}
        for n in job.order:
            where.at("ddl", n)
            conn.exec_driver_sql(f"CREATE TABLE {q(new[n])} LIKE {q(targets[n])}")
        for fk in fks:
            where.at("ddl", by_target[fk.table])
            ref = new[by_target[fk.ref_table]] if fk.ref_table in by_target else fk.ref_table
            conn.exec_driver_sql(
                f"ALTER TABLE {q(new[by_target[fk.table]])} {_fk_sql(q, fk, _fk_stage(fk.table, fk.name), ref)}"
            )
    else:
        create_staged(conn, job.metadata, job.order, staged, fk_names)
    job.sa_tables = staged
    conn.exec_driver_sql("START TRANSACTION")
    load(conn, job)
    conn.exec_driver_sql("COMMIT")
    where.at("commit")
    faults.point("commit")
    # The swap: one statement, atomic in MariaDB. Existing tables step aside, staging tables take their names.
    where.at("swap")
    faults.point("swap")
    pairs = []
    for n in job.order:
        if targets[n] in existing:
            pairs.append(f"{q(targets[n])} TO {q(old[n])}")
        pairs.append(f"{q(new[n])} TO {q(targets[n])}")
    state["swap_sent"] = True
    conn.exec_driver_sql("RENAME TABLE " + ", ".join(pairs))
    state["swapped"] = True
    job.outcome = ("the new rows were written (the tables were swapped in), but the old tables remain as "
                   f"{STAGE_OLD}* (the next run drops them)")
    where.at("swap")
    _drop(conn, q, [old[n] for n in job.order if targets[n] in existing])
    job.outcome = ("the new rows were written (the tables were swapped in), but some foreign keys keep a "
                   f"temporary name {_FK_PREFIX}*; run again to restore the names")
    _rename_foreign_keys(conn, q, managed, real)


_CREATE_HEAD = re.compile(r"^\s*CREATE\s+TABLE\s+(?:`(?:[^`]|``)+`\.)?`(?:[^`]|``)+`", re.IGNORECASE)
_REFERENCES = re.compile(r"REFERENCES\s+(?:`(?:[^`]|``)+`\.)?`(?:[^`]|``)+`", re.IGNORECASE)


def create_staged(conn: sa.Connection, metadata: Metadata, order: list[str], staged: dict[str, sa.Table],
                  fk_names: dict[tuple[str, str], str]) -> None:
    """Create the staging tables: the source's ``SHOW CREATE TABLE`` (same dialect, where it still matches
    the metadata) under the staging name, the others from the records; then the foreign keys of the former
    under their temporary names, referring to the staging parents."""
    q = conn.dialect.identifier_preparer.quote
    native = [n for n in order if native_usable(metadata, metadata.tables[n], staged[n], MYSQL.name, None)]
    for n in native:
        native_ddl = metadata.tables[n].native_ddl
        assert native_ddl is not None  # native_usable checked it
        body = native_ddl.statements[0]
        conn.exec_driver_sql(_CREATE_HEAD.sub(f"CREATE TABLE {q(staged[n].name)}", body, count=1).replace("%", "%%"))
    rest = [staged[n] for n in order if n not in native]
    if rest:
        rest[0].metadata.create_all(conn, tables=rest, checkfirst=False)
        add_checks(conn, rest, MYSQL.name)
    for n in native:
        for fk in metadata.tables[n].foreign_keys:
            if fk.ref_table not in staged:
                continue
            name = fk_names.get((n, fk.name or ""), fk.name)
            parent = q(staged[fk.ref_table].name)
            if fk.definition and _REFERENCES.search(fk.definition):
                clause = _REFERENCES.sub(f"REFERENCES {parent}".replace("\\", "\\\\"), fk.definition, count=1)
            else:
                clause = _fk_clause(q, fk, parent)
            head = f"ADD CONSTRAINT {q(name)} " if name else "ADD "
            conn.exec_driver_sql(f"ALTER TABLE {q(staged[n].name)} {head}{clause}".replace("%", "%%"))


def _fk_clause(q, fk: ForeignKey, parent: str) -> str:
    rule = f" ON DELETE {fk.on_delete}" if fk.on_delete and fk.on_delete.upper() not in ("RESTRICT", "NO ACTION") \
        else ""
    return (f"FOREIGN KEY ({', '.join(q(c) for c in fk.columns)}) REFERENCES {parent} "
            f"({', '.join(q(c) for c in fk.ref_columns)}){rule}")


def _rename_foreign_keys(conn: sa.Connection, q, managed: set[str], real: dict[str, str]) -> None:
    """Give the swapped-in tables' foreign keys back their real names (the old tables that held them are gone)."""
    fks = [fk for fk in _foreign_keys(conn) if fk.table in managed and fk.name in real]
    if not fks:
        return
    conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")
    try:
        for fk in fks:
            conn.exec_driver_sql(
                f"ALTER TABLE {q(fk.table)} DROP FOREIGN KEY {q(fk.name)}, "
                f"{_fk_sql(q, fk, real[fk.name], fk.ref_table)}"
            )
    finally:
        conn.exec_driver_sql("SET SESSION foreign_key_checks = 1")


def _blocked_table(eng: sa.Engine, job: Job, targets: dict[str, str]) -> str | None:
    """After a lock timeout on the swap: the first table another session holds a lock on (probed, 1 s each)."""
    try:
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as probe:
            probe.exec_driver_sql("SET SESSION lock_wait_timeout = 1")
            q = probe.dialect.identifier_preparer.quote
            for n, t in targets.items():
                try:
                    probe.exec_driver_sql(f"LOCK TABLES {q(t)} WRITE")
                    probe.exec_driver_sql("UNLOCK TABLES")
                except sa.exc.DBAPIError:
                    return n
    except Exception:
        return None
    return None


def _clean_up(eng: sa.Engine, job: Job, state: dict) -> str | None:
    """After a failure: drop staging tables (before the swap) or old tables (after it), on a new connection.

    Returns:
        What happened to the target, when it differs from what the load expected (``None``: as expected).
    """
    if not state.get("staged"):
        return None
    try:
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"SET SESSION lock_wait_timeout = {max(1, math.ceil(job.lock_timeout))}")
            q = conn.dialect.identifier_preparer.quote
            present = _tables(conn)
            new = [t for t in state["new"] if t in present]
            if not state.get("swap_sent") or (new and not state["swapped"]):
                # staging tables still there after a lost RENAME means the swap did not happen
                _drop(conn, q, new)
                return "the target was left unchanged (the rows went into staging tables, which were dropped)"
            if not new:
                _drop(conn, q, [t for t in state["old"] if t in present])
                return "the new rows were written (the tables were swapped in)" if not state["swapped"] else None
            return None
    except Exception:
        if state["swapped"]:
            return None
        return (f"the target's tables were left unchanged; staging tables {STAGE_NEW}* may remain (the next run "
                "removes them)")
