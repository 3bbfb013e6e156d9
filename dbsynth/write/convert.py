"""Turn frames that follow the frame contract (docs/architecture.md) into what each driver needs.

Two shapes: a CSV text buffer for PostgreSQL ``COPY`` (built by pandas' C writer, no per-row Python), and
lists of Python values per column for ``executemany`` (SQLite, MariaDB). NULL (None/NaN/NaT/pd.NA) becomes
the NULL marker or ``None``.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import functools
import io
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..dialects import POSTGRESQL, capabilities
from ..metadata import sdtypes as st
from ..metadata.records import Column

try:  # optional: a much faster CSV writer for COPY
    import pyarrow as pa
    import pyarrow.csv as pa_csv
except ImportError:  # pragma: no cover - depends on the install
    pa = pa_csv = None

__all__ = ["ConversionError", "pg_csv", "python_columns", "collect_warnings", "converting", "warn"]

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_U64_MAX = 2**64 - 1

log = logging.getLogger("dbsynth")

#: Warnings of the current :func:`collect_warnings` scope (one per table, column and kind) and the table being
#: converted (set by the loader): a write says each approximation once per table.column, every run anew.
_warnings: contextvars.ContextVar[dict[tuple[str, str, str], str] | None] = contextvars.ContextVar(
    "dbsynth_write_warnings", default=None)
_table: contextvars.ContextVar[str | None] = contextvars.ContextVar("dbsynth_write_table", default=None)


@contextlib.contextmanager
def collect_warnings() -> Iterator[list[str]]:
    """Gather the conversion warnings of one write: yields the list they are appended to (each once per
    table.column and kind, also logged once). Without this scope warnings are logged every time."""
    found: dict[tuple[str, str, str], str] = {}
    out: list[str] = []
    token = _warnings.set(found)
    try:
        yield out
    finally:
        _warnings.reset(token)
        out.extend(found.values())


@contextlib.contextmanager
def converting(table: str) -> Iterator[None]:
    """Name ``table`` in the warnings said while its rows are converted."""
    token = _table.set(table)
    try:
        yield
    finally:
        _table.reset(token)


def warn(col: Column, kind: str, text: str) -> None:
    """Say ``text`` about ``col`` of the table being converted, once per table.column and ``kind`` per write."""
    table = _table.get() or "?"
    message = f"table '{table}', column '{col.name}': {text}"
    found = _warnings.get()
    if found is not None:
        if (table, col.name, kind) in found:
            return
        found[(table, col.name, kind)] = message
    log.warning("%s", message)


class ConversionError(ValueError):
    """A value of ``column`` cannot be given to the target as its type (the message holds no value)."""

    def __init__(self, column: str, what: str) -> None:
        self.column = column
        self.what = what
        super().__init__(what)


def _ints(s: pd.Series, col: Column) -> pd.Series:
    """An integer column as int64/Int64, exactly (never through float64 for Python ints).

    A float64 detour turns 2**63-1 into 2**63, which ``astype`` wraps to -2**63 without a word; Python ints in
    an object column (NULLs among them) are taken as they are. A float that is exactly 2**63 (the float nearest
    2**63-1) is the top of the range; anything else outside int64 is refused, naming the column.
    """
    if s.dtype.kind == "i":
        return s
    if s.dtype.kind == "u" or str(s.dtype) == "UInt64":
        if len(s) and not s.isna().all() and int(s.max()) > _I64_MAX:
            if int(s.max()) > _U64_MAX:
                raise ConversionError(col.name, "a value is out of range for a 64-bit integer column")
            return s  # unsigned 64-bit (BIGINT UNSIGNED): the target's column says whether it fits
        return s.astype("int64" if s.dtype.kind == "u" else "Int64")
    if s.dtype == object:
        vals = []
        for v in s:
            if v is None or v is pd.NA or (isinstance(v, float) and v != v):
                vals.append(pd.NA)
            elif isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                vals.append(int(v))
            else:
                try:
                    vals.append(_float_int(float(v), col))
                except (TypeError, ValueError):
                    raise ConversionError(col.name, "a value is not a number") from None
            if vals[-1] is not pd.NA and not _I64_MIN <= vals[-1] <= _U64_MAX:
                raise ConversionError(col.name, "a value is out of range for a 64-bit integer column")
        big = any(v is not pd.NA and v > _I64_MAX for v in vals)
        if big and any(v is not pd.NA and v < 0 for v in vals):
            raise ConversionError(col.name, "a value is out of range for a 64-bit integer column")
        return pd.Series(pd.array(vals, dtype="UInt64" if big else "Int64"), index=s.index)
    num = pd.to_numeric(s, errors="coerce") if s.dtype.kind not in "fb" else s
    if s.dtype.kind not in "fbiu" and (num.isna() & ~pd.isna(s)).any():
        raise ConversionError(col.name, "a value is not a number")
    arr = np.asarray(num, dtype="float64").round()
    nulls = np.isnan(arr)
    top = arr == 2.0**63  # the float nearest 2**63-1
    bad = ~nulls & ~top & ((arr > 2.0**63) | (arr < -(2.0**63)))
    if bad.any():
        raise ConversionError(col.name, "a value is out of range for a 64-bit integer column")
    safe = np.where(nulls | top, 0, arr).astype("int64")
    safe[top] = _I64_MAX
    return pd.Series(pd.arrays.IntegerArray(safe, nulls), index=s.index)


def _float_int(v: float, col: Column) -> int:
    if v == 2.0**63:
        return _I64_MAX
    return int(round(v))


def _json(v: Any) -> str:
    from ..read import JsonText

    if isinstance(v, JsonText):
        return str(v)  # the source's own text: spacing, key order and number digits kept
    if isinstance(v, str):
        # JSON text as read (pandas 3 makes a JsonText a plain str when it infers a string column): verbatim
        # when it is a document, else the string as a JSON string
        try:
            json.loads(v)
        except ValueError:
            return json.dumps(v)
        return v
    return json.dumps(v, default=str)


def _other_text(v: Any) -> str:
    """A value of no portable family as text: bytes (MariaDB BIT, geometry; SQLite BLOBs of a typeless column)
    as hex digits, everything else (PostgreSQL's text forms, YEAR numbers) by ``str``."""
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    return str(v)


def _pg_array(v: Any) -> str:
    # PostgreSQL array literal: every item double-quoted (backslash and quote escaped), NULL bare.
    if isinstance(v, str):
        return v  # already a literal
    items = []
    for item in v:
        if item is None or (isinstance(item, float) and np.isnan(item)):
            items.append("NULL")
        elif isinstance(item, (list, tuple, np.ndarray)):
            items.append(_pg_array(item))
        else:
            s = str(item).replace("\\", "\\\\").replace('"', '\\"')
            items.append(f'"{s}"')
    return "{" + ",".join(items) + "}"


def _map_nonnull(s: pd.Series, mask: np.ndarray, fn) -> pd.Series:
    arr = np.full(len(s), None, dtype=object)
    keep = ~mask
    if keep.any():
        # element by element into an object array: a list of bytes assigned at once becomes numpy's bytes_,
        # which strips trailing 0x00 bytes
        vals = s.to_numpy(dtype=object)
        for i in np.flatnonzero(keep):
            arr[i] = fn(vals[i])
    return pd.Series(arr, index=s.index, dtype=object)  # object: pandas 3 would infer str and make None NaN


def _calendar(s: pd.Series, col: Column, dialect: str) -> pd.Series:
    """Dates past 9999-12-31 (a PostgreSQL year 10000, or a sampled stamp a float rounded past the last one)
    as 9999-12-31 23:59:59.999999 in MariaDB/MySQL, which refuses them, said once per table.column; the
    marker stamps are left to :func:`_with_markers`."""
    from ..frames import MARKERS_US

    last = capabilities(dialect).last_date
    if last is None or not len(s) or isinstance(s.dtype, pd.DatetimeTZDtype) \
            or not pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s
    raw = s.astype("datetime64[us]").to_numpy().view("int64")
    top = np.datetime64(last.replace(" ", "T"), "us").astype("int64")
    past = (raw > top) & ~np.isin(raw, MARKERS_US) & ~s.isna().to_numpy()
    if not past.any():
        return s
    warn(col, "past 9999", f"{capabilities(dialect).label} dates end at {last[:10]}; later values are written as "
                           f"{last}")
    raw = raw.copy()
    raw[past] = top
    return pd.Series(raw.view("datetime64[us]"), index=s.index).where(~s.isna(), pd.NaT)


def _timestamps(s: pd.Series, col: Column, utc_naive: bool) -> pd.Series:
    ts = pd.to_datetime(s, utc=False) if not isinstance(s.dtype, pd.DatetimeTZDtype) else s
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        if utc_naive or not col.timezone:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    elif col.timezone and not utc_naive:
        ts = ts.dt.tz_localize("UTC")  # the contract says tz-aware columns carry UTC
    return ts


#: How a target without a table of its own in :attr:`dbsynth.dialects.Dialect.marker_text` writes the marker
#: stamps of the frame contract (infinity, -infinity, the zero date). The records say it per dialect:
#: PostgreSQL keeps infinities exactly and has no zero date (it becomes -infinity, which sorts where MariaDB's
#: zero date does); SQLite stores dates as text, so every marker keeps its text (read back as the same marker);
#: MariaDB has no infinity: they become its last/first date, said once per column in the log (a known
#: approximation), and the zero date stays '0000-00-00'.
_GENERIC_MARKERS = {st.DATE: ("infinity", "-infinity", "0000-00-00"),
                    st.TIMESTAMP: ("infinity", "-infinity", "0000-00-00 00:00:00")}


def _with_markers(text: pd.Series, s: pd.Series, col: Column, dialect: str) -> pd.Series:
    """``text`` (the formatted values of datetime series ``s``) with marker stamps in ``dialect``'s words."""
    from ..read import INFINITY_US, NEG_INFINITY_US, ZERO_DATE_US, marker_mask

    caps = capabilities(dialect)
    words = caps.marker_text.get(col.type) or _GENERIC_MARKERS[col.type]
    for stamp, word in zip((INFINITY_US, NEG_INFINITY_US, ZERO_DATE_US), words):
        mask = marker_mask(s, stamp)
        if mask.any():
            if stamp != ZERO_DATE_US and words[0] != "infinity":
                warn(col, "infinite date", f"{caps.label} have no infinite dates; 'infinity' is written as "
                                           f"{words[0]} and '-infinity' as {words[1]}")
            elif stamp == ZERO_DATE_US and word == "-infinity":
                warn(col, "zero date", f"{caps.label} has no zero date; '0000-00-00' is written as '-infinity'")
            text = text.astype(object)
            text[mask] = word
    return text


def _has_markers(s: pd.Series) -> bool:
    from ..frames import MARKERS_US

    if not pd.api.types.is_datetime64_any_dtype(s.dtype) or not len(s):
        return False
    us = (s.dt.tz_localize(None) if isinstance(s.dtype, pd.DatetimeTZDtype) else s).astype("datetime64[us]")
    raw = us.to_numpy().view("int64")
    return bool(np.isin(raw, MARKERS_US).any())


def _no_infinity(f: pd.Series, col: Column) -> np.ndarray:
    """Rows of float series ``f`` that MariaDB/MySQL cannot store (+-Infinity; NaN is NULL already): they are
    written as NULL in a nullable column (said once per table.column in the write's warnings), refused in a
    NOT NULL one."""
    bad = np.isinf(f.to_numpy(dtype="float64", na_value=np.nan))
    if bad.any():
        if not col.nullable:
            raise ConversionError(col.name, "an infinite float cannot be stored in MariaDB/MySQL and the column "
                                            "is NOT NULL: make it nullable in the target, or exclude the column")
        warn(col, "infinite float", "MariaDB/MySQL have no infinite floats; Infinity and -Infinity are written "
                                    "as NULL")
    return bad


def _nan_values(s: pd.Series, col: Column, dialect: str) -> np.ndarray:
    """Rows holding the float value NaN (not NULL: a masked ``Float64`` column keeps them apart), which
    MariaDB/MySQL and SQLite cannot store: NULL in a nullable column (with a warning), refused when NOT NULL."""
    if not isinstance(s.dtype, pd.Float64Dtype):
        return np.zeros(len(s), dtype=bool)
    values = s.array._data  # the float values under the NULL mask
    bad = np.isnan(values) & ~s.isna().to_numpy()
    if bad.any():
        name = capabilities(dialect).label
        if not col.nullable:
            raise ConversionError(col.name, f"a NaN float cannot be stored in {name} and the column is NOT NULL: "
                                            "make it nullable in the target, or exclude the column")
        warn(col, "nan float", f"{name} has no NaN float; NaN is written as NULL")
    return bad


def pg_column(s: pd.Series, col: Column) -> pd.Series:
    """One column made ready for ``to_csv`` into PostgreSQL ``COPY ... (FORMAT csv)``."""
    fam = col.type
    mask = pd.isna(s).to_numpy() if s.dtype == object else None
    if fam == st.INTEGER:
        return _ints(s, col)
    if fam == st.FLOAT:
        return s if s.dtype.kind == "f" else pd.to_numeric(s).astype("float64")
    if fam == st.BOOL:
        return s if s.dtype.kind == "b" else s.astype("boolean")
    if fam == st.DATE:
        d = pd.to_datetime(s)
        return _with_markers(d.dt.strftime("%Y-%m-%d"), d, col, POSTGRESQL.name)
    if fam == st.TIMESTAMP:
        # Naive UTC: the load transaction runs with TimeZone = UTC, and naive stamps format much faster.
        ts = _timestamps(s, col, utc_naive=True)
        if _has_markers(ts):
            return _with_markers(ts.dt.strftime("%Y-%m-%d %H:%M:%S.%f"), ts, col, POSTGRESQL.name)
        return ts
    if fam == st.TIME and s.dtype == object:
        # ISO text keeps the UTC offset of a time with time zone (arrow's time type would drop it)
        return _map_nonnull(s, _obj_null(s), lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
    if fam == st.INTERVAL:
        secs = pd.to_timedelta(s).dt.total_seconds()
        return secs.map(lambda v: f"{v!r} seconds", na_action="ignore")
    if fam == st.JSON:
        return _map_nonnull(s, pd.isna(s).to_numpy() if mask is None else mask, _json)
    if fam == st.ARRAY:
        return _map_nonnull(s, _obj_null(s), _pg_array)
    if fam == st.BINARY:
        return _map_nonnull(s, _obj_null(s), lambda v: "\\x" + bytes(v).hex())
    if fam == st.UUID and s.dtype == object:
        return _map_nonnull(s, _obj_null(s), str)
    if fam == st.OTHER and s.dtype == object:
        bit = (col.native_type or "").upper().startswith("BIT(") and any(isinstance(v, bytes) for v in s)
        return _map_nonnull(s, _obj_null(s), _bit_number if bit else _other_text)
    return s


def _obj_null(s: pd.Series) -> np.ndarray:
    # pd.isna on a list-valued cell would broadcast; test identity-style NULLs instead.
    return np.fromiter((v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v) for v in s),
                       dtype=bool, count=len(s))


def pg_csv(frame: pd.DataFrame, columns: list[Column]) -> tuple[str | bytes, str]:
    """The CSV text of ``frame`` for ``COPY`` and the NULL marker it uses.

    With pyarrow (multi-threaded C++ writer, about 5x pandas' ``to_csv``) every string is quoted and NULL is
    the bare empty field, so empty strings and NULL never mix. Without it (or for columns arrow cannot
    type), pandas writes the CSV with the marker ``\\N``, or a random token when a text value is exactly
    ``\\N``, so a real string is never read back as NULL.
    """
    out = pd.DataFrame({c.name: pg_column(frame[c.name], c) for c in columns})
    if pa_csv is not None:
        try:
            table = pa.Table.from_pandas(out, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError):
            table = None  # mixed Python objects arrow cannot type: the pandas writer handles them
        if table is not None:
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
            return sink.getvalue().to_pybytes(), ""
    null = "\\N"
    for c in out.columns:
        textual = out[c].dtype == object or pd.api.types.is_string_dtype(out[c].dtype)
        if textual and (out[c] == null).any():
            null = "NULL-" + uuid.uuid4().hex
            break
    buf = io.StringIO()
    out.to_csv(buf, header=False, index=False, na_rep=null, quoting=csv.QUOTE_MINIMAL, lineterminator="\n",
               date_format=None)
    return buf.getvalue(), null


def sa_Integer():  # the SQLAlchemy class, imported late (convert stays importable without it)
    import sqlalchemy as sa

    return sa.Integer


def _text_target(target: Any) -> bool:
    """The target column's SQLAlchemy type holds text (values of no portable family go there as text)."""
    import sqlalchemy as sa

    return target is not None and isinstance(target, sa.String) and not isinstance(target, sa.Enum)


def _time_text(v: Any, col: Column) -> Any:
    """A time of day for MariaDB, whose TIME has no zone: one with a UTC offset as UTC wall time (as timestamps
    with a zone are), said once per table.column."""
    import datetime as dt

    if isinstance(v, dt.time) and v.tzinfo is not None and v.utcoffset() is not None:
        warn(col, "time zone", "MariaDB/MySQL TIME has no time zone; times are written as UTC")
        stamp = dt.datetime.combine(dt.date(2000, 1, 1), v).astimezone(dt.UTC)
        return stamp.time().isoformat()
    return str(v)


def _decimal_text(v: Any) -> Any:
    """A decimal as plain digits ('1E+40' -> '10000000000000000000000000000000000000000'); NaN as 'NaN'."""
    import decimal

    if isinstance(v, decimal.Decimal):
        return format(v, "f") if v.is_finite() else str(v)
    if isinstance(v, float) and v != v:
        return None
    return v


def _bit_number(v: Any) -> Any:
    """MariaDB BIT bytes as the number they hold (into a target's integer column)."""
    return int.from_bytes(bytes(v), "big") if isinstance(v, (bytes, bytearray, memoryview)) else v


def _other_value(v: Any) -> Any:
    """A value of no portable family as the driver takes it into a column of the same native type: bytes
    (MariaDB BIT and geometry), numbers (YEAR, SQLite typeless columns) and text as they are."""
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, (int, float, str)):
        return v.item() if isinstance(v, np.generic) else v
    return str(v)


