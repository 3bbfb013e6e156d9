"""Read source tables into DataFrames that follow the frame contract (docs/architecture.md).

All tables are read inside ONE read-only transaction with a consistent snapshot, so that foreign keys of
the frames match even while the source keeps changing. Rows are fetched through server-side cursors in
chunks, so memory holds one chunk of driver rows at a time (plus the frames being built).
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import io
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL

from .db import engine as make_engine
from .db import read_only_connection
from .dialects import capabilities
from .errors import ReflectionError, SchemaMismatchError
from .frames import INFINITY_US, MARKERS_US, NEG_INFINITY_US, ZERO_DATE_US
from .metadata import sdtypes as st
from .metadata.records import Column, Metadata, Table

# DEFAULT_CHUNK_ROWS: rows per round trip and per frame of iter_table_chunks (one constant, re-exported here)
from .sources import DEFAULT_CHUNK_ROWS, bottom_k

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "read_tables", "iter_table_chunks", "open_sources", "DbTableSource", "table_clause", "to_frame",
    "DEFAULT_CHUNK_ROWS", "JsonText",
    # the frame contract's marker stamps (dbsynth.frames), for the reader's callers
    "INFINITY_US", "MARKERS_US", "NEG_INFINITY_US", "ZERO_DATE_US",
]

#: Bytes per block of the COPY CSV parser: the longest row it can read.
_COPY_BLOCK_BYTES = 16 << 20


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
    """Read tables in one read-only, consistent-snapshot transaction (PostgreSQL tables of plain column types
    through ``COPY ... TO STDOUT``, the rest through a server-side cursor: the same frames either way).

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
    eng = url_or_engine if isinstance(url_or_engine, sa.Engine) else make_engine(url_or_engine, read_only=True)
    try:
        out: dict[str, pd.DataFrame] = {}
        with read_only_connection(eng) as conn:
            for name in names:
                table = metadata.table(name)
                # COPY on PostgreSQL where the column types allow it (the streamed fit's fast path), else a cursor
                chunks = list(DbTableSource(conn, table, chunk_rows).chunks())
                frame = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
                out[name] = _narrow(frame, table)
        return out
    finally:
        if own:
            eng.dispose()


def iter_table_chunks(
    conn: sa.Connection, table: Table, chunk_rows: int = DEFAULT_CHUNK_ROWS, columns: list[str] | None = None
) -> Iterator[pd.DataFrame]:
    """Stream ``table`` as frames of at most ``chunk_rows`` rows through a server-side cursor.

    Rows come ordered by primary key when there is one, so repeated reads (and seeded fits) see the same
    order. Nullable integer and boolean columns are ``Int64``/``boolean`` in every chunk, so that chunks
    concatenate without dtype changes.

    Args:
        conn: an open connection, ideally from :func:`dbsynth.db.read_only_connection`.
        table: the table to read.
        chunk_rows: rows per frame (at least 1).
        columns: read only these columns (default: all).

    Yields:
        Frames typed per the frame contract; at least one (empty) frame for an empty table.

    Raises:
        SchemaMismatchError: the table or one of its columns does not exist in the database.
    """
    clause = table_clause(table)
    cols = table.columns if columns is None else [table.column(c) for c in columns]
    query = sa.select(*(_select_column(conn, clause, c) for c in cols))
    if table.primary_key:
        query = query.order_by(*(clause.c[c] for c in table.primary_key))
    yield from _stream(conn, query, table, cols, chunk_rows)


def _select_column(conn: sa.Connection, clause: sa.TableClause, col: Column):
    """``col`` as selected: SQLite binary columns as ``CAST(... AS BLOB)``, since a BLOB-affinity column may
    hold TEXT values that are not UTF-8 (sqlite3 cannot decode them), and they are bytes either way.
    PostgreSQL columns of no portable family (ranges, inet, money, bit, interval, xml, geometric and composite
    types...) as their text form, which their input function reads back exactly (psycopg's objects are not
    exact: an interval of '1 mon' loads as 30 days)."""
    caps = capabilities(conn)
    if caps.blob_cast_of_binary and col.type == st.BINARY:
        return sa.cast(clause.c[col.name], sa.LargeBinary).label(col.name)
    if caps.text_cast_of_unknown_types and col.type == st.OTHER:
        return sa.cast(clause.c[col.name], sa.Text).label(col.name)
    return clause.c[col.name]


