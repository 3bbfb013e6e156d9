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
from ..model.columns import placeholder
from ..rules.checks import (
    CheckError,
    CheckState,
    compile_checks,
    failure_error,
    first_failure,
    pattern_of,
    satisfy,
)

__all__ = ["SeenKeys", "UniqueState", "repair", "tie_break_columns", "unique_hashes"]

# Families whose values are Python strings in a frame.
_STRING_FAMILIES = (st.STRING, st.ENUM)
# Columns of a multi-column unique constraint we can change to break a tie, best first.
_TIE_BREAK_FAMILIES = (st.STRING, st.INTEGER, st.FLOAT, st.DECIMAL, st.DATE, st.TIMESTAMP)


def repair(
    df: pd.DataFrame, table: Table, rng: np.random.Generator, unique_state: UniqueState | None = None,
    dialect: str | None = None, domains=None,
) -> pd.DataFrame:
    """Return a copy of ``df`` whose values the database will accept for ``table``.

    In order: strings cut to ``Column.length``; decimals rounded to ``Column.scale`` and clipped to what
    ``Column.precision`` allows; integers clipped to the ``Column.bits`` range (``Int64`` kept when NULLs
    remain); enum values outside ``Column.enum_values`` replaced by valid ones; NULLs of NOT NULL columns
    filled with values drawn from the column's other values (a placeholder of the type when there are
    none); duplicates of non-primary-key unique constraints made unique (strings get a short suffix that
    fits the length, floats and dates move to a free value nearby, else past the largest value handed out, as
    integers do at once).

    Then the table's CHECK constraints (:mod:`dbsynth.rules.checks`): failing rows are changed to satisfy
    them by construction where the shape is known, else redrawn from rows that pass; unique columns whose
    CHECK is a string pattern get new values drawn from the pattern instead of a suffix (a suffix would break
    it), and a string primary-key column with a pattern CHECK gets pattern values too (children reference
    the repaired frame). Checks and uniqueness are applied in turn until both hold.

    Columns of ``table`` missing from ``df`` (computed ones) and extra columns of ``df`` are left alone, and so
    are NULLs in NOT NULL foreign-key columns: a value made up there would point at no parent row (the engine
    drops such rows).

    Args:
        df: a sampled frame following the frame contract.
        table: the table it is for.
        rng: random source for the values drawn (repairs are deterministic given it).
        unique_state: for a table sampled in batches, what earlier batches handed out (one object per table,
            passed to every batch): unique constraints then hold across batches too. None: within ``df`` only.
        dialect: the source's dialect (``Metadata.dialect``), to read CHECK constraints in; None: each dialect
            is tried in turn.
        domains: ``Metadata.native_objects``: the CHECKs of PostgreSQL domains typing columns of ``table``
            are kept too (a same-dialect clone creates the domains). None: the table's own CHECKs only.

    Returns:
        The repaired frame (``df`` is not modified).

    Raises:
        DbsynthError: when a unique integer column has no room left in its bit width.
        CheckError: when rows still break an enforced CHECK constraint after the repairs, or when a unique
            column's pattern has no distinct value left.
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
            if _is_year(column):
                s = _fit_year(s)
        if column.enum_values:
            s = _fit_enum(s, column, rng)
        if not column.nullable and column.name not in fk_cols:
            s = _fill_nulls(s, column, rng)
        if s is not before:
            out[column.name] = s
    uniques = [c for c in table.unique_constraints if list(c.columns) != list(table.primary_key)]  # keys: the
    # key generator's business
    rules = compile_checks(table, dialect, domains) if table.check_constraints or domains else []
    if not rules:
        for constraint in uniques:
            _make_unique(out, table, constraint, unique_state, rng)
        return out
    return _repair_checks(out, table, rules, uniques, rng, unique_state)


# ---- CHECK constraints, with uniqueness ----------------------------------------------------------------------
#: Rounds of (CHECKs, then uniqueness) before the final verification: a value moved to make a row unique can
#: break a CHECK, and a value clipped into a CHECK's range can repeat another.
_CHECK_ROUNDS = 3


def _repair_checks(
    out: pd.DataFrame, table: Table, rules: list, uniques: list[UniqueConstraint], rng: np.random.Generator,
    state: UniqueState | None,
) -> pd.DataFrame:
    check_state = state.checks if state is not None else None
    patterns = {}
    for c in table.columns:
        found = pattern_of(rules, c.name) if c.name in out.columns else None
        if found is not None:
            patterns[c.name] = found
    fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
    # pattern columns whose values must be distinct and that repair keeps distinct itself: string key columns
    # (their pattern values replace the key generator's, so the engine's "distinct by construction" no longer
    # holds) and one-column unique constraints
    keyed: dict[str, list[str]] = {}
    for name in patterns:
        if name in fk_cols:
            continue
        if name in table.primary_key:
            keyed[name] = list(table.primary_key)
        elif any(list(u.columns) == [name] for u in table.unique_constraints):
            keyed[name] = [name]
    for _ in range(_CHECK_ROUNDS):
        out = satisfy(out, table, rules, rng, check_state)
        for name, key in keyed.items():
            _distinct_by_pattern(out, table, name, key, patterns[name], check_state, rng)
        for constraint in uniques:
            _make_unique(out, table, constraint, state, rng, patterns, commit=False)
        if first_failure(out, rules) is None:
            break
    failed = first_failure(out, rules)
    if failed is not None:
        raise failure_error(table, *failed)
    for constraint in uniques:
        _remember_unique(out, table, constraint, state)
    if check_state is not None:
        for key in keyed.values():
            h, full = unique_hashes(out, key)
            check_state.seen.setdefault(_key_name(key), SeenKeys()).add(h[full])
    return out


def _key_name(cols: list[str]) -> str:
    return "\x00".join(cols)


def _distinct_by_pattern(
    out: pd.DataFrame, table: Table, name: str, key: list[str], found, check_state, rng: np.random.Generator,
) -> None:
    """Rows whose ``key`` repeats an earlier row (of this batch or, through ``check_state``, of earlier ones)
    get new values of column ``name`` drawn from its CHECK pattern."""
    pattern, rule = found
    column = table.column(name)
    seen = check_state.seen.get(_key_name(key)) if check_state is not None else None
    for _ in range(_NEAR_ATTEMPTS + 6):
        h, full = unique_hashes(out, key)
        dup = np.ones(len(out), dtype=bool)
        dup[np.unique(h, return_index=True)[1]] = False
        dup &= full
        if seen is not None and len(seen):
            dup |= full & seen.contains(h)
        if not dup.any():
            return
        if key == [name]:
            _check_pattern_room(pattern, rule, column, table, int(full.sum()) + (len(seen) if seen else 0))
        out[name] = _pattern_values(out[name], dup, column, pattern, rng)
    raise CheckError(
        "could not draw distinct values that match the CHECK pattern", table=table.name, column=name,
        constraint=rule.name, hint="Sample fewer rows (a smaller scale), or set the table to 'mode: copy'.",
    )


def _check_pattern_room(pattern, rule, column: Column, table: Table, needed: int) -> None:
    space = pattern.space(column.length)
    if space is not None and needed > space:
        raise CheckError(
            f"the CHECK pattern allows {space} distinct values, fewer than the {needed} this unique column needs",
            table=table.name, column=column.name, constraint=rule.name,
            hint="Sample fewer rows (a smaller scale), or set the table to 'mode: copy'.",
        )


def _pattern_values(s: pd.Series, dup: np.ndarray, column: Column, pattern, rng: np.random.Generator) -> pd.Series:
    """``s`` with the rows ``dup`` given new values drawn from ``pattern``, none equal to a value of ``s`` nor
    to another new one (as far as draws allow: the caller checks again)."""
    count = int(dup.sum())
    cand = pattern.fresh(count * 4 + 8, rng, column.length)
    taken = set(pd.Series(s[~dup]).dropna().astype("str").str.rstrip().str.casefold())
    picked = []
    for v in cand:  # candidates are few (a multiple of the repeated rows)
        k = v.rstrip().casefold()
        if k not in taken:
            taken.add(k)
            picked.append(v)
            if len(picked) == count:
                break
    rows = np.flatnonzero(dup)[: len(picked)]
    s = s.astype(object).copy()
    s.iloc[rows] = picked
    return s


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
    if s.dtype == object and column.precision is None and column.scale is None:
        # Decimals past float64's range (the model's scaled decimals) have no declared bounds to fit
        return s
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


#: What a MariaDB/MySQL YEAR holds besides 0 (the zero year).
_YEAR_RANGE = (1901, 2155)


def _is_year(column: Column) -> bool:
    return (column.native_type or "").upper().startswith("YEAR")


def _fit_year(s: pd.Series) -> pd.Series:
    """YEAR values clipped to 1901..2155, 0 kept: a model's range between the zero year and 1901 (its low
    quantile averages 0 with the first years) would be rejected by the column."""
    x = _floats(s)
    lo, hi = _YEAR_RANGE
    bad = ~np.isnan(x) & (x != 0) & ((x < lo) | (x > hi))
    if not bad.any():
        return s
    out = s.copy()
    out[bad] = np.clip(x[bad], lo, hi).astype(np.int64)
    return out


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


def _no_room(message: str, table: Table, column: Column, constraint: Any, hint: str) -> DbsynthError:
    """The error of a unique constraint the column's type leaves no room to keep."""
    return DbsynthError(message, table=table.name, column=column.name, constraint=constraint, hint=hint)


