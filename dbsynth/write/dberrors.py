"""Driver errors of a load turned into one-line :class:`WriteError` messages that carry no row values.

Drivers quote values in their messages (psycopg's ``invalid input syntax for type integer: "alice@..."``,
MariaDB's ``Duplicate entry 'x' for key``, SQLite's ``UNIQUE constraint failed``): a failed load against
production-shaped data must not print them. The message is built from what identifies the fault without a
value: the error class (PostgreSQL SQLSTATE, MariaDB error code, SQLite's message family) mapped to a generic
description, the table, the column (psycopg's ``diag.column_name``, or the column named in COPY's context line,
matched against the table's own column names so the value after it is never kept), the constraint and the
batch. The driver's own text is appended only when :func:`dbsynth.errors.show_values` is on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..dialects import DriverErrors, capabilities
from ..errors import WriteError, mask_url, show_values

__all__ = ["Where", "describe", "is_connection_lost", "is_lock_timeout"]


@dataclass
class Where:
    """Where a load is: what the error message names, kept up to date as the load goes."""

    phase: str = "ddl"
    """``ddl``, ``load``, ``cycle``, ``constraints``, ``checks``, ``sequences``, ``analyze``, ``commit``, ``swap``."""
    table: str | None = None
    """Metadata name of the table being worked on."""
    batch: int | None = None
    """1-based batch number within ``table`` (load phase only)."""

    def at(self, phase: str, table: str | None = None, batch: int | None = None) -> Where:
        """Move to ``phase`` (on ``table``, ``batch``) and return self."""
        self.phase, self.table, self.batch = phase, table, batch
        return self

    def text(self) -> str:
        """``while loading batch 2``, ``while restoring foreign keys``, ``at commit``..."""
        if self.phase == "load":
            return f"while loading batch {self.batch}" if self.batch else "while loading"
        return {
            "ddl": "while preparing the tables",
            "cycle": "while filling deferred foreign keys (cycles)",
            "constraints": "while restoring foreign keys",
            "deferred": "while checking the target's deferred constraints",
            "checks": "while checking the loaded rows",
            "sequences": "while resetting sequences",
            "analyze": "while analyzing",
            "commit": "at commit",
            "swap": "while swapping the loaded tables in",
        }.get(self.phase, f"during {self.phase}")


# PostgreSQL SQLSTATE (exact, then by class) -> what happened, without the value.
_PG_STATE = {
    "23505": "duplicate key value violates a unique constraint",
    "23503": "foreign key violation (a reference to a missing parent row)",
    "23502": "NULL in a NOT NULL column",
    "23514": "CHECK constraint violated",
    "23P01": "exclusion constraint violated",
    "22P02": "a value is not valid input for the column's type",
    "22001": "a value is too long for the column's type",
    "22003": "a numeric value is out of range for the column's type",
    "22007": "a date/time value has an invalid format",
    "22008": "a date/time value is out of range",
    "22021": "a text value holds a byte sequence the target's encoding refuses",
    "22P04": "a row of the bulk load (COPY) is malformed",
    "22P05": "a text value holds a character the target's encoding cannot store",
    "2200N": "an XML value is malformed",
    "22030": "a JSON value is duplicated or malformed",
    "22032": "a JSON value is malformed",
    "40P01": "deadlock with another session",
    "40001": "serialization failure caused by another session",
    "55P03": "lock timeout",
    "57014": "the statement was cancelled (statement_timeout or a cancel request)",
    "53100": "the target server is out of disk space",
    "53200": "the target server is out of memory",
    "54000": "a value or row exceeds a limit of the target (for example an index row too large)",
    "42P01": "a table is missing in the target",
    "42703": "a column is missing in the target",
    "42501": "permission denied on the target",
}
_PG_CLASS = {
    "22": "a value is not valid for the column's type",
    "23": "an integrity constraint is violated",
    "08": "the connection to the target failed",
    "53": "the target server ran out of resources",
    "57": "the target server stopped the session",
    "42": "the target refused a statement (schema or permissions)",
}
# MariaDB/MySQL error codes.
_MY_CODE = {
    1062: "duplicate key value violates a unique constraint",
    1586: "duplicate key value violates a unique constraint",
    1452: "foreign key violation (a reference to a missing parent row)",
    1451: "foreign key violation (a parent row is still referenced)",
    1216: "foreign key violation (a reference to a missing parent row)",
    1217: "foreign key violation (a parent row is still referenced)",
    4025: "CHECK constraint violated",
    3819: "CHECK constraint violated",
    1048: "NULL in a NOT NULL column",
    1364: "NULL in a NOT NULL column (no value and no default)",
    1264: "a numeric value is out of range for the column's type",
    1406: "a value is too long for the column's type",
    1366: "a value is not valid input for the column's type",
    1292: "a date/time or number value is not valid for the column's type",
    1265: "a value is not valid for the column's type (it would be truncated)",
    1153: "a row is larger than the server's max_allowed_packet",
    1205: "lock timeout",
    1213: "deadlock with another session",
    1114: "the target table is full (out of disk space)",
    1146: "a table is missing in the target",
    1054: "a column is missing in the target",
    1142: "permission denied on the target",
    1044: "permission denied on the target",
    1050: "a table already exists in the target",
    1005: "a table could not be created",
}
# pymysql / server codes of a session that is gone
_MY_LOST = {2006, 2013, 2014, 2055, 1927, 1053, 4031}
# "Column 'x' cannot be null", "Data truncated for column 'x' at row 1", "... for column `db`.`t`.`x` at row 1"
_MY_COLUMN = re.compile(r"[Cc]olumn (?:`[^`]*`\.)*`([^`]+)`|[Cc]olumn '([^']+)'")
_MY_KEY = re.compile(r"for key '([^']+)'")
# "Can't create table `db`.`t` (errno: 150 ...)"
_MY_CREATE = re.compile(r"table (?:`[^`]*`\.)?`([^`]+)`")


def _unstaged(name: str) -> str:
    """A MariaDB staging table's name as the user knows it (``_dbsynth_new_item`` -> ``item``)."""
    for prefix in ("_dbsynth_new_", "_dbsynth_old_"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name
_MY_CONSTRAINT = re.compile(r"CONSTRAINT `([^`]+)`")
_MY_CHECK = re.compile(r"CONSTRAINT `([^`]+)` failed")
# SQLite's messages: the family of the error, and the constraint part that holds names only
_LITE = [
    ("UNIQUE constraint failed", "duplicate key value violates a unique constraint"),
    ("FOREIGN KEY constraint failed", "foreign key violation (a reference to a missing parent row)"),
    ("NOT NULL constraint failed", "NULL in a NOT NULL column"),
    ("CHECK constraint failed", "CHECK constraint violated"),
    ("database is locked", "lock timeout"),
    ("datatype mismatch", "a value is not valid for the column's type"),
    ("string or blob too big", "a value is larger than SQLite's limit"),
    ("too many SQL variables", "a batch has too many values for one statement"),
    ("disk I/O error", "disk I/O error on the target file"),
    ("database or disk is full", "the target's disk is full"),
    ("readonly database", "the target file is read-only"),
]
_LITE_COLUMNS = re.compile(r"constraint failed: ([\w.\"` ,]+)$")


def _orig(exc: BaseException) -> BaseException:
    return getattr(exc, "orig", None) or exc


def _pg_state(orig: BaseException) -> str | None:
    diag = getattr(orig, "diag", None)
    return getattr(orig, "sqlstate", None) or (getattr(diag, "sqlstate", None) if diag is not None else None)


def is_connection_lost(exc: BaseException) -> bool:
    """The session to the target is gone (backend terminated, server restarted, network cut)."""
    if getattr(exc, "connection_invalidated", False):
        return True
    orig = _orig(exc)
    state = _pg_state(orig)
    if state and (state.startswith("08") or state in ("57P01", "57P02", "57P03")):
        return True
    mod = type(orig).__module__ or ""
    if mod.startswith("psycopg"):
        closed = getattr(getattr(orig, "pgconn", None), "status", None)
        text = str(orig).lower()
        return type(orig).__name__ == "OperationalError" and (
            state is None or "connection" in text or "terminat" in text or closed is not None and closed != 0
        )
    if mod.startswith("pymysql") and getattr(orig, "args", None):
        return orig.args[0] in _MY_LOST if isinstance(orig.args[0], int) else False
    return isinstance(orig, (ConnectionError, BrokenPipeError))


def is_lock_timeout(exc: BaseException) -> bool:
    """The statement gave up waiting for a lock another session holds."""
    orig = _orig(exc)
    if _pg_state(orig) == "55P03":
        return True
    args: tuple[object, ...] = getattr(orig, "args", None) or ()
    if (type(orig).__module__ or "").startswith("pymysql"):
        return bool(args) and args[0] == 1205
    return "database is locked" in str(orig) or "database table is locked" in str(orig)


def _context_column(context: str | None, columns: list[str]) -> str | None:
    """The column COPY's context line names (``COPY t, line 3, column email: "<value>"``), value left out.

    Matched against the table's own column names (longest first), so a column name holding spaces, colons or
    quotes is found, and nothing after it (the value) is ever read into the message.
    """
    if not context:
        return None
    first = context.splitlines()[0]
    for name in sorted(columns, key=len, reverse=True):
        if f", column {name}: " in first or first.endswith(f", column {name}"):
            return name
    return None


def _context_line(context: str | None) -> int | None:
    m = re.search(r"^COPY .*?, line (\d+)", context or "")
    return int(m.group(1)) if m else None


def describe(
    exc: BaseException,
    dialect: str,
    where: Where,
    outcome: str,
    columns: list[str] | None = None,
) -> WriteError:
    """A :class:`WriteError` for a driver error during a load: table, column, constraint, batch, outcome.

    Args:
        exc: the SQLAlchemy or driver exception.
        dialect: ``postgresql``, ``mysql`` or ``sqlite``.
        where: phase, table and batch the load was at.
        outcome: what happened to the target, e.g. ``the target was left unchanged``.
        columns: the column names of ``where.table`` (to find the column in COPY's context line).

    Returns:
        The error to raise (``from None``: the driver's exception would print its values in a traceback).
    """
    orig = _orig(exc)
    caps = capabilities(dialect)
    table, column, constraint = where.table, None, None
    row = None
    what = None
    if is_connection_lost(exc):
        what = "the connection to the target was lost (the server ended the session)"
    elif is_lock_timeout(exc):
        who = "another session holds a lock on it" if table else "another session holds a lock on a target table"
        if not caps.server:
            who = "another connection holds a lock on the target database file"
        what = f"lock timeout: {who}"
    elif caps.errors is DriverErrors.SQLSTATE and (diag := getattr(orig, "diag", None)) is not None:
        state = _pg_state(orig) or ""
        what = _PG_STATE.get(state) or _PG_CLASS.get(state[:2]) or f"PostgreSQL error {state or type(orig).__name__}"
        constraint = diag.constraint_name
        if state == "23514" and not constraint and (diag.message_primary or "").startswith("no partition of"):
            # partition routing shares CHECK's SQLSTATE; the message names the relation, never the row's value
            what = "a row fits no partition of the table (its partition key is outside every partition's bounds)"
        table = table or diag.table_name  # at commit no table is being worked on: the server names it
        column = diag.column_name or _context_column(diag.context, columns or [])
        row = _context_line(diag.context)
    elif caps.errors is DriverErrors.ERRNO and getattr(orig, "args", None) and isinstance(orig.args[0], int):
        code, text = orig.args[0], str(orig.args[-1])
        what = _MY_CODE.get(code, f"MariaDB error {code}")
        m = _MY_CHECK.search(text) or _MY_CONSTRAINT.search(text) or _MY_KEY.search(text)
        constraint = m.group(1) if m else None
        m = _MY_COLUMN.search(text)
        # the column name is quoted by the server; a value never sits in this position of these messages
        column = (m.group(1) or m.group(2)) if m and code in (1048, 1364, 1264, 1406, 1366, 1292, 1265) else None
        if code in (1005, 1215, 1822, 1824) and table is None:
            # "Can't create table `db`.`_dbsynth_new_item` (errno: 150 ...)": the server names the table
            m = _MY_CREATE.search(text)
            if m:
                table = _unstaged(m.group(1))
        if code in (1005, 1215) and "150" in text:
            what = ("a foreign key was refused (errno 150: its column type, charset or index differs from "
                    "the key it refers to)")
    elif caps.errors is DriverErrors.MESSAGE:
        text = str(orig)
        for needle, generic in _LITE:
            if needle in text:
                what = generic
                m = _LITE_COLUMNS.search(text)  # 'UNIQUE constraint failed: t.a, t.b' names columns only
                if m and needle != "CHECK constraint failed":
                    cols = [c.strip().split(".")[-1] for c in m.group(1).split(",")]
                    column = cols[0] if cols and (not columns or cols[0] in columns) else None
                elif m:
                    constraint = m.group(1).strip()
                break
    if what is None:
        what = f"the target refused the load ({type(orig).__name__})"
    place = where.text()
    if row is not None and where.phase == "load":
        place += f" (row {row} of the batch)"
    message = f"{what} {place}; {outcome}"
    if show_values():
        message += f" [driver: {' '.join(str(orig).split())}]"
    hint = None
    if what.startswith("lock timeout"):
        hint = "Wait for the other session to finish, or raise the lock timeout (lock_timeout, in seconds)."
    elif what.startswith("the connection"):
        hint = "Check the target server, then run again."
    elif what.startswith("a foreign key was refused"):
        hint = "Give the foreign-key column the type of the key it refers to, or exclude the foreign key."
    return WriteError(mask_url(message), table=table, column=column, constraint=constraint, hint=hint)
