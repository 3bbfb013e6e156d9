"""CHECK constraints of the metadata, evaluated by the synthetic database itself.

A CHECK constraint is SQL text in the source's dialect; only a database can say whether a row satisfies it.
Each one is counted with ``SELECT COUNT(*), SUM(CASE WHEN NOT (expr) THEN 1 ELSE 0 END) FROM t`` in a read-only
transaction of its own, so that an expression the target cannot evaluate (another dialect's function, a cast
it does not know) marks that constraint as unchecked and leaves the others unaffected.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..db import engine, read_only_connection
from ..metadata.records import CheckConstraint, Metadata, Table
from .metrics import ValidityCheck


def _from(table: Table) -> sa.TableClause:
    """The table as a FROM clause (no column needed: the expression names them; the dialect quotes the name)."""
    # A table read from several schemas is named "schema.table" in the metadata; the database knows it by its
    # bare name in that schema.
    name = table.name
    if table.schema and name.startswith(f"{table.schema}."):
        name = name[len(table.schema) + 1 :]
    return sa.table(name, schema=table.schema)


def _statement(table: Table, check: CheckConstraint) -> sa.Select:
    # A literal column, not text(): a colon in the expression (PostgreSQL casts: '2020-01-01'::date) would
    # read as a bind parameter there; here the dialect only doubles '%' where its driver needs it.
    expr = sa.literal_column(f"({check.sqltext})", sa.Boolean)
    broken = sa.func.sum(sa.case((sa.not_(expr), 1), else_=0))
    return sa.select(sa.func.count(), broken).select_from(_from(table))


def _why(exc: Exception) -> str:
    """Why the database refused the expression, without its message (which may quote a row's value)."""
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", None)
    code = getattr(orig, "sqlstate", None) or (args[0] if args and isinstance(args[0], int) else None)
    return f"the target database cannot evaluate it ({type(orig).__name__}{f' {code}' if code else ''})"


def check_constraints(url: str, metadata: Metadata) -> list[ValidityCheck]:
    """Count the rows of the database at ``url`` that break each CHECK constraint of ``metadata``.

    Args:
        url: the synthetic database (only read, in read-only transactions).
        metadata: the tables and their CHECK constraints (usually reflected from the real database).

    Returns:
        One ``check`` :class:`ValidityCheck` per constraint; those the database could not evaluate have
        ``unchecked`` set to the reason and count no violation.

    Raises:
        ConnectError: the database cannot be reached.
    """
    tables = [t for t in metadata if t.check_constraints]
    if not tables:
        return []
    out = []
    eng = engine(url, read_only=True)
    try:
        for table in tables:
            for check in table.check_constraints:
                name = check.name or check.sqltext
                try:
                    with read_only_connection(eng) as conn:
                        rows, broken = conn.execute(_statement(table, check)).one()
                    out.append(ValidityCheck(table.name, "check", name, int(rows), int(broken or 0)))
                except sa.exc.SQLAlchemyError as exc:
                    out.append(ValidityCheck(table.name, "check", name, 0, 0, unchecked=_why(exc)))
    finally:
        eng.dispose()
    return out