@dataclass
class UniqueState:
    """What :func:`repair` keeps between the batches of one table so that unique constraints hold across them.

    Attributes:
        exempt: columns whose values are distinct over the whole table by construction (sequential keys,
            suffixed PII): a constraint holding one is unique already and is not tracked.
        seen: per constraint, the hashes of the values earlier batches kept.
        top: per column, the largest number or date handed out so far (values moved to make room go past it).
        suffixes: string suffixes handed out so far (each suffix is used once per table).
        checks: what the CHECK constraints' repair keeps between batches (pattern values handed out, rows
            that pass a redrawn rule).
    """

    exempt: frozenset[str] = frozenset()
    seen: dict[str, SeenKeys] = field(default_factory=dict)
    top: dict[str, Any] = field(default_factory=dict)
    suffixes: int = 0
    checks: CheckState = field(default_factory=CheckState)


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
    patterns: dict | None = None, commit: bool = True,
) -> None:
    """Make the rows of ``out`` distinct on ``constraint`` (and from earlier batches' rows through ``state``).

    ``patterns``: ``{column: (pattern, rule)}`` of CHECK patterns; a repeated value of such a column is
    replaced by a value drawn from its pattern instead of suffixed. ``commit``: remember this batch's values
    in ``state`` (False while CHECK repairs may still change them: :func:`_remember_unique` does it after).
    """
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
            if seen is not None and commit:
                seen.add(h[full])
                if target.type != st.STRING and out[target.name].notna().any():
                    _keep_top(state, target, out[target.name].max())  # later batches move values past it
            return
        if patterns and target.name in patterns:
            pattern, rule = patterns[target.name]
            if cols == [target.name]:
                _check_pattern_room(pattern, rule, target, table, int(full.sum()) + (len(seen) if seen else 0))
            out[target.name] = _pattern_values(out[target.name], dup, target, pattern, rng)
            continue
        out[target.name] = _separate(out[target.name], dup, target, table, name, attempt, rng, state)
    if patterns and target.name in patterns:
        raise CheckError(
            "could not draw distinct values that match the CHECK pattern", table=table.name, column=target.name,
            constraint=patterns[target.name][1].name,
            hint="Sample fewer rows (a smaller scale), or set the table to 'mode: copy'.",
        )
    raise DbsynthError(
        "could not make the values unique", table=table.name, constraint=name,
        hint="Relax the unique constraint or sample fewer rows.",
    )


def _remember_unique(out: pd.DataFrame, table: Table, constraint: UniqueConstraint, state: UniqueState | None) -> None:
    """Remember the values of ``out`` on ``constraint`` in ``state`` (what ``_make_unique(commit=True)`` does
    once the values are final)."""
    if state is None:
        return
    cols = [c for c in constraint.columns if c in out.columns]
    if len(cols) != len(constraint.columns) or state.exempt & set(cols):
        return
    candidates = tie_break_columns(table, constraint)
    if not candidates:
        return
    target = table.column(candidates[0])
    h, full = unique_hashes(out, cols)
    state.seen.setdefault(constraint.name or "_".join(cols), SeenKeys()).add(h[full])
    if target.type != st.STRING and out[target.name].notna().any():
        _keep_top(state, target, out[target.name].max())


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
                raise _no_room(f"values cannot be made unique within length {column.length}", table, column,
                               constraint, "Widen the column or sample fewer rows.")
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
            raise _no_room(f"no room left in a {bits}-bit integer to make values unique", table, column, constraint,
                           "Use a wider integer type or sample fewer rows.")
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
