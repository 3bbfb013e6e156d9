"""Make a sampled frame acceptable to the database: :func:`repair`.

The model samples values that follow the source's distributions, but a database also enforces types and
constraints the copula does not know about: varchar lengths, decimal precision, integer widths, enum
domains, NOT NULL and UNIQUE. Each repair below is vectorised (whole-column numpy/pandas operations) and
changes only the values that violate a rule, so the learned distributions are disturbed as little as
possible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DbsynthError
from ..metadata import sdtypes as st
from ..metadata.records import Column, Table, UniqueConstraint
from .generators import placeholder

__all__ = ["SeenKeys", "UniqueState", "repair", "tie_break_columns", "unique_hashes"]

# Families whose values are Python strings in a frame.
_STRING_FAMILIES = (st.STRING, st.ENUM)
# Columns of a multi-column unique constraint we can change to break a tie, best first.
_TIE_BREAK_FAMILIES = (st.STRING, st.INTEGER, st.FLOAT, st.DECIMAL, st.DATE, st.TIMESTAMP)


def repair(
    df: pd.DataFrame, table: Table, rng: np.random.Generator, unique_state: UniqueState | None = None,
) -> pd.DataFrame:
    """Return a copy of ``df`` whose values the database will accept for ``table``.

    In order: strings cut to ``Column.length``; decimals rounded to ``Column.scale`` and clipped to what
    ``Column.precision`` allows; integers clipped to the ``Column.bits`` range (``Int64`` kept when NULLs
    remain); enum values outside ``Column.enum_values`` replaced by valid ones; NULLs of NOT NULL columns
    filled with values drawn from the column's other values (a placeholder of the type when there are
    none); duplicates of non-primary-key unique constraints made unique (strings get a short suffix that
    fits the length, floats and dates move to a free value nearby, else past the largest value handed out, as
    integers do at once).

    Columns of ``table`` missing from ``df`` (computed ones) and extra columns of ``df`` are left alone, and so
    are NULLs in NOT NULL foreign-key columns: a value made up there would point at no parent row (the engine
    drops such rows).

    Args:
        df: a sampled frame following the frame contract.
        table: the table it is for.
        rng: random source for the values drawn (repairs are deterministic given it).
        unique_state: for a table sampled in batches, what earlier batches handed out (one object per table,
            passed to every batch): unique constraints then hold across batches too. None: within ``df`` only.

    Returns:
        The repaired frame (``df`` is not modified).

    Raises:
        DbsynthError: when a unique integer column has no room left in its bit width.
    """
    # shallow: every repair below builds a new column and only changed columns are set, so ``df``'s data is
    # never written (a deep copy of every column cost more than the repairs on most batches)
    out = df.copy(deep=False)
    # a NULL reference is the engine's to resolve (it drops the row, or the table has no parent rows): a value
    # drawn here would point at no parent row
    fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
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
        if not column.nullable and column.name not in fk_cols:
            s = _fill_nulls(s, column, rng)
        if s is not before:
            out[column.name] = s
    for constraint in table.unique_constraints:
        if list(constraint.columns) == list(table.primary_key):
            continue  # keys are the key generator's business
        _make_unique(out, table, constraint, unique_state, rng)
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
class SeenKeys:
    """Hashes of the values earlier batches used, for membership tests (a log-structured set).

    Kept as a few sorted arrays whose sizes at least double from newest to oldest: adding a batch merges only
    arrays of similar size, so adding ``N`` hashes in any number of batches costs ``O(N log N)`` in all (one
    sorted array re-merged every batch would cost ``O(N)`` per batch), and a lookup is one binary search per
    array.
    """

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(r) for r in self._runs)

    def add(self, hashes: np.ndarray) -> None:
        """Remember ``hashes`` (uint64)."""
        run = np.unique(np.asarray(hashes, dtype=np.uint64))
        while self._runs and len(self._runs[-1]) <= 2 * len(run):
            run = np.union1d(self._runs.pop(), run)
        if len(run):
            self._runs.append(run)

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        """Whether each of ``hashes`` was added before."""
        hashes = np.asarray(hashes, dtype=np.uint64)
        out = np.zeros(len(hashes), dtype=bool)
        for run in self._runs:
            i = np.minimum(np.searchsorted(run, hashes), len(run) - 1)
            out |= run[i] == hashes
        return out


@dataclass
class UniqueState:
    """What :func:`repair` keeps between the batches of one table so that unique constraints hold across them.

    Attributes:
        exempt: columns whose values are distinct over the whole table by construction (sequential keys,
            suffixed PII): a constraint holding one is unique already and is not tracked.
        seen: per constraint, the hashes of the values earlier batches kept.
        top: per column, the largest number or date handed out so far (values moved to make room go past it).
        suffixes: string suffixes handed out so far (each suffix is used once per table).
    """

    exempt: frozenset[str] = frozenset()
    seen: dict[str, SeenKeys] = field(default_factory=dict)
    top: dict[str, Any] = field(default_factory=dict)
    suffixes: int = 0


def unique_hashes(frame: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """One uint64 hash per row of its values of ``cols``, and whether the row has no NULL in them.

    Values are compared as the database compares them, on the safe side: numbers by value (``5`` and ``5.0``
    hash alike, whatever the batch's dtype), dates by instant, strings without case and trailing blanks
    (case-insensitive collations, PAD SPACE) so that two values a target could take as equal never pass.
    """
    full = np.ones(len(frame), dtype=bool)
    parts = {}
    for c in cols:
        s = frame[c]
        full &= ~s.isna().to_numpy()
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            parts[c] = pd.Series(pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan))
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            t = s.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
            parts[c] = pd.Series(t.to_numpy(dtype="datetime64[ns]").view("int64"))
        else:
            parts[c] = pd.Series(s.astype("object").astype("str").str.rstrip().str.casefold().to_numpy(dtype=object))
    hashed = pd.util.hash_pandas_object(pd.DataFrame(parts), index=False).to_numpy()
    return hashed, full


def tie_break_columns(table: Table, constraint: UniqueConstraint) -> list[str]:
    """Columns of ``constraint`` whose values :func:`repair` may change to make rows distinct, best first:
    never a reference (the parent row would be lost), only types with room for new values."""
    fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
    candidates = [c for c in constraint.columns if c not in fk_cols and table.column(c).type in _TIE_BREAK_FAMILIES]
    return sorted(candidates, key=lambda c: _TIE_BREAK_FAMILIES.index(table.column(c).type))


def _make_unique(
    out: pd.DataFrame, table: Table, constraint: UniqueConstraint, state: UniqueState | None, rng: np.random.Generator,
) -> None:
    cols = [c for c in constraint.columns if c in out.columns]
    if len(cols) != len(constraint.columns):
        return
    name = constraint.name or "_".join(cols)
    if state is not None and state.exempt & set(cols):
        return  # one of its columns is distinct over the whole table already
    # SQL treats NULLs as distinct: rows with a NULL in the constraint never clash.
    candidates = tie_break_columns(table, constraint)
    if not candidates:
        return  # only foreign keys (or untouchable types): the engine drops the rows that repeat
    target = table.column(candidates[0])
    seen = state.seen.setdefault(name, SeenKeys()) if state is not None else None
    for attempt in range(_NEAR_ATTEMPTS + 6):
        h, full = unique_hashes(out, cols)
        dup = np.zeros(len(out), dtype=bool)
        dup[np.unique(h, return_index=True)[1]] = True
        dup = ~dup & full  # repeats an earlier row of the batch
        if seen is not None and len(seen):
            dup |= full & seen.contains(h)
        if not dup.any():
            if seen is not None:
                seen.add(h[full])
                if target.type != st.STRING and out[target.name].notna().any():
                    _keep_top(state, target, out[target.name].max())  # later batches move values past it
            return
        out[target.name] = _separate(out[target.name], dup, target, table, name, attempt, rng, state)
    raise DbsynthError(
        "could not make the values unique", table=table.name, constraint=name,
        hint="Relax the unique constraint or sample fewer rows.",
    )


#: Attempts that first move a repeated float or date to a free value near it (the distribution barely
#: changes); later attempts move it past every value handed out so far, which always succeeds.
_NEAR_ATTEMPTS = 6


def _separate(
    s: pd.Series, dup: np.ndarray, column: Column, table: Table, constraint: str, attempt: int,
    rng: np.random.Generator, state: UniqueState | None = None,
) -> pd.Series:
    """New values for the rows flagged ``dup`` that no other row of ``s`` (nor of earlier batches) has."""
    count = int(dup.sum())
    if column.type == st.STRING:
        # The suffix ~<n> is used once per table (a counter carried across batches); the base is cut so that
        # it fits the length.
        first = state.suffixes if state is not None else 0
        if state is not None:
            state.suffixes += count
        positions = pd.Series(np.arange(first, first + count)).astype("str")
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
                    hint="Widen the column or sample fewer rows.",
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
        if attempt < _NEAR_ATTEMPTS:
            s[dup] = _near(s, dup, step * _offsets(rng, count, attempt))
            return s
        top = _running_top(s, column, state)
        s[dup] = top + step * np.arange(1, count + 1)
        _keep_top(state, column, s[dup].max())
        return s
    if column.type == st.INTEGER:
        bits = column.bits or 64
        limit = 2 ** (bits - 1) - 1
        # integers go past the top at once: a unique integer column is usually dense (numbers handed out in
        # sequence), where a free value nearby is rare
        top = _running_top(s, column, state)
        top = 0 if pd.isna(top) else int(top)
        if top + count > limit:
            raise DbsynthError(
                f"no room left in a {bits}-bit integer to make values unique",
                table=table.name,
                column=column.name,
                constraint=constraint,
                hint="Use a wider integer type or sample fewer rows.",
            )
        s = s.copy()
        s[dup] = top + np.arange(1, count + 1, dtype=np.int64)
        _keep_top(state, column, top + count)
        return s
    x = s.to_numpy(dtype="float64", na_value=np.nan).copy()
    step = _resolution(x, column)
    if attempt < _NEAR_ATTEMPTS:
        x[dup] = _near(pd.Series(x), dup, step * _offsets(rng, count, attempt))
    else:
        top = _running_top(pd.Series(x), column, state)
        top = 0.0 if pd.isna(top) else float(top)
        x[dup] = np.floor(top) + np.arange(1, count + 1, dtype=np.float64)
        _keep_top(state, column, float(x[dup].max()))
    if column.scale is not None:
        x = np.round(x, column.scale)
    return pd.Series(x, index=s.index, name=s.name)


def _near(s: pd.Series, dup: np.ndarray, offsets) -> np.ndarray:
    """New values for the rows ``dup`` of ``s``: moved by ``offsets``, the other way where that would leave
    the range of ``s`` (so moves never widen it)."""
    lo, hi = s.min(), s.max()
    old = s[dup].reset_index(drop=True)
    up, down = old + offsets, old - offsets
    return up.where((up >= lo) & (up <= hi), down).to_numpy()


def _offsets(rng: np.random.Generator, count: int, attempt: int) -> np.ndarray:
    """Non-zero steps of at most 4**attempt in either direction (random signs and sizes)."""
    width = 4**attempt
    return rng.integers(1, width + 1, count) * rng.choice(np.array([-1, 1]), count)


def _resolution(x: np.ndarray, column: Column) -> float:
    """The step between values of a float column: its declared scale, else the fewest decimals that write
    every value exactly (0.1 for amounts rounded to a decimal), at most nine."""
    if column.scale is not None:
        return 10.0 ** -column.scale
    vals = x[np.isfinite(x)]
    for d in range(10):
        if np.allclose(np.round(vals, d), vals, rtol=0, atol=1e-12 * max(1.0, float(np.abs(vals).max(initial=0)))):
            return 10.0**-d
    return 1e-9


def _running_top(s: pd.Series, column: Column, state: UniqueState | None):
    """The largest value of ``s`` and of everything earlier batches handed out for ``column``."""
    top = s.max()
    if state is not None and column.name in state.top:
        prev = state.top[column.name]
        top = prev if pd.isna(top) or prev > top else top
    return top


def _keep_top(state: UniqueState | None, column: Column, value) -> None:
    if state is None:
        return
    prev = state.top.get(column.name)
    if prev is None or value > prev:
        state.top[column.name] = value
