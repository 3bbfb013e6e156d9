"""Rules kept within one table's sampled rows (issue 17): :func:`keep`.

The sampling engine calls :func:`keep` once per batch of a table, after the modelled columns are drawn and the
references set, before :func:`dbsynth.sample.repair.repair`. It changes only the rows that break a rule, and
only the columns the rule names, never a primary-key or foreign-key column, so that what the model learned
survives. Every kind is kept by construction, vectorised (a rule that already holds costs one check):

* :class:`~.records.Order` ``low <= high`` (``<`` when strict), where both are set: the rules of a table are
  taken in topological order of their columns. First each broken row's ``high`` goes to ``low`` plus a gap drawn
  from the rule's ``gaps`` quantiles (a uniform quantile, interpolated) or, without them, from the gaps of the
  rows that keep it; highs only move up, so a fix never breaks an edge fixed before it in that order. Rows whose
  ``high`` cannot move (a key, or no room below the column's bound) then move ``low`` down to ``high`` minus a
  gap, in reverse order (lows only move down). A moved value lands on the column's grid (integers, the decimal
  scale, whole days for dates, the declared fractional seconds of timestamps), on its ``Increment`` step and
  ``Domain`` values and within its ``Bound``, so that fixing one rule does not break those. Strict: the gap is
  at least one step (1, 10^-scale, a day, a microsecond or the declared precision, a tiny relative amount for
  floats). Gap units: numbers; microseconds for timestamps, days when both columns are dates.
* :class:`~.records.Bound`: rows outside take the value of a random row inside (a clip would pile them up at
  the bound), clipped (one step inside when strict) when no row is inside. ``low``/``high`` of a date or
  timestamp column are microseconds since 1970 (as :mod:`~.evaluate` reads them).
* :class:`~.records.Domain`: values outside the domain take its nearest value (numbers; other values a random
  valid row's value).
* :class:`~.records.Increment`: the nearest multiple of ``step`` (integer columns the nearest integer multiple).
* :class:`~.records.OneHot`: rows not exactly one 1 and the rest 0: the largest value becomes the 1.
* :class:`~.records.Dependency`: each row takes the dependent value its determinant maps to: the rule's
  ``pairs``, else the first value seen for that determinant (in earlier batches, through :class:`KeepState`,
  else in this frame). Chains (a -> b -> c) in topological order.
* :class:`~.records.Combination`: rows whose combination is not in ``combos`` take the combination of a random
  row that has one (or a random combination; when some of the columns are keys, a combination that agrees with
  them); an empty ``combos`` (not learned) keeps nothing.
* :class:`~.records.ParentSum`: per value of ``by`` the values are scaled so that their sum is at most (exact:
  equal to) the bound, then rounded: for ``<=`` down onto the values the column may take (its grid,
  Increment step, Domain); for ``==`` integers and decimals to the nearest, the largest value taking the
  remainder (never going below 0). With a :class:`KeepState` the sums of earlier batches are remembered: a
  later batch gets what is left of the bound. An exact sum can only be completed within one batch: the engine's
  batches hold whole parents of the driving key, so exact sums hold when ``by`` is the driving key; a parent
  already met in an earlier batch keeps ``<=`` what is left (which is 0 after an exact sum: its later rows
  take 0).
* :class:`~.records.Custom`: the user's class (:func:`~.custom.load_custom`); failing rows are first given to
  its ``reverse_transform`` (when it has one), then take the rule's columns from random valid rows, up to 8
  rounds; rows still failing raise :class:`KeepError`.

NULL: a row with a NULL in a rule's columns is not constrained by it (as SQL treats CHECKs; for Combination a
NULL is a value when ``combos`` holds one) and NULLs are never filled. After all kinds the pass is repeated
(checking only rules whose columns changed) up to 4 rounds until every rule holds; a rule still broken is left
to the verification (only Custom raises). Other kinds (Unique, SameAncestor, Aggregate, Copied, Check) are the
engine's and are ignored here.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from ..errors import DbsynthError
from ..frames import MARKERS_US, utc_microseconds
from ..metadata import sdtypes as st
from ..metadata.records import Column, Table
from .custom import load_custom
from .records import (
    Bound,
    Combination,
    Custom,
    Dependency,
    Domain,
    Increment,
    OneHot,
    Order,
    ParentSum,
    Rule,
)

__all__ = ["MEMORY_ENTRIES", "KeepError", "KeepState", "keep"]

log = logging.getLogger("dbsynth")

#: Full passes over the rules (a fix of one kind can break another naming the same column).
_ROUNDS = 4
#: Rounds of redrawing the rows that fail a custom constraint from rows that pass.
_REDRAW_ROUNDS = 8
#: Valid rows (a rule's columns) kept between batches, for a batch where no row keeps the rule.
_POOL_ROWS = 256
#: Entries a rule remembers across batches (first values per determinant, running sums per parent); past it,
#: new keys are kept within their frame only (memory stays bounded on any table size).
MEMORY_ENTRIES = 1_000_000

_DAY_US = 86_400_000_000
# the writable range of dates and timestamps (years 1..9999) in microseconds; the marker stamps lie outside
_MIN_US = -62135596800_000000
_MAX_US = 253402300799_999999
_I64_MAX = int(np.iinfo(np.int64).max)
_I64_MIN = int(np.iinfo(np.int64).min)
_MARKERS = np.array(MARKERS_US, dtype="int64")

_WITHIN = (Order, Bound, Domain, Dependency, Combination, Increment, OneHot, ParentSum, Custom)


class KeepError(DbsynthError):
    """Sampled rows break a rule that could not be kept (a custom constraint whose failing rows stay invalid)."""


@dataclass
class KeepState:
    """What one table's batches share for its rules (one object per table, passed to every batch).

    Attributes:
        first_seen: per Dependency rule (by name), the dependent value each determinant value (a scalar, or a
            tuple for several columns) took first, for values not in the rule's pairs.
        sums: per ParentSum rule, the running sum of each parent key (scalar or tuple) over earlier batches.
        pools: per rule, up to 256 rows (its columns) that kept it, for a batch where none does.
        gaps: per Order rule without learned gaps, up to 256 gaps of rows that kept it.
        customs: the loaded instance of each Custom rule (imported and built once per table).
        full: rules whose memory reached :data:`MEMORY_ENTRIES` (logged once).
    """

    first_seen: dict[str, dict[Any, Any]] = field(default_factory=dict)
    sums: dict[str, dict[Any, float]] = field(default_factory=dict)
    pools: dict[str, pd.DataFrame] = field(default_factory=dict)
    gaps: dict[str, np.ndarray] = field(default_factory=dict)
    customs: dict[str, Any] = field(default_factory=dict)
    full: set[str] = field(default_factory=set)


# ---- columns: how their values are read as numbers and written back ----------------------------------------
@dataclass(frozen=True)
class _Info:
    """How one column's values are compared and changed."""

    name: str
    kind: str  # "num" (float64 values), "time" (int64 microseconds, UTC), "other" (labels)
    integer: bool
    grid: float  # the step between values: 1 for integers, 10^-scale for decimals, us for times; 0: continuous
    scale: int | None
    lo: float  # writable range (num: values; time: microseconds)
    hi: float
    date: bool
    changeable: bool
    tiny: float  # relative strict step of a continuous float