def python_columns(frame: pd.DataFrame, columns: list[Column], dialect: str,
                   targets: dict[str, Any] | None = None) -> list[list[Any]]:
    """Per column, a list of plain Python values (``None`` for NULL) for a DB-API ``executemany``.

    Args:
        frame: rows of one table.
        columns: the columns to convert, in insert order.
        dialect: ``sqlite`` or ``mysql``: SQLite stores dates/times as ISO text and has no Decimal.
        targets: the target columns' SQLAlchemy types by name, when known: a value of no portable family goes
            into a text column as text (bytes as hex), into its own native type as it is.
    """
    caps = capabilities(dialect)
    lite = caps.dates_as_text  # SQLite: ISO text for dates and times, no Decimal, int64 integers
    targets = targets or {}
    result = []
    for col in columns:
        s = frame[col.name]
        fam = col.type
        if fam in (st.JSON, st.ARRAY, st.BINARY) or s.dtype == object and fam not in (st.STRING, st.ENUM):
            mask = _obj_null(s) if s.dtype == object else pd.isna(s).to_numpy()
        else:
            mask = pd.isna(s).to_numpy()
        if fam == st.INTEGER:
            ints = _ints(s, col)
            vals = ints.tolist()
            if lite and str(ints.dtype) in ("uint64", "UInt64"):
                # SQLite integers are int64: BIGINT UNSIGNED goes there as its decimal text (a VARCHAR(20)
                # column, write/types.py), which keeps 18446744073709551615 exactly
                vals = [None if v is None or v is pd.NA else str(int(v)) for v in vals]
        elif fam == st.FLOAT:
            f = pd.to_numeric(s).astype("float64")
            if not caps.nan_floats:
                mask = mask | _nan_values(s, col, dialect)
            if not caps.infinite_floats:
                mask = mask | _no_infinity(f, col)
            vals = f.tolist()
        elif fam == st.DECIMAL:
            if not caps.infinite_floats and s.dtype != object:
                mask = mask | _no_infinity(pd.to_numeric(s).astype("float64"), col)
            if s.dtype == object and _text_target(targets.get(col.name)):
                vals = [_decimal_text(v) for v in s.tolist()]  # a decimal MariaDB cannot hold: its digits as text
            elif lite and s.dtype == object:
                # Decimal objects (wide decimals, read exactly): their digits as text (a TEXT column, types.py)
                vals = [_decimal_text(v) for v in s.tolist()]
            else:
                vals = pd.to_numeric(s).astype("float64").tolist() if (lite or s.dtype != object) else s.tolist()
        elif fam == st.BOOL:
            vals = s.astype("boolean").tolist()
        elif fam == st.DATE:
            d = _calendar(pd.to_datetime(s), col, dialect)
            vals = _with_markers(d.dt.strftime("%Y-%m-%d"), d, col, dialect).tolist()
        elif fam == st.TIMESTAMP:
            ts = _calendar(_timestamps(s, col, utc_naive=True), col, dialect)
            vals = _with_markers(ts.dt.strftime("%Y-%m-%d %H:%M:%S.%f"), ts, col, dialect).tolist()
        elif fam == st.TIME:
            # a zone the target's TIME cannot keep becomes UTC wall time; text (SQLite) keeps the offset
            as_text = functools.partial(_time_text, col=col) if not caps.time_zones and not lite else str
            vals = _map_nonnull(s, mask, as_text).tolist()
        elif fam == st.INTERVAL:
            vals = pd.to_timedelta(s).map(str, na_action="ignore").tolist()
        elif fam in (st.JSON, st.ARRAY):
            vals = _map_nonnull(s, mask, _json).tolist()
        elif fam == st.BINARY:
            vals = _map_nonnull(s, mask, bytes).tolist()
        elif fam == st.UUID:
            vals = _map_nonnull(s, mask, str).tolist()
        elif fam == st.OTHER:
            target = targets.get(col.name)
            if target is not None and isinstance(target, sa_Integer()):
                vals = _map_nonnull(s, mask, _bit_number).tolist()
            else:
                vals = _map_nonnull(s, mask, _other_text if _text_target(target) else _other_value).tolist()
        else:
            vals = s.tolist()
        if mask.any():
            for i in np.flatnonzero(mask):  # only the NULL cells, not every row
                vals[i] = None
        result.append(vals)
    return result