class JsonText(str):
    """A JSON document as the source spelled it (PostgreSQL ``json`` text): written back verbatim, so a ``json``
    column keeps its spacing, key order and duplicate keys and big numbers keep their digits (a dict would not)."""

    __slots__ = ()

    def __reduce__(self):  # pickles (model files, process pools) as itself, not as a plain str
        return (JsonText, (str(self),))


def _stream(conn: sa.Connection, query, table: Table, cols: list[Column], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Run ``query`` through a server-side cursor and yield contract-typed frames of ``cols``."""
    _register_marker_loaders(conn)
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
        if capabilities(conn).missing_objects_are_operational_errors:  # "no such table/column" in sqlite3
            raise SchemaMismatchError(
                f"cannot read it: {str(exc.orig)}", table=table.name, hint="Reflect the database again."
            ) from None
        raise
    emitted = False
    for rows in result.partitions(max(1, chunk_rows)):
        emitted = True
        yield to_frame(rows, table, cols)
    if not emitted:
        yield to_frame([], table, cols)


def _register_marker_loaders(conn: sa.Connection) -> None:
    """On psycopg, load 'infinity'/'-infinity' dates and timestamps as that text (psycopg's loaders refuse
    them: "date too large"); :func:`_datetimes` turns the text into the marker stamps."""
    if not capabilities(conn).copy:  # psycopg's loaders (the driver of the COPY dialect)
        return
    driver = conn.connection.driver_connection
    if driver is None or getattr(driver, "_dbsynth_markers", False):
        return
    from psycopg.types import datetime as pgdt

    def marker_loader(base):
        class Loader(base):
            def load(self, data):
                if bytes(data) in (b"infinity", b"-infinity"):
                    return bytes(data).decode()
                return super().load(data)
        return Loader

    for name, base in (("date", pgdt.DateLoader), ("timestamp", pgdt.TimestampLoader),
                       ("timestamptz", pgdt.TimestamptzLoader)):
        driver.adapters.register_loader(name, marker_loader(base))
    from psycopg.adapt import Loader as _Loader

    class JsonTextLoader(_Loader):
        def load(self, data):
            return JsonText(bytes(data).decode())

    # json (not jsonb, which stores a normalised document that a dict round-trips exactly) keeps the text
    driver.adapters.register_loader("json", JsonTextLoader)
    driver._dbsynth_markers = True


def to_frame(rows: Sequence[Any], table: Table, columns: list[Column] | None = None) -> pd.DataFrame:
    """Build a contract-typed frame from driver rows (tuples in ``columns`` order, default ``table.columns``)."""
    cols = table.columns if columns is None else columns
    values_by_col = list(zip(*rows)) if rows else [()] * len(cols)
    data = {col.name: _convert(list(values), col) for col, values in zip(cols, values_by_col)}
    return pd.DataFrame(data, columns=[c.name for c in cols])


def _narrow(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """After all chunks are joined: NULL-free integer/boolean columns become plain int64/bool."""
    for col in table.columns:
        s = frame[col.name]
        if col.type == st.INTEGER and s.dtype in ("Int64", "UInt64") and not s.hasnans:
            frame[col.name] = s.astype("int64" if s.dtype == "Int64" else "uint64")
        elif col.type == st.BOOL and s.dtype == "boolean" and not s.hasnans:
            frame[col.name] = s.astype(bool)
    return frame


# the marker stamps are the frame contract's (dbsynth.frames); re-exported here for the reader's callers
_MARKER_TEXT = {"infinity": INFINITY_US, "-infinity": NEG_INFINITY_US}
_ZERO_DATES = ("0000-00-00", "0000-00-00 00:00:00")


def marker_mask(s: pd.Series, marker: int) -> np.ndarray:
    """Rows of a datetime series that hold ``marker`` (one of :data:`INFINITY_US`, ...)."""
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        return np.zeros(len(s), dtype=bool)
    us = s.dt.tz_localize(None) if isinstance(s.dtype, pd.DatetimeTZDtype) else s
    return us.astype("datetime64[us]").to_numpy().view("int64") == marker


def _datetimes(obj: pd.Series, col: Column) -> pd.Series:
    """Driver dates/timestamps (objects, ISO text, marker text) as datetime64[us] (UTC-aware for timezone
    columns): microseconds hold years 1..9999 and fractional seconds exactly, where nanoseconds stop at 2262."""
    markers = {}
    if len(obj):
        text = [v.strip().lower() if isinstance(v, str) else "" for v in obj]
        for word, stamp in _MARKER_TEXT.items():
            markers[stamp] = np.fromiter((t == word for t in text), dtype=bool, count=len(text))
        markers[ZERO_DATE_US] = np.fromiter((t.startswith(_ZERO_DATES) for t in text), dtype=bool, count=len(text))
        hit = np.logical_or.reduce(list(markers.values()))
        if hit.any():
            obj = obj.where(~hit, None)
    if col.timezone:
        parsed = pd.to_datetime(obj, utc=True, format="ISO8601").astype("datetime64[us, UTC]")
    else:
        parsed = pd.to_datetime(obj, format="ISO8601")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # a tz-aware source column not flagged as such
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        parsed = parsed.astype("datetime64[us]")
    for stamp, mask in markers.items():
        if mask.any():
            parsed = _put_marker(parsed, mask, stamp)
    return parsed


def _put_marker(s: pd.Series, mask: np.ndarray, stamp: int) -> pd.Series:
    if not mask.any():
        return s
    tz = s.dt.tz if isinstance(s.dtype, pd.DatetimeTZDtype) else None
    raw = (s.dt.tz_localize(None) if tz is not None else s).to_numpy(dtype="datetime64[us]").view("int64").copy()
    raw[mask] = stamp
    out = pd.Series(raw.view("datetime64[us]"), index=s.index)
    return out.dt.tz_localize(tz) if tz is not None else out


def exact_decimal(col: Column) -> bool:
    """A DECIMAL column float64 cannot hold exactly (more than 15 digits, or unconstrained): its driver
    ``decimal.Decimal`` values stay as they are in the frame (the frame contract)."""
    return col.type == st.DECIMAL and (col.precision is None or col.precision > 15)


def set_members(native_type: str | None) -> list[str]:
    """The members of a MariaDB ``SET('a','b',...)`` type spelling, in declaration order ([] for other types)."""
    import re

    text = native_type or ""
    if not text.upper().startswith("SET("):
        return []
    return [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", text)]


def _floats(arr: np.ndarray, nulls: np.ndarray) -> pd.Series:
    """Float values as float64, or as pandas ``Float64`` when a NaN value sits beside NULLs: NaN is a value of
    float columns (PostgreSQL stores it), not NULL, and a masked array keeps the two apart (frame contract)."""
    nan = np.isnan(arr) & ~nulls
    if nan.any():
        return pd.Series(pd.arrays.FloatingArray(arr, nulls.copy()))
    return pd.Series(arr)


def _convert(values: list, col: Column) -> pd.Series:
    """One column's driver values -> the dtype the frame contract gives its type family."""
    family = col.type
    obj = pd.Series(values, dtype=object)
    if family == st.INTEGER:
        try:
            return pd.Series(pd.array(values, dtype="Int64"))
        except (OverflowError, TypeError, ValueError):
            # BIGINT UNSIGNED past 2**63-1 (MariaDB): unsigned 64-bit, exactly
            return pd.Series(pd.array(values, dtype="UInt64"))
    if family == st.DECIMAL and exact_decimal(col) and any(isinstance(v, decimal.Decimal) for v in values):
        return obj  # decimal.Decimal objects: float64 holds 15 digits, numeric(30,10) or 1e500 would change
    if family in (st.FLOAT, st.DECIMAL):
        # None -> NaN and Decimal -> float in one C-level pass
        arr = np.array(values, dtype="float64")
        if family == st.FLOAT:
            return _floats(arr, np.fromiter((v is None for v in values), dtype=bool, count=len(values)))
        return pd.Series(arr)
    if family == st.BOOL:
        return pd.Series(pd.array(values, dtype="boolean"))  # also takes MySQL 0/1
    if family in (st.DATE, st.TIMESTAMP):
        return _datetimes(obj, col)
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
        if any(isinstance(v, (set, frozenset)) for v in values):
            # MariaDB SET: pymysql hands a Python set; the value is its members in declaration order
            order = {m: i for i, m in enumerate(set_members(col.native_type))}
            obj = pd.Series([",".join(sorted(v, key=lambda m: (order.get(m, len(order)), m)))
                             if isinstance(v, (set, frozenset)) else v for v in values], dtype=object)
        return obj if obj.empty else obj.where(obj.notna(), None)
    if family == st.JSON:
        # PostgreSQL json: the document's text as the source spelled it (the loader above), written back
        # verbatim; jsonb arrives parsed; pymysql and sqlite3 hand over text, parsed here
        # (a list, not Series.map: pandas 3 would infer a str column and drop the JsonText type)
        return pd.Series([json.loads(v) if isinstance(v, (str, bytes)) and not isinstance(v, JsonText) else v
                          for v in values], dtype=object)
    if family == st.BINARY:
        return obj.map(lambda v: bytes(v) if isinstance(v, (memoryview, bytearray)) else v)
    return obj


class DbTableSource:
    """A :class:`~dbsynth.model.source.TableSource` over one table of an open read-only connection.

    Every read goes through the same connection, so all passes of a fit see one snapshot. Rows come ordered by
    primary key. The sample is drawn by the server on PostgreSQL (``TABLESAMPLE BERNOULLI ... REPEATABLE``:
    only the sampled rows travel) and by a one-pass bottom-k reservoir elsewhere; both are deterministic for a
    given seed and table contents.

    Args:
        conn: a connection from :func:`dbsynth.db.read_only_connection`.
        table: the table.
        chunk_rows: rows per frame of a pass.
    """

    def __init__(self, conn: sa.Connection, table: Table, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> None:
        self.conn = conn
        self.table = table
        self.chunk_rows = max(1, int(chunk_rows))
        self._n: int | None = None

    @property
    def n_rows(self) -> int:
        """Rows of the table (one ``COUNT(*)``, cached)."""
        if self._n is None:
            clause = table_clause(self.table)
            try:
                self._n = int(self.conn.execute(sa.select(sa.func.count()).select_from(clause)).scalar_one())
            except sa.exc.DBAPIError as exc:
                raise SchemaMismatchError(
                    f"cannot count its rows: {str(getattr(exc, 'orig', exc)).splitlines()[0]}",
                    table=self.table.name,
                    hint="Reflect the database again or fix the metadata.",
                ) from None
        return self._n

    def chunks(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Every row, ordered by primary key, in frames of at most ``chunk_rows`` rows.

        On PostgreSQL, columns of plain types travel through ``COPY ... TO STDOUT`` parsed by pyarrow (several
        times faster than building a Python tuple per row); other types take the server-side cursor.
        """
        cols = self.table.columns if columns is None else [self.table.column(c) for c in columns]
        if capabilities(self.conn).copy and all(c.type in _COPY_TYPES and not exact_decimal(c) for c in cols):
            return _copy_chunks(self.conn, self.table, cols, self.chunk_rows)
        return iter_table_chunks(self.conn, self.table, self.chunk_rows, columns)

    def sample(self, max_rows: int, seed: int) -> pd.DataFrame:
        """A uniform sample of at most ``max_rows`` rows (the whole table, in key order, when it is not larger)."""
        n = self.n_rows
        rng = np.random.default_rng(seed)
        if n <= max_rows:
            frames = list(self.chunks())
        elif capabilities(self.conn).tablesample:
            # 10% above the target so the binomial draw rarely falls short; trimmed to max_rows below
            pct = min(100.0, 110.0 * max_rows / n)
            clause = table_clause(self.table)
            sampled = sa.tablesample(clause, sa.func.bernoulli(pct), name="s", seed=sa.literal(int(seed % 2**31)))
            query = sa.select(*(sampled.c[c] for c in self.table.column_names))
            frames = list(_stream(self.conn, query, self.table, self.table.columns, self.chunk_rows))
        else:
            kept, keys = None, np.zeros(0)
            for chunk in self.chunks():
                both = chunk if kept is None else pd.concat([kept, chunk], ignore_index=True)
                keys = np.r_[keys, rng.random(len(chunk))]
                pick = bottom_k(keys, max_rows)
                kept, keys = both.iloc[pick].reset_index(drop=True), keys[pick]
            frames = [kept]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        if len(frame) > max_rows:
            frame = frame.iloc[bottom_k(rng.random(len(frame)), max_rows)].reset_index(drop=True)
        return _narrow(frame, self.table)


@contextlib.contextmanager
def open_sources(
    url_or_engine: str | URL | sa.Engine, metadata: Metadata, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[dict[str, DbTableSource]]:
    """Table sources over one read-only, consistent-snapshot transaction, for ``HMASynthesizer.fit``.

    Args:
        url_or_engine: the source database.
        metadata: the tables to serve.
        chunk_rows: rows per frame of a streamed pass.

    Yields:
        ``{table name: DbTableSource}``; valid until the ``with`` block ends.

    Raises:
        ConnectError: the database cannot be reached.
    """
    own = not isinstance(url_or_engine, sa.Engine)
    eng = url_or_engine if isinstance(url_or_engine, sa.Engine) else make_engine(url_or_engine, read_only=True)
    try:
        with read_only_connection(eng) as conn:
            yield {t.name: DbTableSource(conn, t, chunk_rows) for t in metadata}
    finally:
        if own:
            eng.dispose()


#: Type families read through PostgreSQL's COPY, with the pyarrow type their CSV text parses into.
_COPY_TYPES = {
    st.INTEGER: "int64",
    st.FLOAT: "float64",
    st.DECIMAL: "float64",
    st.BOOL: "bool",
    st.DATE: "date32",
    st.TIMESTAMP: "timestamp",
    st.STRING: "string",
    st.ENUM: "string",
    st.UUID: "string",
}


#: Name prefix of the COPY reader's extra infinity-sign columns (never a frame column).
_SIGN_PREFIX = "\x00sign:"


class _CopyStream(io.RawIOBase):
    """The blocks of a ``COPY ... TO STDOUT`` as a readable file, for pyarrow's streaming CSV reader."""

    def __init__(self, blocks: Iterator) -> None:
        self._blocks = blocks
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not len(self._buf):
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._buf = memoryview(bytes(block))
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _arrow_type(alias: str) -> pa.DataType:
    import pyarrow as pa

    return pa.timestamp("us") if alias == "timestamp" else pa.type_for_alias(alias)


def _copy_chunks(conn: sa.Connection, table: Table, cols: list[Column], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Stream ``cols`` of ``table`` by primary key through COPY TO STDOUT (CSV) and pyarrow, in this transaction.

    Timestamps with a time zone are sent as UTC wall time (``AT TIME ZONE 'UTC'``) and enums and UUIDs as text,
    so every value has one unambiguous text form. Frames follow the same contract as :func:`iter_table_chunks`.
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    q = conn.dialect.identifier_preparer.quote
    clause = table_clause(table)
    name = conn.dialect.identifier_preparer.format_table(clause)
    exprs = []
    signs = []  # per date/timestamp column, 1/-1 where it holds 'infinity'/'-infinity' (arrow cannot parse them)
    for c in cols:
        e = q(c.name)
        if c.type in (st.DATE, st.TIMESTAMP):
            signs.append(f"CASE WHEN {e} = 'infinity' THEN 1 WHEN {e} = '-infinity' THEN -1 END")
            e = f"CASE WHEN isfinite({e}) THEN {e} END"
        if c.type == st.TIMESTAMP and c.timezone:
            e = f"({e} AT TIME ZONE 'UTC')"
        elif c.type in (st.ENUM, st.UUID):
            e = f"{e}::text"
        exprs.append(e)
    sign_names = [_SIGN_PREFIX + c.name for c in cols if c.type in (st.DATE, st.TIMESTAMP)]
    exprs += signs
    order = f" ORDER BY {', '.join(q(c) for c in table.primary_key)}" if table.primary_key else ""
    sql = f"COPY (SELECT {', '.join(exprs)} FROM {name}{order}) TO STDOUT (FORMAT csv)"
    types = {c.name: _arrow_type(_COPY_TYPES[c.type]) for c in cols}
    types.update({s: pa.int8() for s in sign_names})
    names = [c.name for c in cols] + sign_names
    raw = conn.connection.driver_connection
    assert raw is not None  # an open connection has its driver's
    cur = raw.cursor()
    # the system allocator, so that what the parser frees goes back with the rest (memory.release); small
    # blocks on one thread: the chunk, not the parser's read-ahead, should be what a pass holds
    pool = pa.system_memory_pool()
    try:
        with cur.copy(sql) as copy:
            blocks = iter(copy)
            first = next(blocks, None)
            if first is None:  # an empty table: pyarrow refuses an empty CSV file
                yield _arrow_frame(pa.Table.from_batches([], schema=pa.schema([(n, types[n]) for n in names])), cols)
                return
            reader = pacsv.open_csv(
                io.BufferedReader(_CopyStream(itertools.chain([first], blocks)), buffer_size=1 << 20),
                # a block must hold the longest row (pyarrow refuses a row that straddles two blocks): 16 MB
                # takes the long texts production tables hold for a few MB of parser memory
                read_options=pacsv.ReadOptions(column_names=names, block_size=_COPY_BLOCK_BYTES,
                                               use_threads=False),
                # NULL is an unquoted empty field in PostgreSQL's CSV; an empty string is quoted ("")
                convert_options=pacsv.ConvertOptions(
                    column_types=types, null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False,
                    true_values=["t"], false_values=["f"],
                ),
                memory_pool=pool,
            )
            pending: list = []
            rows = 0
            emitted = False
            for batch in reader:
                pending.append(batch)
                rows += batch.num_rows
                while rows >= chunk_rows:
                    tbl = pa.Table.from_batches(pending)
                    yield _arrow_frame(tbl.slice(0, chunk_rows), cols)
                    rest = tbl.slice(chunk_rows)
                    pending, rows, emitted = rest.to_batches(), rest.num_rows, True
            if rows or not emitted:
                tbl = pa.Table.from_batches(pending, schema=pa.schema([(n, types[n]) for n in names]))
                yield _arrow_frame(tbl, cols)
    except pa.ArrowInvalid as exc:
        if "straddl" in str(exc):
            raise ReflectionError(
                f"a row is longer than the COPY reader's block of {_COPY_BLOCK_BYTES >> 20} MB",
                table=table.name,
                hint="Exclude the long column (exclude in the table's config) or shorten the value in the source.",
            ) from None
        # pyarrow's message quotes the value: it stays out of the error (it is production data)
        raise ReflectionError(
            "a value could not be read through COPY (for example a timestamp of 'infinity')",
            table=table.name,
            hint="Exclude the column (exclude in the table's config) or clean the value in the source.",
        ) from None
    finally:
        cur.close()


def _arrow_frame(tbl, cols: list[Column]) -> pd.DataFrame:
    """An arrow table of COPY columns as a contract-typed frame (nullable ints and bools as in to_frame)."""
    data = {}
    for c in cols:
        arr = tbl.column(c.name)
        if c.type == st.INTEGER:
            data[c.name] = pd.Series(pd.array(arr.to_pandas(types_mapper=pd.ArrowDtype).astype("Int64")))
        elif c.type == st.BOOL:
            data[c.name] = pd.Series(arr.to_pandas(types_mapper=pd.ArrowDtype).astype("boolean"))
        elif c.type in (st.FLOAT, st.DECIMAL):
            vals = np.asarray(arr.to_numpy(zero_copy_only=False), dtype="float64")
            if c.type == st.FLOAT and arr.num_chunks:
                data[c.name] = _floats(vals, np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool))
            else:
                data[c.name] = pd.Series(vals, dtype="float64")
        elif c.type in (st.DATE, st.TIMESTAMP):
            import pyarrow as pa

            us = arr.cast(pa.timestamp("us")) if arr.num_chunks else None
            s = pd.Series(us.to_numpy() if us is not None else [], dtype="datetime64[us]")
            sign = tbl.column(_SIGN_PREFIX + c.name).to_numpy(zero_copy_only=False) if arr.num_chunks else None
            if sign is not None:
                s = _put_marker(s, sign == 1, INFINITY_US)
                s = _put_marker(s, sign == -1, NEG_INFINITY_US)
            data[c.name] = s.dt.tz_localize("UTC") if c.timezone else s
        else:
            s = pd.Series(arr.to_pandas(), dtype=object) if arr.num_chunks else pd.Series([], dtype=object)
            data[c.name] = s.where(s.notna(), None)
    return pd.DataFrame(data, columns=[c.name for c in cols]).reset_index(drop=True)
