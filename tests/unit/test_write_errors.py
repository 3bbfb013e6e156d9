"""Driver errors described without row values (dbsynth.write.dberrors), offline with stand-in exceptions."""

from __future__ import annotations

import pytest

from dbsynth.errors import show_values
from dbsynth.write.dberrors import Where, describe

SECRET = "alice.secret@example.org"


class _Diag:
    def __init__(self, sqlstate, message, context=None, column=None, constraint=None, table=None):
        self.sqlstate, self.message_primary, self.context = sqlstate, message, context
        self.column_name, self.constraint_name, self.table_name = column, constraint, table


class _PgError(Exception):
    """Shaped like psycopg's errors: sqlstate and diag."""

    def __init__(self, sqlstate, message, **diag):
        super().__init__(message)
        self.sqlstate = sqlstate
        self.diag = _Diag(sqlstate, message, **diag)


class _MyError(Exception):
    """Shaped like pymysql's errors: (code, message)."""


COLS = ["id", "Mixed", "Mixed Case", "select"]


@pytest.mark.parametrize("column", ["Mixed Case", "Mixed", "select"])
def test_copy_context_gives_the_column_and_row_never_the_value(column):
    exc = _PgError("22P02", f'invalid input syntax for type integer: "{SECRET}"',
                   context=f'COPY my.table, line 3, column {column}: "{SECRET}"')
    err = describe(exc, "postgresql", Where("load", "my.table", 2), "the target was left unchanged", COLS)
    text = str(err)
    assert SECRET not in text and "alice" not in text
    assert err.column == column and err.table == "my.table"
    assert "batch 2 (row 3 of the batch)" in text and "not valid input" in text and text.endswith("unchanged")


def test_enum_value_not_in_message():
    exc = _PgError("22P02", 'invalid input value for enum mood: "SECRETMOOD42"',
                   context='COPY p, line 1, column mood: "SECRETMOOD42"')
    text = str(describe(exc, "postgresql", Where("load", "p", 1), "left unchanged", ["id", "mood"]))
    assert "SECRETMOOD42" not in text and "column 'mood'" in text


def test_lost_connection_lock_timeout_and_commit():
    lost = _PgError("57P01", "terminating connection due to administrator command")
    text = str(describe(lost, "postgresql", Where("analyze", "film"), "the target was left unchanged", []))
    assert text.startswith("table 'film': the connection to the target was lost") and "while analyzing" in text
    lock = _PgError("55P03", 'canceling statement due to lock timeout')
    text = str(describe(lock, "postgresql", Where("ddl", "film"), "the target was left unchanged", []))
    assert "another session holds a lock on it" in text and "lock_timeout" in text
    dup = _PgError("23505", "duplicate key value violates unique constraint \"acct_email_key\"",
                   constraint="acct_email_key", table="acct")
    err = describe(dup, "postgresql", Where("commit"), "the target was left unchanged", [])
    assert err.table == "acct" and err.constraint == "acct_email_key" and "at commit" in str(err)


def test_mariadb_column_in_backticks_and_the_show_values_switch():
    exc = _MyError(1366, f"Incorrect integer value: '{SECRET}' for column `db`.`p`.`n` at row 1")
    err = describe(exc, "mysql", Where("load", "p", 4), "left unchanged", ["id", "n"])
    assert SECRET not in str(err) and err.column == "n" and "batch 4" in str(err)
    show_values(True)
    try:
        assert SECRET in str(describe(exc, "mysql", Where("load", "p", 4), "left unchanged", ["id", "n"]))
    finally:
        show_values(False)
    assert show_values() is False