def _info_of(name: str, s: pd.Series, col: Column | None, keys: set[str]) -> _Info:
    family = col.type if col is not None else None
    dtype = s.dtype
    changeable = name not in keys and (col is None or col.computed is None)
    if pd.api.types.is_datetime64_any_dtype(dtype) or (_is_object(dtype) and family in (st.DATE, st.TIMESTAMP)):
        date = family == st.DATE
        grid = float(_DAY_US) if date else 1.0
        if not date and col is not None:
            m = re.search(r"\((\d)\)", col.native_type or "")
            if m and int(m.group(1)) <= 6:
                grid = float(10 ** (6 - int(m.group(1))))
        return _Info(name, "time", False, grid, None, float(_MIN_US), float(_MAX_US), date, changeable, 0.0)
    numeric = pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)
    if numeric or (_is_object(dtype) and family in (st.INTEGER, st.FLOAT, st.DECIMAL)):
        is_int_dtype = pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
        integer = family == st.INTEGER or is_int_dtype
        lo, hi = -np.inf, np.inf
        if pd.api.types.is_bool_dtype(dtype):
            lo, hi = 0.0, 1.0
        elif is_int_dtype:
            ii = np.iinfo(np.dtype(str(dtype).lower()))
            lo, hi = float(ii.min), float(ii.max)
        if integer and col is not None and col.bits:
            lo, hi = max(lo, -(2.0 ** (col.bits - 1))), min(hi, 2.0 ** (col.bits - 1) - 1)
        scale = col.scale if col is not None and family == st.DECIMAL else None
        if family == st.DECIMAL and col is not None and col.precision is not None:
            top = 10.0 ** (col.precision - (scale or 0)) - 10.0 ** -(scale or 0)
            lo, hi = max(lo, -top), min(hi, top)
        grid = 1.0 if integer else (10.0 ** -scale if scale is not None else 0.0)
        tiny = 1e-6 if (col is not None and col.bits == 32) or dtype == np.float32 else 1e-12
        return _Info(name, "num", integer, grid, scale, lo, hi, False, changeable, tiny)
    return _Info(name, "other", False, 0.0, None, -np.inf, np.inf, False, changeable, 0.0)


def _read(s: pd.Series, info: _Info) -> tuple[np.ndarray, np.ndarray]:
    """Values (float64 numbers, or int64 UTC microseconds for times) and the NULL mask of a column."""
    if info.kind == "time":
        return utc_microseconds(s)
    if s.dtype == np.float64:
        v = s.to_numpy()
    elif isinstance(s.dtype, np.dtype) and s.dtype.kind in "iub":
        v = s.to_numpy().astype("float64")
    elif _is_object(s.dtype):
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    else:
        v = s.to_numpy(dtype="float64", na_value=np.nan)
    return v, np.isnan(v)


def _is_object(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _first_value(s: pd.Series) -> Any:
    nn = s.dropna()
    return nn.iloc[0] if len(nn) else None


def _write_num(s: pd.Series, info: _Info, rows: np.ndarray, x: np.ndarray) -> pd.Series:
    """``s`` with the numbers ``x`` (one per True of ``rows``) written in, in the column's dtype."""
    x = np.asarray(x, dtype="float64")
    if info.integer:
        x = np.round(x)
    elif info.scale is not None:
        x = np.round(x, info.scale)
    x = np.clip(x, info.lo, info.hi)
    pos = np.flatnonzero(rows)
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and not _is_object(dtype):
        arr = s.to_numpy(copy=True)
        arr[pos] = (x != 0) if dtype.kind == "b" else x.astype(dtype)
        return pd.Series(arr, index=s.index, name=s.name)
    new = s.copy()
    if _is_object(dtype):
        sample = _first_value(s)
        if isinstance(sample, Decimal) or (sample is None and info.scale is not None):
            scale = info.scale
            if scale is None and isinstance(sample, Decimal):
                exp = sample.as_tuple().exponent
                scale = -exp if isinstance(exp, int) and exp < 0 else 0
            vals: list[Any] = [Decimal(format(v, f".{scale}f")) if scale is not None else Decimal(repr(v)) for v in x]
        elif info.integer:
            vals = [int(v) for v in x]
        else:
            vals = [float(v) for v in x]
        new.iloc[pos] = vals
        return new
    if pd.api.types.is_bool_dtype(dtype):
        new.iloc[pos] = x != 0
    elif pd.api.types.is_integer_dtype(dtype):
        new.iloc[pos] = x.astype("int64")
    else:
        new.iloc[pos] = x
    return new


def _write_time(s: pd.Series, rows: np.ndarray, us: np.ndarray) -> pd.Series:
    """``s`` with the UTC microseconds ``us`` (one per True of ``rows``) written in, in the column's dtype."""
    pos = np.flatnonzero(rows)
    stamps = np.asarray(us, dtype="int64").astype("datetime64[us]")
    tz = getattr(s.dt, "tz", None) if pd.api.types.is_datetime64_any_dtype(s.dtype) else None
    if tz is not None:
        naive = s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]").copy()
        naive[pos] = stamps
        out = pd.Series(naive, index=s.index, name=s.name).dt.tz_localize("UTC").dt.tz_convert(tz)
        return out.astype(s.dtype)
    if isinstance(s.dtype, np.dtype) and s.dtype.kind == "M":
        arr = s.to_numpy(copy=True)
        arr[pos] = stamps.astype(s.dtype)
        return pd.Series(arr, index=s.index, name=s.name)
    new = s.copy()
    values = list(pd.DatetimeIndex(stamps))
    sample = _first_value(s)
    if isinstance(sample, datetime.date) and not isinstance(sample, datetime.datetime):  # date objects stay dates
        values = [v.date() for v in values]
    new.iloc[pos] = values
    return new


