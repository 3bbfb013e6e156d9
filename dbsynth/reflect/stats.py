"""Cheap statistics that help choose sdtypes: row counts and distinct ratios of string columns."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..metadata import sdtypes as st
from ..metadata.records import Metadata
from ..read import table_clause

__all__ = ["ColumnStats", "read_statistics", "SAMPLE_ROWS"]

#: Distinct ratios are measured on at most this many rows per table, so reflection stays cheap on big tables.
SAMPLE_ROWS = 10_000


@dataclass(frozen=True)
class ColumnStats:
    """Counts over the first :data:`SAMPLE_ROWS` rows of a table."""

    distinct: int
    """Distinct non-NULL values."""
    non_null: int
    """Non-NULL values."""

    @property
    def distinct_ratio(self) -> float:
        """Distinct values per non-NULL value (1.0: all different; 0.0 when every value is NULL)."""
        return self.distinct / self.non_null if self.non_null else 0.0


def read_statistics(conn: sa.Connection, metadata: Metadata) -> dict[str, dict[str, ColumnStats]]:
    """Fill ``Table.row_count`` and measure the string columns that are not keys.

    Args:
        conn: a connection in a read-only transaction (see :func:`dbsynth.db.read_only_connection`).
        metadata: reflected tables; ``row_count`` is set in place.

    Returns:
        ``{table: {column: ColumnStats}}`` for string columns outside primary and foreign keys.
    """
    out: dict[str, dict[str, ColumnStats]] = {}
    for table in metadata:
        keys = set(table.primary_key) | {c for fk in table.foreign_keys for c in fk.columns}
        names = [c.name for c in table.columns if c.type == st.STRING and c.name not in keys]
        # the metadata name is "schema.name" only when several schemas are reflected: a dot inside a table's own
        # name ("my.table") is part of the name, and the dialect quotes it
        sql_table = table_clause(table)
        table.row_count = int(conn.execute(sa.select(sa.func.count()).select_from(sql_table)).scalar_one())
        if not names or not table.row_count:
            continue
        sample = sa.select(*(sql_table.c[n] for n in names)).limit(SAMPLE_ROWS).subquery()
        aggregates = []
        for n in names:
            aggregates += [sa.func.count(sa.distinct(sample.c[n])), sa.func.count(sample.c[n])]
        row = conn.execute(sa.select(*aggregates)).one()
        out[table.name] = {n: ColumnStats(int(row[2 * i]), int(row[2 * i + 1])) for i, n in enumerate(names)}
    return out
