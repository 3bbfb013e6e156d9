"""Make a sampled frame acceptable to the database: :func:`repair`.

The model samples values that follow the source's distributions, but a database also enforces types and
constraints the copula does not know about: varchar lengths, decimal precision, integer widths, enum
domains, NOT NULL and UNIQUE. Each repair below is vectorised (whole-column numpy/pandas operations) and
changes only the values that violate a rule, so the learned distributions are disturbed as little as
possible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DbsynthError
from ..metadata import sdtypes as st
from ..metadata.records import Column, Table, UniqueConstraint
from .generators import placeholder

__all__ = ["repair"]

# Families whose values are Python strings in a frame.
_STRING_FAMILIES = (st.STRING, st.ENUM)
# Columns of a multi-column unique constraint we can change to break a tie, best first.
_TIE_BREAK_FAMILIES = (st.STRING, st.INTEGER, st.FLOAT, st.DECIMAL, st.DATE, st.TIMESTAMP)


def repair(df: pd.DataFrame, table: Table, rng: np.random.Generator) -> pd.DataFrame:
    """Return a copy of ``df`` whose values the database will accept for ``table``.

    In order: strings cut to ``Column.length``; decimals rounded to ``Column.scale`` and clipped to what
    ``Column.precision`` allows; integers clipped to the ``Column.bits`` range (``Int64`` kept when NULLs
    remain); enum values outside ``Column.enum_values`` replaced by valid ones; NULLs of NOT NULL columns
    filled with values drawn from the column's other values (a placeholder of the type when there are
    none); duplicates of non-primary-key unique constraints made unique (strings get a short suffix that
    fits the length, numbers and dates are moved past the column's maximum).

    Columns of ``table`` missing from ``df`` (computed ones) and extra columns of ``df`` are left alone.

    Args:
        df: a sampled frame following the frame contract.
        table: the table it is for.
        rng: random source for the values drawn (repairs are deterministic given it).

    Returns:
        The repaired frame (``df`` is not modified).

    Raises:
        DbsynthError: when a unique integer column has no room left in its bit width.
    """
    # shallow: every repair below builds a new column and only changed columns are set, so ``df``'s data is
    # never written (a deep copy of every column cost more than the repairs on most batches)
    out = df.copy(deep=False)
    for column in table.columns:
        if column.name not in out.columns or column.computed:
            continue
        s = before = out[column.name]
        if isinstance(s.dtype, pd.CategoricalDtype):
            # Categoricals refuse values outside their categories (suffixes, replacements): use plain values.
            s = s.astype(object).astype("str") if column.type in _STRING_FAMILIES else s.astype(object)
        if column.type in _STRING_FAMILIES and column.length is not None:
            s = _cut(s, column.length)
        elif column.type == st.DECIMAL:
            s = _fit_decimal(s, column)
        elif column.type == st.INTEGER:
            s = _fit_integer(s, column)
        if column.enum_values:
            s = _fit_enum(s, column, rng)
        if not column.nullable:
            s = _fill_nulls(s, column, rng)
        if s is not before:
            out[column.name] = s
    for constraint in table.unique_constraints:
        if list(constraint.columns) == list(table.primary_key):
            continue  # keys are the key generator's business
        _make_unique(out, table, constraint)
    return out


# ---- per-column repairs --------------------------------------------------------------------------------
def _cut(s: pd.Series, length: int) -> pd.Series:
    if _max_length(s) <= length:
        return s
    return s.str.slice(0, length)


def _max_length(s: pd.Series) -> int:
    """Longest value of a string column, in characters (0 when empty or all NULL).

    Not ``s.str.len().max()``: that builds a Series per column per batch; Arrow strings are measured by
    pyarrow, Python strings by ``len`` (the values are nearly always ``str`` or None: anything else goes the
    pandas way).
    """
    if isinstance(s.dtype, pd.StringDtype) and hasattr(s.array, "__arrow_array__"):
        return int(pc.max(pc.utf8_length(pa.array(s.array))).as_py() or 0)
    try:
        return max(map(len, filter(None, s.to_numpy(dtype=object, copy=False))), default=0)
    except TypeError:
        lengths = s.str.len()
        return int(lengths.max()) if lengths.notna().any() else 0


def _fit_decimal(s: pd.Series, column: Column) -> pd.Series:
    x = _floats(s)
    if column.scale is not None:
        x = np.round(x, column.scale)
    if column.precision is not None:
        scale = column.scale or 0
        limit = 10.0 ** (column.precision - scale) - 10.0**-scale
        x = np.clip(x, -limit, limit)
    return pd.Series(x, index=s.index, name=s.name)


def _floats(s: pd.Series) -> np.ndarray:
    """``s`` as float64 values, NaN for NULLs and for what is not a number."""
    if s.dtype == np.float64:
        return s.to_numpy()
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _fit_integer(s: pd.Series, column: Column) -> pd.Series:
    bits = column.bits or 64
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if s.dtype.kind == "f" or s.dtype == object:
        # Floats from a transform: round first, and clip in float space before casting so that values
        # beyond int64 do not wrap around (float64 cannot hold 2**63 - 1: a 64-bit column stays strictly
        # inside). numpy, not Series.clip: this runs on every integer column of every batch.
        x = _floats(s)
        flo, fhi = (-(2.0**63) + 1024, 2.0**63 - 1024) if bits == 64 else (float(lo), float(hi))
        x = np.clip(np.round(x), flo, fhi)
        out = pd.Series(x, index=s.index, name=s.name)
        return out.astype("Int64") if np.isnan(x).any() else out.astype("int64")
    if bits >= 64 or not len(s):
        return s
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":  # numpy integers: no NULLs to skip
        x = s.to_numpy()
        if x.min() < lo or x.max() > hi:
            s = s.clip(lo, hi)
    elif s.notna().any() and (s.min() < lo or s.max() > hi):
        s = s.clip(lo, hi)
    return s


def _fit_enum(s: pd.Series, column: Column, rng: np.random.Generator) -> pd.Series:
    allowed = list(column.enum_values or [])
    bad = s.notna() & ~s.isin(allowed)
    if not bad.any():
        return s
    # Replacements keep the frequencies of the valid values sampled; uniform when there are none.
    valid = s[s.notna() & ~bad].to_numpy(dtype=object)
    pool = valid if len(valid) else np.asarray(allowed, dtype=object)
    s = s.astype(object).copy()
    s[bad] = pool[rng.integers(len(pool), size=int(bad.sum()))]
    return s.astype("str") if column.type in _STRING_FAMILIES else s


def _fill_nulls(s: pd.Series, column: Column, rng: np.random.Generator) -> pd.Series:
    if not isinstance(s.dtype, np.dtype):
        nulls = s.isna().to_numpy()
    elif s.dtype.kind in "iub":  # numpy integers and booleans hold no NULL
        return s
    else:
        nulls = pd.isna(s.to_numpy())
    count = int(nulls.sum())
    if not count:
        return s
    present = s[~nulls]
    if len(present):
        fill = present.iloc[rng.integers(len(present), size=count)].to_numpy()
    else:
        fill = placeholder(column, count, rng).to_numpy()
    s = s.copy()
    if s.dtype == object or column.type in (st.JSON, st.ARRAY, st.BINARY, st.TIME, st.OTHER):
        s = s.astype(object)
    s[nulls] = fill
    if column.type == st.INTEGER and s.dtype == "Int64":
        s = s.astype("int64")
    return s


# ---- unique constraints --------------------------------------------------------------------------------
def _make_unique(out: pd.DataFrame, table: Table, constraint: UniqueConstraint) -> None:
    cols = [c for c in constraint.columns if c in out.columns]
    if len(cols) != len(constraint.columns):
        return
    name = constraint.name or "_".join(cols)
    fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
    # SQL treats NULLs as distinct: rows with a NULL in the constraint never clash.
    candidates = [
        c for c in cols if c not in fk_cols and table.column(c).type in _TIE_BREAK_FAMILIES
    ]
    candidates.sort(key=lambda c: _TIE_BREAK_FAMILIES.index(table.column(c).type))
    if not candidates:
        return  # only foreign keys (or untouchable types): changing them would break references
    target = table.column(candidates[0])
    for attempt in range(8):
        frame = out[cols]
        dup = frame.notna().all(axis=1) & frame.duplicated(keep="first")
        if not dup.any():
            return
        out[target.name] = _separate(out[target.name], dup.to_numpy(), target, table, name, attempt)
    raise DbsynthError("could not make the values unique", table=table.name, constraint=name)


def _separate(
    s: pd.Series, dup: np.ndarray, column: Column, table: Table, constraint: str, attempt: int
) -> pd.Series:
    """New values for the rows flagged ``dup`` that no other row of ``s`` has."""
    count = int(dup.sum())
    if column.type == st.STRING:
        # The suffix ~<n> is unique per row (row positions); the base is cut so that it fits the length.
        positions = pd.Series(np.flatnonzero(dup)).astype("str")
        suffix = ("~" if attempt == 0 else f"~{attempt}~") + positions
        base = s[dup].astype("str").reset_index(drop=True)
        if column.length is not None:
            room = column.length - suffix.str.len().to_numpy()
            if (room < 0).any():
                raise DbsynthError(
                    f"values cannot be made unique within length {column.length}",
                    table=table.name,
                    column=column.name,
                    constraint=constraint,
                )
            over = base.str.len().to_numpy() > room
            for size in np.unique(room[over]):  # a handful of sizes (digit counts): one cut per size
                rows = over & (room == size)
                base[rows] = base[rows].str.slice(0, int(size))
        s = s.copy()
        s[dup] = (base + suffix).to_numpy(dtype=object)
        return s
    if column.type in (st.DATE, st.TIMESTAMP):
        step = pd.Timedelta(days=1) if column.type == st.DATE else pd.Timedelta(seconds=1)
        s = s.copy()
        s[dup] = s.max() + step * np.arange(1, count + 1)
        return s
    top = s.max()
    top = 0 if pd.isna(top) else top
    if column.type == st.INTEGER:
        bits = column.bits or 64
        if int(top) + count > 2 ** (bits - 1) - 1:
            raise DbsynthError(
                f"no room left in a {bits}-bit integer to make values unique",
                table=table.name,
                column=column.name,
                constraint=constraint,
            )
        s = s.copy()
        s[dup] = int(top) + np.arange(1, count + 1, dtype=np.int64)
        return s
    s = s.copy()
    s[dup] = float(np.floor(top)) + np.arange(1, count + 1, dtype=np.float64)
    return s