def _put(s: pd.Series, rows: np.ndarray, values: Any) -> pd.Series:
    """``s`` with ``values`` (labels of the column, one per True of ``rows``; None for NULL) written in."""
    pos = np.flatnonzero(rows)
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(s.dtype, pd.CategoricalDtype):
        new_labels = pd.Index(pd.unique(pd.Series(np.asarray(values, dtype=object)).dropna()))
        missing = new_labels.difference(s.cat.categories)
        s = s.cat.add_categories(missing) if len(missing) else s.copy()
        s.iloc[pos] = values
        return s
    if isinstance(s.dtype, np.dtype) and not _is_object(s.dtype):
        obj = np.asarray(values, dtype=object)
        nulls = pd.isna(obj)
        if not nulls.any() or s.dtype.kind in "fmM":
            arr = s.to_numpy(copy=True)
            if s.dtype.kind == "f":
                obj = np.where(nulls, np.nan, obj)
            arr[pos] = obj.astype(arr.dtype)
            return pd.Series(arr, index=s.index, name=s.name)
        # a NULL into an integer or bool column: its nullable dtype (the frame contract's)
        s = s.astype({"i": "Int64", "u": "UInt64", "b": "boolean"}.get(s.dtype.kind, object))
    new = s.copy()
    new.iloc[pos] = values
    return new


def _ceil(x: np.ndarray, g: float) -> np.ndarray:
    return np.ceil(x / g - 1e-9) * g


def _floor(x: np.ndarray, g: float) -> np.ndarray:
    return np.floor(x / g + 1e-9) * g


def _int_step(step: float) -> float:
    """The smallest integer multiple of ``step`` (what an integer column can step by)."""
    f = Fraction(step).limit_denominator(10**6)
    return float(f.numerator) if f.numerator else 1.0


def _step_digits(step: float) -> int | None:
    """Decimal digits of ``step`` (0.25 -> 2), None when it has no short decimal form."""
    for d in range(13):
        if abs(round(step, d) - step) <= 1e-12 * max(1.0, abs(step)):
            return d
    return None


