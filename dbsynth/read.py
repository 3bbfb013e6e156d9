"""Read source tables into DataFrames that follow the frame contract (docs/architecture.md).

All tables are read inside ONE read-only transaction with a consistent snapshot, so that foreign keys of
the frames match even while the source keeps changing. Rows are fetched through server-side cursors in
chunks, so memory holds one chunk of driver rows at a time (plus the frames being built).
"""

from __future__ import annotations

import datetime
import json
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL

from .db import engine as make_engine
from .db import read_only_connection
from .errors import SchemaMismatchError
from .metadata import sdtypes as st
from .metadata.records import Column, Metadata, Table

__all__ = ["read_tables", "iter_table_chunks", "table_clause", "to_frame", "DEFAULT_CHUNK_ROWS"]

#: Rows fetched per round trip (and per frame of :func:`iter_table_chunks` when not told otherwise).
DEFAULT_CHUNK_ROWS = 50_000


def table_clause(table: Table) -> sa.TableClause:
    """A lightweight SQLAlchemy table for ``table`` (quoting handled by the dialect)."""
    name = table.name.split(".", 1)[1] if table.schema and table.name.startswith(f"{table.schema}.") else table.name
    return sa.table(name, *(sa.column(c) for c in table.column_names), schema=table.schema)


def read_tables(
    url_or_engine: str | URL | sa.Engine,
    metadata: Metadata,
    tables: Iterable[str] | None = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> dict[str, pd.DataFrame]:
    """Read tables in one read-only, consistent-snapshot transaction.

    Args:
        url_or_engine: the source database.
        metadata: the tables' description (from :func:`dbsynth.reflect`).
        tables: names to read (default: every table of ``metadata``), in metadata order.
        chunk_rows: rows fetched per round trip.

    Returns:
        ``{table name: DataFrame}``, one column per metadata column, typed per the frame contract.

    Raises:
        ConnectError: the database cannot be reached.
        MetadataError: a name in ``tables`` is not in the metadata.
        SchemaMismatchError: a table or column of the metadata is missing in the database.
    """
    names = [metadata.table(n).name for n in tables] if tables is not None else list(metadata.tables)
    own = not isinstance(url_or_engine, sa.Engine)
    eng = make_engine(url_or_engine, read_only=True) if own else url_or_engine
    try:
        out: dict[str, pd.DataFrame] = {}
        with read_only_connection(eng) as conn:
            for name in names:
                table = metadata.table(name)
                chunks = list(iter_table_chunks(conn, table, chunk_rows))
                frame = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
                out[name] = _narrow(frame, table)
        return out
    finally:
        if own:
            eng.dispose()


def iter_table_chunks(conn: sa.Connection, table: Table, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Stream ``table`` as frames of at most ``chunk_rows`` rows through a server-side cursor.

    Rows come ordered by primary key when there is one, so repeated reads (and seeded fits) see the same
    order. Nullable integer and boolean columns are ``Int64``/``boolean`` in every chunk, so that chunks
    concatenate without dtype changes.

    Args:
        conn: an open connection, ideally from :func:`dbsynth.db.read_only_connection`.
        table: the table to read.
        chunk_rows: rows per frame (at least 1).

    Yields:
        Frames typed per the frame contract; at least one (empty) frame for an empty table.

    Raises:
        SchemaMismatchError: the table or one of its columns does not exist in the database.
    """
    clause = table_clause(table)
    query = sa.select(*clause.c)
    if table.primary_key:
        query = query.order_by(*(clause.c[c] for c in table.primary_key))
    streaming = conn.execution_options(stream_results=True, yield_per=max(1, chunk_rows))
    try:
        result = streaming.execute(query)
    except sa.exc.ProgrammingError as exc:  # missing table/column: the metadata does not fit this database
        raise SchemaMismatchError(
            f"cannot read it: {str(getattr(exc, 'orig', exc)).splitlines()[0]}",
            table=table.name,
            hint="Reflect the database again or fix the metadata.",
        ) from None
    except sa.exc.OperationalError as exc:
        if conn.dialect.name == "sqlite":  # "no such table/column" is an OperationalError in sqlite3
            raise SchemaMismatchError(
                f"cannot read it: {str(exc.orig)}", table=table.name, hint="Reflect the database again."
            ) from None
        raise
    emitted = False
    for rows in result.partitions(max(1, chunk_rows)):
        emitted = True
        yield to_frame(rows, table)
    if not emitted:
        yield to_frame([], table)


def to_frame(rows: list, table: Table) -> pd.DataFrame:
    """Build a contract-typed frame from driver rows (tuples in ``table.columns`` order)."""
    columns = list(zip(*rows)) if rows else [()] * len(table.columns)
    data = {col.name: _convert(list(values), col) for col, values in zip(table.columns, columns)}
    return pd.DataFrame(data, columns=table.column_names)


def _narrow(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """After all chunks are joined: NULL-free integer/boolean columns become plain int64/bool."""
    for col in table.columns:
        s = frame[col.name]
        if col.type == st.INTEGER and s.dtype == "Int64" and not s.hasnans:
            frame[col.name] = s.astype("int64")
        elif col.type == st.BOOL and s.dtype == "boolean" and not s.hasnans:
            frame[col.name] = s.astype(bool)
    return frame


def _convert(values: list, col: Column) -> pd.Series:
    """One column's driver values -> the dtype the frame contract gives its type family."""
    family = col.type
    obj = pd.Series(values, dtype=object)
    if family == st.INTEGER:
        return pd.Series(pd.array(values, dtype="Int64"))
    if family in (st.FLOAT, st.DECIMAL):
        # None -> NaN and Decimal -> float in one C-level pass
        return pd.Series(np.array(values, dtype="float64"))
    if family == st.BOOL:
        return pd.Series(pd.array(values, dtype="boolean"))  # also takes MySQL 0/1
    if family == st.DATE:
        return pd.to_datetime(obj).astype("datetime64[ns]")
    if family == st.TIMESTAMP:
        if col.timezone:
            return pd.to_datetime(obj, utc=True).astype("datetime64[ns, UTC]")
        parsed = pd.to_datetime(obj)
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # a tz-aware source column not flagged as such
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        return parsed.astype("datetime64[ns]")
    if family == st.TIME:
        first = next((v for v in values if v is not None), None)
        if isinstance(first, datetime.timedelta):
            # MySQL's TIME arrives as timedelta: time of day since midnight
            td = pd.to_timedelta(obj)
            return (pd.Timestamp(0) + td).dt.time.where(td.notna(), None).astype(object)
        return obj
    if family == st.INTERVAL:
        return pd.to_timedelta(obj)
    if family == st.UUID:
        mask = obj.notna()
        out = obj.copy()
        out[mask] = obj[mask].map(str)
        return out
    if family in (st.STRING, st.ENUM):
        return obj if obj.empty else obj.where(obj.notna(), None)
    if family == st.JSON:
        # psycopg parses json already; pymysql and sqlite3 hand over the text
        return obj.map(lambda v: json.loads(v) if isinstance(v, (str, bytes)) else v)
    if family == st.BINARY:
        return obj.map(lambda v: bytes(v) if isinstance(v, (memoryview, bytearray)) else v)
    return obj