# ---- the frame being kept ---------------------------------------------------------------------------------
class _Work:
    """The frame being changed, with cached column values and a version per column (a rule whose columns did
    not change since it last held is not checked again)."""

    def __init__(self, frame: pd.DataFrame, table: Table, rules: Sequence[Rule], rng: np.random.Generator,
                 state: KeepState | None) -> None:
        self.frame = frame.copy(deep=False)
        self.table = table
        self.rng = rng
        self.state = state
        self.n = len(frame)
        self.keys = set(table.primary_key) | {c for fk in table.foreign_keys for c in fk.columns}
        self._cols = {c.name: c for c in table.columns}
        self._info: dict[str, _Info] = {}
        self._vals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.version: dict[str, int] = {}
        self.clock = 0
        # what a value moved by an Order fix must also keep (its column's other rules)
        self.steps: dict[str, float] = {}
        self.domains: dict[str, np.ndarray] = {}
        self.limits: dict[str, tuple[float, float]] = {}
        for r in rules:
            if isinstance(r, Increment) and r.column in frame.columns and r.step > 0:
                self.steps[r.column] = r.step
            elif isinstance(r, Domain) and r.column in frame.columns:
                d = _numbers(r.values)
                if len(d):
                    self.domains[r.column] = d
            elif isinstance(r, Bound) and r.column in frame.columns and self.info(r.column).kind != "other":
                lo, hi = _limits(r, self.info(r.column))
                old = self.limits.get(r.column, (-np.inf, np.inf))
                self.limits[r.column] = (max(old[0], lo), min(old[1], hi))

    def info(self, name: str) -> _Info:
        got = self._info.get(name)
        if got is None:
            got = self._info[name] = _info_of(name, self.frame[name], self._cols.get(name), self.keys)
        return got

    def read(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        got = self._vals.get(name)
        if got is None:
            got = self._vals[name] = _read(self.frame[name], self.info(name))
        return got

    def null(self, name: str) -> np.ndarray:
        info = self.info(name)
        if info.kind != "other":
            return self.read(name)[1]
        return self.frame[name].isna().to_numpy()

    def set(self, name: str, s: pd.Series) -> None:
        self.frame[name] = s
        self._vals.pop(name, None)
        self.version[name] = self.version.get(name, 0) + 1
        self.clock += 1

    def write(self, name: str, rows: np.ndarray, x: np.ndarray) -> None:
        """Numbers (or microseconds) into the rows ``rows`` of a num or time column."""
        if not rows.any():
            return
        info = self.info(name)
        s = self.frame[name]
        self.set(name, _write_time(s, rows, x) if info.kind == "time" else _write_num(s, info, rows, x))

    def put(self, name: str, rows: np.ndarray, values: Any) -> None:
        """Labels into the rows ``rows`` of any column."""
        if rows.any():
            self.set(name, _put(self.frame[name], rows, values))

    def step(self, name: str, at: np.ndarray) -> np.ndarray:
        """The smallest move of each value ``at`` of column ``name`` (a strict comparison's step)."""
        info = self.info(name)
        if info.grid > 0:
            return np.full(len(at), info.grid)
        return np.maximum(np.abs(at), 1.0) * info.tiny

    def snap(self, name: str, x: np.ndarray, up: bool) -> np.ndarray:
        """``x`` moved (up or down) onto values column ``name`` can take: its grid, Increment step, Domain,
        Bound and writable range."""
        info = self.info(name)
        if info.kind == "time":
            xi = np.asarray(x, dtype="int64")
            grid_us = int(info.grid)
            if grid_us > 1:
                xi = -((-xi) // grid_us) * grid_us if up else (xi // grid_us) * grid_us
            lo_us, hi_us = self.limits.get(name, (_MIN_US, _MAX_US))
            return np.clip(xi, int(max(lo_us, _MIN_US)), int(min(hi_us, _MAX_US)))
        x = np.asarray(x, dtype="float64")
        inc = self.steps.get(name)
        for g in (_int_step(inc) if inc and info.integer else inc, info.grid):
            if g:
                x = _ceil(x, g) if up else _floor(x, g)
        d = self.domains.get(name)
        if d is not None:
            if up:
                x = d[np.minimum(np.searchsorted(d, x - 1e-12 * np.maximum(np.abs(x), 1.0), "left"), len(d) - 1)]
            else:
                x = d[np.maximum(np.searchsorted(d, x + 1e-12 * np.maximum(np.abs(x), 1.0), "right") - 1, 0)]
        lo, hi = self.limits.get(name, (-np.inf, np.inf))
        return np.clip(x, max(lo, info.lo), min(hi, info.hi))

    def pool(self, rule: Rule) -> pd.DataFrame | None:
        return self.state.pools.get(rule.name) if self.state is not None else None

    def remember_pool(self, rule: Rule, ok: np.ndarray, cols: Sequence[str]) -> None:
        if self.state is None or not ok.any():
            return
        have = self.state.pools.get(rule.name)
        if have is None or len(have) < _POOL_ROWS:
            self.state.pools[rule.name] = self.frame.loc[ok, list(cols)].iloc[:_POOL_ROWS].reset_index(drop=True)

    def take(self, cols: Sequence[str], rows: np.ndarray, ok: np.ndarray, pool: pd.DataFrame | None) -> bool:
        """The rows ``rows`` take the columns ``cols``, together, from random rows ``ok`` of this frame (or of
        ``pool``, rows of earlier batches). False when there is no row to take from."""
        src = np.flatnonzero(ok)
        n_pool = 0 if pool is None else len(pool)
        if not len(src) and not n_pool:
            return False
        k = int(rows.sum())
        pick = self.rng.integers(len(src) + n_pool, size=k)
        local = pick < len(src)
        for c in cols:
            s = self.frame[c]
            if local.all():
                values: Any = s.iloc[src[pick]].array
            else:
                assert pool is not None
                both = pd.concat([s.iloc[src].reset_index(drop=True), pool[c].astype(s.dtype, errors="ignore")],
                                 ignore_index=True)
                values = both.iloc[pick].array
            self.put(c, rows, values)
        return True


def _numbers(values: Sequence[Any]) -> np.ndarray:
    out = [float(v) for v in values if isinstance(v, int | float) and not (isinstance(v, float) and np.isnan(v))]
    return np.unique(np.asarray(out, dtype="float64"))


def _limits(rule: Bound, info: _Info) -> tuple[float, float]:
    """The range a Bound allows, in the column's value units, strict ends one step inside, on the grid."""
    lo = -np.inf if rule.low is None else float(rule.low)
    hi = np.inf if rule.high is None else float(rule.high)
    g = info.grid
    if np.isfinite(lo):
        if g:
            first = float(_ceil(np.array([lo]), g)[0])
            lo = first + g if rule.strict_low and abs(first - lo) <= g * 1e-9 else first
        elif rule.strict_low:
            lo += max(abs(lo), 1.0) * info.tiny
    if np.isfinite(hi):
        if g:
            last = float(_floor(np.array([hi]), g)[0])
            hi = last - g if rule.strict_high and abs(last - hi) <= g * 1e-9 else last
        elif rule.strict_high:
            hi -= max(abs(hi), 1.0) * info.tiny
    return lo, hi


def _groups(frame: pd.DataFrame, cols: Sequence[str], nulls_are_values: bool = False
            ) -> tuple[np.ndarray, list[Any]]:
    """Per row, the code of its value of ``cols`` (-1 where one is NULL, unless ``nulls_are_values``), numbered
    in order of first row, and the value of each code (a scalar for one column, a tuple for several)."""
    per_col, uniques = [], []
    for c in cols:
        code, u = pd.factorize(frame[c], use_na_sentinel=not nulls_are_values)
        per_col.append(code.astype("int64"))
        uniques.append(np.asarray(u, dtype=object))
    codes = per_col[0]
    if len(cols) > 1:
        valid = np.min(per_col, axis=0) >= 0
        combined = np.where(valid, per_col[0], 0)
        for code, u in zip(per_col[1:], uniques[1:]):
            # re-numbered after each column, the combined code stays below the row count (no overflow)
            combined, _ = pd.factorize(combined * (len(u) + 1) + np.where(valid, code, 0) + 1)
        codes = np.full(len(combined), -1, dtype="int64")
        codes[valid] = pd.factorize(combined[valid])[0]
    valid = codes >= 0
    if not valid.any():
        return codes, []
    _, first = np.unique(codes[valid], return_index=True)  # code i first appears at first[i] (numbered so)
    rows = np.flatnonzero(valid)[first]
    values = [u[pc[rows]].tolist() for u, pc in zip(uniques, per_col)]
    if nulls_are_values:  # NaN, NaT and NA all as None (a NULL of the key)
        values = [[_norm(x) for x in v] for v in values]
    keys: list[Any] = values[0] if len(cols) == 1 else list(zip(*values))
    return codes, keys


def _norm(v: Any) -> Any:
    """A label as a dict key: NULLs as None, numpy scalars as Python ones (the keys of :func:`_groups` are
    Python values already: ``tolist``)."""
    if v is None or (not isinstance(v, str | tuple) and pd.isna(v)):
        return None
    return v.item() if isinstance(v, np.generic) else v


# ---- the kinds ------------------------------------------------------------------------------------------
def _order_up(w: _Work, r: Order) -> bool:
    """Rows where ``high`` is below ``low``: ``high`` moves up to ``low`` plus a gap."""
    bad, lo, hi = _order_bad(w, r)
    if not bad.any() or not w.info(r.high).changeable:
        return False
    k = int(bad.sum())
    gap = _gap(w, r, lo, hi, k, moving=r.high, at=lo[bad])
    base = lo[bad]
    if w.info(r.high).kind == "time":
        target = np.where(base > _I64_MAX - gap, _I64_MAX, base + gap)  # no wrap past the int64 range
        new = w.snap(r.high, target, up=True)
        marker = np.isin(base, _MARKERS) & (not r.strict)
        new = np.where(marker, base, new)  # 'infinity' is only below 'infinity'
    else:
        new = w.snap(r.high, base + gap, up=True)
    ok = new > base if r.strict else new >= base
    rows = bad.copy()
    rows[bad] = ok
    w.write(r.high, rows, new[ok])
    return bool(ok.any())


def _order_down(w: _Work, r: Order) -> bool:
    """Rows still broken (their ``high`` could not move): ``low`` moves down to ``high`` minus a gap."""
    bad, lo, hi = _order_bad(w, r)
    if not bad.any() or not w.info(r.low).changeable:
        return False
    k = int(bad.sum())
    gap = _gap(w, r, lo, hi, k, moving=r.low, at=hi[bad])
    base = hi[bad]
    if w.info(r.low).kind == "time":
        target = np.where(base < _I64_MIN + gap, _I64_MIN, base - gap)
        new = w.snap(r.low, target, up=False)
        marker = np.isin(base, _MARKERS) & (not r.strict)
        new = np.where(marker, base, new)
    else:
        new = w.snap(r.low, base - gap, up=False)
    ok = new < base if r.strict else new <= base
    rows = bad.copy()
    rows[bad] = ok
    w.write(r.low, rows, new[ok])
    return bool(ok.any())


def _order_bad(w: _Work, r: Order) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, lo_null = w.read(r.low)
    hi, hi_null = w.read(r.high)
    both = ~lo_null & ~hi_null
    with np.errstate(invalid="ignore"):
        broken = hi <= lo if r.strict else hi < lo
    return both & broken, lo, hi


def _gap(w: _Work, r: Order, lo: np.ndarray, hi: np.ndarray, k: int, moving: str, at: np.ndarray) -> np.ndarray:
    """``k`` gaps ``high - low`` (value units) for rows being fixed: from the rule's quantiles, else from the
    rows that keep it (this frame's, else earlier batches')."""
    time = w.info(moving).kind == "time"
    if r.gaps:
        q = np.asarray(r.gaps, dtype="float64")
        gap = np.interp(w.rng.random(k), np.linspace(0.0, 1.0, len(q)), q)
        if time and w.info(r.low).date and w.info(r.high).date:
            gap = gap * _DAY_US
    else:
        _, lo_null = w.read(r.low)
        _, hi_null = w.read(r.high)
        keepers = ~lo_null & ~hi_null & ((hi > lo) if r.strict else (hi >= lo))
        seen = hi[keepers].astype("float64") - lo[keepers].astype("float64")
        if w.state is not None:
            if len(seen):
                if len(w.state.gaps.get(r.name, ())) < _POOL_ROWS:
                    w.state.gaps[r.name] = seen[:_POOL_ROWS]
            else:
                seen = w.state.gaps.get(r.name, seen)
        gap = seen[w.rng.integers(len(seen), size=k)] if len(seen) else np.zeros(k)
    gap = np.maximum(np.nan_to_num(gap, nan=0.0, posinf=0.0), 0.0)
    if r.strict:
        gap = np.maximum(gap, w.step(moving, at))
    if time:
        return np.minimum(np.round(gap), float(_MAX_US - _MIN_US)).astype("int64")
    return gap


def _bound(w: _Work, r: Bound) -> bool:
    info = w.info(r.column)
    v, null = w.read(r.column)
    bad = np.zeros(w.n, dtype=bool)
    if r.low is not None:
        bad |= (v <= r.low) if r.strict_low else (v < r.low)
    if r.high is not None:
        bad |= (v >= r.high) if r.strict_high else (v > r.high)
    bad &= ~null
    ok = ~null & ~bad
    w.remember_pool(r, ok, [r.column])
    if not bad.any():
        return False
    if w.take([r.column], bad, ok, w.pool(r)):
        return True
    lo, hi = _limits(r, info)
    w.write(r.column, bad, np.clip(v[bad], lo, hi))
    return True


def _domain(w: _Work, r: Domain) -> bool:
    info = w.info(r.column)
    d = _numbers(r.values)
    if info.kind == "num" and len(d):
        v, null = w.read(r.column)
        bad = ~null & ~np.isin(v, d)
        if not bad.any():
            return False
        x = v[bad]
        i = np.clip(np.searchsorted(d, x), 1, len(d) - 1) if len(d) > 1 else np.zeros(len(x), dtype=int)
        if len(d) > 1:
            left, right = d[i - 1], d[i]
            near = np.where(np.abs(x - left) <= np.abs(right - x), left, right)
        else:
            near = np.full(len(x), d[0])
        w.write(r.column, bad, near)
        return True
    allowed = [v for v in r.values if v is not None]
    if not allowed:
        return False
    s = w.frame[r.column]
    null = s.isna().to_numpy()
    bad = ~null & ~s.isin(allowed).to_numpy()
    if not bad.any():
        return False
    if not w.take([r.column], bad, ~null & ~bad, None):
        w.put(r.column, bad, np.asarray(allowed, dtype=object)[w.rng.integers(len(allowed), size=int(bad.sum()))])
    return True


def _increment(w: _Work, r: Increment) -> bool:
    info = w.info(r.column)
    if info.kind != "num" or not r.step > 0:
        return False
    step = _int_step(r.step) if info.integer else float(r.step)
    v, null = w.read(r.column)
    q = v / step
    near = np.round(q)
    bad = ~null & (np.abs(q - near) > 1e-9 * np.maximum(np.abs(q), 1.0))
    if not bad.any():
        return False
    x = near[bad] * step
    digits = _step_digits(step)
    if digits is not None and not info.integer:
        x = np.round(x, digits)
    w.write(r.column, bad, x)
    return True


def _one_hot(w: _Work, r: OneHot) -> bool:
    m = np.column_stack([w.read(c)[0] for c in r.names])
    null = np.isnan(m).any(axis=1)
    exact = np.isin(m, (0.0, 1.0)).all(axis=1) & ((m == 1.0).sum(axis=1) == 1)
    bad = ~null & ~exact
    if not bad.any():
        return False
    j = np.argmax(m[bad], axis=1)
    for i, c in enumerate(r.names):
        want = (j == i).astype("float64")
        rows = bad.copy()
        rows[bad] = m[bad, i] != want
        w.write(c, rows, want[m[bad, i] != want])
    return True


def _dependency(w: _Work, r: Dependency) -> bool:
    codes, keys = _groups(w.frame, r.determinant)
    if not len(keys):
        return False
    y = w.frame[r.dependent]
    y_null = y.isna().to_numpy()
    yo = y.to_numpy(dtype=object)
    target, known, to_null = _dependency_targets(w, r, codes, keys, yo, y_null)
    valid = codes >= 0
    has = np.zeros(w.n, dtype=bool)
    has[valid] = known[codes[valid]]
    tgt = np.empty(w.n, dtype=object)
    tgt[has] = target[codes[has]]
    nul = np.zeros(w.n, dtype=bool)
    nul[valid] = to_null[codes[valid]]
    bad = has & ~y_null
    bad[bad] = (yo[bad] != tgt[bad]) | nul[bad]
    if not bad.any():
        return False
    w.put(r.dependent, bad, tgt[bad])
    return True


def _dependency_targets(w: _Work, r: Dependency, codes: np.ndarray, keys: list[Any], yo: np.ndarray,
                        y_null: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group of the determinant: the dependent value it takes, whether one is known, whether it is NULL."""
    g = len(keys)
    pairs = {(_norm(k[0]) if len(k) == 1 else tuple(_norm(x) for x in k)): v for k, v in r.pairs}
    mem = w.state.first_seen.get(r.name, {}) if w.state is not None else {}
    target = np.empty(g, dtype=object)
    known = np.zeros(g, dtype=bool)
    to_null = np.zeros(g, dtype=bool)
    # the first value in this frame, for values neither the pairs nor earlier batches give
    sel = (codes >= 0) & ~y_null
    firsts_codes, first_at = np.unique(codes[sel], return_index=True)
    target[firsts_codes] = yo[np.flatnonzero(sel)[first_at]]
    known[firsts_codes] = True
    if pairs or mem:
        for i, key in enumerate(keys):  # one lookup per distinct determinant value of the frame
            if key in pairs:
                v = pairs[key]
            elif key in mem:
                v = mem[key]
            else:
                continue
            target[i], known[i], to_null[i] = v, True, v is None
    return target, known, to_null


def _remember_dependency(w: _Work, r: Dependency) -> None:
    """Record the first value of each determinant value met for the first time (not in pairs)."""
    assert w.state is not None
    mem = w.state.first_seen.setdefault(r.name, {})
    if len(mem) >= MEMORY_ENTRIES:
        _full(w, r)
        return
    codes, keys = _groups(w.frame, r.determinant)
    if not len(keys):
        return
    y = w.frame[r.dependent]
    y_null = y.isna().to_numpy()
    sel = (codes >= 0) & ~y_null
    firsts_codes, first_at = np.unique(codes[sel], return_index=True)
    values = y.to_numpy(dtype=object)[np.flatnonzero(sel)[first_at]]
    pairs = {(_norm(k[0]) if len(k) == 1 else tuple(_norm(x) for x in k)) for k, _ in r.pairs}
    for c, v in zip(firsts_codes.tolist(), values.tolist()):
        key = keys[c]
        if key not in pairs and key not in mem:
            mem[key] = _norm(v)
            if len(mem) >= MEMORY_ENTRIES:
                _full(w, r)
                return


def _full(w: _Work, r: Rule) -> None:
    assert w.state is not None
    if r.name not in w.state.full:
        w.state.full.add(r.name)
        log.info("table '%s', rule '%s': %d values remembered across batches; new ones are kept within their "
                 "batch only", r.table, r.name, MEMORY_ENTRIES)


def _combination(w: _Work, r: Combination) -> bool:
    if not r.combos:
        return False
    with_null = any(v is None for c in r.combos for v in c)
    codes, keys = _groups(w.frame, r.names, nulls_are_values=with_null)
    if not len(keys):
        return False
    combos = {tuple(_norm(v) for v in c) for c in r.combos}
    good = np.fromiter(((k if isinstance(k, tuple) else (k,)) in combos for k in keys), dtype=bool,
                       count=len(keys))  # one lookup per distinct combination
    valid = codes >= 0
    bad = np.zeros(w.n, dtype=bool)
    bad[valid] = ~good[codes[valid]]
    ok = np.zeros(w.n, dtype=bool)
    ok[valid] = good[codes[valid]]
    w.remember_pool(r, ok, r.names)
    if not bad.any():
        return False
    fixed = [c for c in r.names if not w.info(c).changeable]
    free = [c for c in r.names if w.info(c).changeable]
    if not free:
        return False
    if not fixed:
        if not w.take(r.names, bad, ok, w.pool(r)):
            pick = w.rng.integers(len(r.combos), size=int(bad.sum()))
            for j, c in enumerate(r.names):
                w.put(c, bad, np.asarray([r.combos[p][j] for p in pick], dtype=object))
        return True
    # some columns are keys: a combination that agrees with the row's keys, at random among those that do
    table = pd.DataFrame([list(c) for c in r.combos], columns=list(r.names))
    rows = pd.DataFrame({c: w.frame[c].to_numpy(dtype=object)[bad] for c in fixed})
    rows["__row"] = np.flatnonzero(bad)
    for c in fixed:
        table[c] = table[c].astype(object)
    cand = rows.merge(table, on=fixed, how="inner")
    if not len(cand):
        return False
    cand = cand.iloc[w.rng.permutation(len(cand))].drop_duplicates("__row")
    hit = np.zeros(w.n, dtype=bool)
    hit[cand["__row"].to_numpy()] = True
    cand = cand.sort_values("__row")
    for c in free:
        w.put(c, hit, cand[c].to_numpy(dtype=object))
    return True


def _parent_sum(w: _Work, r: ParentSum) -> bool:
    info = w.info(r.column)
    codes, keys = _groups(w.frame, r.by)
    if not len(keys):
        return False
    v, null = w.read(r.column)
    use = (codes >= 0) & ~null
    g = len(keys)
    sums = np.bincount(codes[use], weights=v[use], minlength=g)
    room = np.full(g, float(r.bound))
    exact = np.full(g, r.exact)
    mem = w.state.sums.get(r.name) if w.state is not None else None
    if mem:
        used = np.array([mem.get(k, np.nan) for k in keys], dtype="float64")  # one lookup per distinct parent
        met = ~np.isnan(used)
        room[met] -= used[met]
        exact &= ~met  # met in an earlier batch: an exact sum cannot be completed here
    if r.bound >= 0:
        room = np.maximum(room, 0.0)
    tol = 0.0 if info.integer else 1e-9 * max(1.0, abs(float(r.bound)))
    broken = np.where(exact, np.abs(sums - room) > max(tol, info.grid / 2), sums > room + tol)
    if not broken.any():
        return False
    rows = use & broken[np.maximum(codes, 0)]
    c = codes[rows]
    x = v[rows]
    s = sums[c]
    # a float "<=" aims a hair below the bound: summed in another order, the values must not pass it
    target = room if info.grid or r.exact else room * (1 - 1e-12)
    target = np.where(exact, room, target)[c]
    even = target / np.bincount(c, minlength=g)[c]  # an exact sum over values summing to <= 0: shared evenly
    with np.errstate(divide="ignore", invalid="ignore"):
        new = np.where(s > 0, x * (target / s), np.where(exact[c], even, x))
    # a "<=" sum rounds down onto the values the column may take (its grid, Increment step, Domain): the sum
    # only falls, and the column's other rules still hold
    new = np.where(exact[c], new, w.snap(r.column, new, up=False))
    if info.grid:
        gr = info.grid
        new = np.where(exact[c], np.round(new / gr) * gr, new)
        # an exact sum's rounding remainder goes to each group's largest value (never below 0)
        rest = room - np.bincount(c, weights=new, minlength=g)
        order = np.lexsort((new, c))
        top = order[np.r_[c[order][1:] != c[order][:-1], True]]
        new[top] = np.where(exact[c[top]], np.maximum(new[top] + rest[c[top]], 0.0), new[top])
        if info.scale is not None:
            new = np.round(new, info.scale)
    changed = new != x
    rows[rows] = changed
    w.write(r.column, rows, new[changed])
    return bool(changed.any())


def _remember_sums(w: _Work, r: ParentSum) -> None:
    assert w.state is not None
    mem = w.state.sums.setdefault(r.name, {})
    codes, keys = _groups(w.frame, r.by)
    if not len(keys):
        return
    v, null = w.read(r.column)
    use = (codes >= 0) & ~null
    sums = np.bincount(codes[use], weights=v[use], minlength=len(keys))
    if len(mem) + len(keys) <= MEMORY_ENTRIES:
        for key, total in zip(keys, sums.tolist()):
            mem[key] = mem.get(key, 0.0) + total
        return
    for key, total in zip(keys, sums.tolist()):
        if key in mem:
            mem[key] += total
        elif len(mem) < MEMORY_ENTRIES:
            mem[key] = total
        else:
            _full(w, r)


def _custom(w: _Work, r: Custom) -> bool:
    inst = _instance(w, r)
    valid = _valid(w, r, inst)
    cols = [c for c in (r.names or tuple(w.frame.columns)) if c in w.frame.columns and w.info(c).changeable]
    w.remember_pool(r, valid, cols)
    if valid.all():
        return False
    bad = ~valid
    if callable(getattr(inst, "reverse_transform", None)) and cols:
        sub = w.frame.iloc[np.flatnonzero(bad)].copy()
        try:
            fixed = inst.reverse_transform(sub)
        except Exception as exc:
            raise _custom_error(r, f"its reverse_transform raised {type(exc).__name__}") from None
        if not isinstance(fixed, pd.DataFrame) or len(fixed) != len(sub):
            raise _custom_error(r, "its reverse_transform did not return a frame of the rows it was given")
        for c in cols:
            if c in fixed.columns:
                w.put(c, bad, fixed[c].astype(w.frame[c].dtype, errors="ignore").array)
        bad &= ~_valid(w, r, inst)
    for _ in range(_REDRAW_ROUNDS):
        if not bad.any():
            return True
        if not cols:
            raise _custom_error(r, f"{int(bad.sum())} sampled row(s) break it and it names no column the sampler "
                                   "may change")
        if not w.take(cols, bad, ~bad, w.pool(r)):
            raise _custom_error(r, "no sampled row keeps it, so the rows that break it cannot be redrawn")
        bad &= ~_valid(w, r, inst)
    if bad.any():
        raise _custom_error(r, f"{int(bad.sum())} sampled row(s) still break it after {_REDRAW_ROUNDS} rounds of "
                               "redrawing them from rows that keep it")
    return True


def _instance(w: _Work, r: Custom) -> Any:
    if w.state is None:
        return load_custom(r)
    got = w.state.customs.get(r.name)
    if got is None:
        got = w.state.customs[r.name] = load_custom(r)
    return got


def _valid(w: _Work, r: Custom, inst: Any) -> np.ndarray:
    try:
        got = inst.is_valid(w.frame.copy(deep=False))
    except Exception as exc:
        raise _custom_error(r, f"its is_valid raised {type(exc).__name__}") from None
    mask = np.asarray(got.to_numpy() if isinstance(got, pd.Series) else got)
    if mask.shape != (w.n,):
        raise _custom_error(r, f"its is_valid returned {mask.size} value(s) for {w.n} row(s)")
    return mask.astype(bool)


def _custom_error(r: Custom, message: str) -> KeepError:
    return KeepError(f"custom constraint: {message}", table=r.table, constraint=r.path,
                     hint="Loosen the constraint, or give its class a reverse_transform(frame) that makes rows "
                          "valid")


# ---- the plan ---------------------------------------------------------------------------------------------
@dataclass
class _Step:
    """One rule kept by ``fix`` (which returns whether it changed the frame); ``held`` is the versions of its
    columns when it last held (not checked again until one changes)."""

    rule: Rule
    cols: tuple[str, ...]
    fix: Callable[[_Work, Any], bool]
    held: tuple[int, ...] | None = None
    any_column: bool = False  # a custom rule: it may read any column


_LOGGED: set[tuple[str, str]] = set()


def _skip(table: str, rule: Rule, why: str) -> None:
    if (table, rule.name) not in _LOGGED:
        _LOGGED.add((table, rule.name))
        log.info("table '%s', rule '%s': not kept by the sampler (%s)", table, rule.name, why)


def _plan(w: _Work, rules: Sequence[Rule]) -> list[_Step]:
    """The rules in the order they are kept: orders (topological), bounds, domains, increments, one-hots,
    dependencies (topological), combinations, parent sums, custom constraints."""
    table = w.table.name
    cols = set(w.frame.columns)
    usable: list[Rule] = []
    for r in rules:
        if isinstance(r, Custom):
            usable.append(r)
            continue
        missing = [c for c in r.columns if c not in cols]
        if missing:
            _skip(table, r, "it names a column the frame does not hold")
            continue
        moved = _moved(r)
        if not any(w.info(c).changeable for c in moved):
            _skip(table, r, "it may change only key or computed columns")
            continue
        if isinstance(r, Order) and (w.info(r.low).kind != w.info(r.high).kind or w.info(r.low).kind == "other"):
            _skip(table, r, "its columns are not both numbers or both datetimes")
            continue
        if isinstance(r, OneHot | Increment | ParentSum) and any(w.info(c).kind != "num" for c in moved):
            _skip(table, r, "it names a column that is not a number")
            continue
        if isinstance(r, OneHot) and not all(w.info(c).changeable for c in r.names):
            _skip(table, r, "it names a key column")
            continue
        usable.append(r)
    steps: list[_Step] = []
    orders = [r for r in usable if isinstance(r, Order)]
    if orders:
        topo = _topo([(r.low, r.high) for r in orders])
        _chain_limits(w, orders, topo)
        for r in sorted(orders, key=lambda r: topo[r.low]):
            steps.append(_Step(r, (r.low, r.high), _order_up))
        for r in sorted(orders, key=lambda r: -topo[r.high]):
            steps.append(_Step(r, (r.low, r.high), _order_down))
    for kind, fix in ((Bound, _bound), (Domain, _domain), (Increment, _increment), (OneHot, _one_hot)):
        steps += [_Step(r, r.columns, fix) for r in usable if isinstance(r, kind)]
    deps = [r for r in usable if isinstance(r, Dependency)]
    if deps:
        topo = _topo([(d, r.dependent) for r in deps for d in r.determinant])
        steps += [_Step(r, r.columns, _dependency) for r in sorted(deps, key=lambda r: topo[r.dependent])]
    steps += [_Step(r, r.columns, _combination) for r in usable if isinstance(r, Combination)]
    steps += [_Step(r, r.columns, _parent_sum) for r in usable if isinstance(r, ParentSum)]
    steps += [_Step(r, (), _custom, any_column=True) for r in usable if isinstance(r, Custom)]
    return steps


def _chain_limits(w: _Work, orders: list[Order], topo: dict[str, int]) -> None:
    """Carry the bounds of a chain of orders along it: under ``a <= b <= c`` with ``c <= 150``, ``b`` and ``a``
    are at most 150 too (less one step per strict edge), so that a moved value leaves room for the next."""
    for r in sorted(orders, key=lambda r: -topo[r.high]):  # from the top of the chain down
        if r.high in w.limits and w.info(r.low).kind == w.info(r.high).kind:
            cap = w.limits[r.high][1]
            if np.isfinite(cap):
                cap -= _one_step(w.info(r.low), cap) if r.strict else 0.0
                lo, hi = w.limits.get(r.low, (-np.inf, np.inf))
                w.limits[r.low] = (lo, min(hi, cap))
    for r in sorted(orders, key=lambda r: topo[r.low]):  # from the bottom up
        if r.low in w.limits and w.info(r.low).kind == w.info(r.high).kind:
            floor = w.limits[r.low][0]
            if np.isfinite(floor):
                floor += _one_step(w.info(r.high), floor) if r.strict else 0.0
                lo, hi = w.limits.get(r.high, (-np.inf, np.inf))
                w.limits[r.high] = (max(lo, floor), hi)


def _one_step(info: _Info, at: float) -> float:
    return info.grid if info.grid else max(abs(at), 1.0) * info.tiny


def _moved(r: Rule) -> tuple[str, ...]:
    """The columns a fix of ``r`` may change."""
    if isinstance(r, Dependency):
        return (r.dependent,)
    if isinstance(r, ParentSum | Bound | Domain | Increment):
        return (r.column,)
    return r.columns


def _topo(edges: list[tuple[str, str]]) -> dict[str, int]:
    """Position of each column in a topological order of ``edges`` (first appearance when they form a cycle)."""
    g = nx.DiGraph()
    g.add_edges_from(edges)
    try:
        order = list(nx.lexicographical_topological_sort(g))
    except nx.NetworkXUnfeasible:
        order = list(dict.fromkeys(c for e in edges for c in e))
    return {c: i for i, c in enumerate(order)}


def keep(frame: pd.DataFrame, table: Table, rules: Sequence[Rule], rng: np.random.Generator,
         state: KeepState | None = None) -> pd.DataFrame:
    """``frame`` changed so that it keeps the within-table ``rules`` of ``table`` (others are ignored).

    Args:
        frame: one batch of ``table``'s sampled rows (frame contract), references set; it is not modified.
        table: the table.
        rules: rules of any tables and kinds; those of ``table`` of the within-table kinds (Order, Bound,
            Domain, Dependency, Combination, Increment, OneHot, ParentSum, Custom) are kept.
        rng: random source (the result is deterministic given it).
        state: one per table, passed to every batch: dependencies and parent sums then hold across batches.
            None: within this frame only.

    Returns:
        A frame with the same rows, index and dtypes in which every kept rule holds, as far as up to 4 passes
        get (a rule still broken is left to the verification). Only the rows that broke a rule change, and only
        in the columns that rule may change; keys and NULLs never change.

    Raises:
        KeepError: rows still break a custom constraint after its rounds of redrawing (or its class misbehaves).
        CustomConstraintError: a custom constraint's class cannot be loaded (bad input).
    """
    mine = [r for r in rules if r.table == table.name and isinstance(r, _WITHIN)]
    if not mine or not len(frame):
        return frame.copy(deep=False)
    w = _Work(frame, table, mine, rng, state)
    steps = _plan(w, mine)
    for _ in range(_ROUNDS):
        changed = False
        for step in steps:
            now = (w.clock,) if step.any_column else tuple(w.version.get(c, 0) for c in step.cols)
            if step.held == now:
                continue
            if step.fix(w, step.rule):
                changed = True
                step.held = None
            else:
                step.held = (w.clock,) if step.any_column else tuple(w.version.get(c, 0) for c in step.cols)
        if not changed:
            break
    if state is not None:
        for step in steps:
            if isinstance(step.rule, Dependency) and step.fix is _dependency:
                _remember_dependency(w, step.rule)
            elif isinstance(step.rule, ParentSum):
                _remember_sums(w, step.rule)
    return w.frame
