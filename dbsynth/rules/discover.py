"""Rules the real rows keep, found at fit time (issue 17), and the declared CHECKs as rule records.

:func:`discover` looks for each kind below in the frames of a source and returns the ones that hold in every
row with enough support that chance is not taken for a rule. Thresholds (``s`` is the
:class:`DiscoverySettings`; a table with fewer than ``s.min_rows`` rows is skipped altogether; keys are the
primary-key and foreign-key columns, never ordered, counted or copied; ``support`` is what the rule held in):

* **order** ``low <= high`` (``strict``: never equal): two non-key columns of one family (numbers; dates and
  timestamps), ``high >= low`` in every one of at least ``s.min_rows`` rows where both are set; at most
  ``s.max_order_columns`` columns per family and table. Of a chain ``a <= b <= c`` the implied ``a <= c`` is
  left out (when ``b`` is set wherever ``a`` and ``c`` are, and the chain implies its strictness). Two columns
  equal wherever both are set give one rule. ``gaps``: 21 quantiles of ``high - low`` (days between dates,
  microseconds otherwise).
* **unique**: a non-key string or integer column, not declared unique, whose at least ``s.min_rows`` set
  values are all distinct (not free text: mean length at most 40); and a bridge table (no primary key, two
  foreign-key columns or more) whose foreign-key columns never repeat a tuple in at least ``s.min_rows`` rows.
* **domain**: a non-key integer column (or a float/decimal one whose values have at most 2 decimals) of at
  most ``s.max_domain_values`` distinct values in at least ``max(s.min_rows, 5 * distinct)`` set values;
  ``values`` holds only the values seen at least ``s.min_category_count`` times (a rarer value is never
  stored; the rule stands with the frequent ones, so a clone keeps only those).
* **dependency** ``a -> b``: label-like columns (strings, enums, booleans, integers of at most
  ``s.max_combination_values`` values; not keys, not free text) of 2 to ``min(n / 2, s.max_dependency_values)``
  distinct values; every value of ``a`` maps to one value of ``b`` (NULLs left out) in at least ``s.min_rows``
  rows where both are set, and the rows repeating an ``a`` value (rows minus distinct ``a`` values) number at
  least ``s.min_rows`` (so that a mostly-unique ``a`` does not determine everything by chance). ``pairs``: the
  ``(a value, b value)`` of the ``a`` values seen at least ``s.min_category_count`` times, none when either
  column is PII or free text (values a model never stores: the clone keeps the rule among its own values).
  Both ``a -> b`` and ``b -> a`` when both hold. At most ``s.max_label_columns`` columns per table.
* **combination** ``(a, b)``: two label-like columns of at most ``s.max_combination_values`` values each (the
  first ``s.max_combination_columns`` of a table; not PII nor free text), no dependency either way, at least
  ``s.min_rows`` rows with both set, the combinations seen at most half of the cross product and each seen at
  least ``s.min_category_count`` times.
* **same_ancestor**: a child with a foreign key ``f1`` to P and ``f2`` to Q where Q has a foreign key ``g`` to
  P's same columns: in each of at least ``s.min_rows`` rows where ``f2`` is set, ``f1`` equals (NULL as NULL)
  the ``g`` of the Q row. Child and Q complete.
* **parent_sum**: per foreign key of a complete child and non-key numeric column whose values are never
  negative, at least ``s.min_rows`` parents with two children or more: the per-parent sum constant (1e-6
  relative; the column not constant) gives ``exact``; else a largest sum equal to 1, 100 or 1000 (1e-6
  relative), or every sum at most 100 while one value reaches 20 and one sum 90 (shares of a whole), gives
  that ``bound``.
* **aggregate**: a non-key numeric column of a complete parent (2 distinct values or more) equal, within half
  a unit of its decimal scale (1e-9 relative otherwise), to per parent ``sum(x * y)``, ``sum(x)`` over non-key
  numeric columns of a complete child (products of its first ``s.max_product_columns``), or the count of its
  children (that order of preference: the first that holds is the rule); childless parents all hold 0 or all
  NULL (``empty``); at least ``s.min_rows`` parents with children.
* **copied**: a non-key child column equal to a non-key, non-constant column of its parent of the same family
  through a foreign key in every one of at least ``s.min_rows`` rows where both are set (both complete).

Tables in ``complete`` (None: all) are whole; the cross-table and per-parent kinds use only those, the
within-table kinds work on a uniform sample too. Rules come sorted by (table, kind, name). The work is
vectorised (factorize, sort, reduceat, bincount) and bounded by the column caps above.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..metadata import sdtypes as st
from ..metadata.records import Column, ForeignKey, Metadata, Table
from .evaluate import (
    aggregate_at,
    comparable,
    floats,
    group_codes,
    lookup,
    sums_at,
    tolerance,
)
from .evaluate import (
    score as _score,
)
from .records import (
    Aggregate,
    Check,
    Combination,
    Copied,
    Dependency,
    Domain,
    Order,
    ParentSum,
    Rule,
    RuleOrigin,
    RuleSet,
    SameAncestor,
    Scalar,
    Unique,
)

__all__ = ["DiscoverySettings", "declared", "discover"]

_NUMBERS = frozenset({st.INTEGER, st.FLOAT, st.DECIMAL})
_DATES = frozenset({st.DATE, st.TIMESTAMP})
_LABELS = frozenset({st.STRING, st.ENUM, st.BOOL})
_US_PER_DAY = 86_400 * 10**6
_ROUND_BOUNDS = (1.0, 100.0, 1000.0)
_FREE_TEXT_LENGTH = 40


@dataclass(frozen=True)
class DiscoverySettings:
    """How much support a pattern needs before it is a rule, and how much work discovery may do."""

    min_rows: int = 20
    """Rows (parents, for per-parent kinds) a rule must hold in."""
    min_category_count: int = 5
    """Values a rule stores (domains, pairs, combinations) seen at least this often (the model's k rule)."""
    max_order_columns: int = 40
    """Columns per family and table compared pairwise for orders."""
    max_domain_values: int = 20
    """Distinct values of a discrete numeric with a domain."""
    max_label_columns: int = 40
    """Label-like columns per table looked at for dependencies."""
    max_dependency_values: int = 10_000
    """Distinct values of a column in a dependency."""
    max_combination_columns: int = 30
    """Label-like columns per table looked at for combinations."""
    max_combination_values: int = 50
    """Distinct values of a column in a combination (and of an integer column taken as a label)."""
    max_product_columns: int = 10
    """Child numeric columns whose pairwise products are tried as aggregates."""


def declared(metadata: Metadata) -> RuleSet:
    """The declared CHECK constraints of every table (its own and its columns' PostgreSQL domains') as
    :class:`Check` records (origin ``declared``; the columns named when the CHECK parses)."""
    from .checks import compile_checks

    out: list[Rule] = []
    for name, table in metadata.tables.items():
        for r in compile_checks(table, metadata.dialect, metadata.native_objects):
            out.append(Check(table=name, origin=RuleOrigin.DECLARED, constraint=r.name, sqltext=r.sqltext,
                             names=tuple(r.columns)))
    return RuleSet(tuple(_sorted(out)))


def discover(metadata: Metadata, frames: Mapping[str, pd.DataFrame], settings: DiscoverySettings | None = None,
             complete: frozenset[str] | None = None) -> RuleSet:
    """The rules every row of ``frames`` keeps (the module docstring gives each kind's threshold).

    Args:
        metadata: the tables.
        frames: per table, its rows (all of them, or a uniform sample).
        settings: support thresholds.
        complete: tables given whole (cross-table and per-parent kinds need both sides whole); None: all.
    """
    s = settings or DiscoverySettings()
    whole = {n for n in frames if complete is None or n in complete}
    out: list[Rule] = []
    for name, table in metadata.tables.items():
        frame = frames.get(name)
        if frame is None or len(frame) < s.min_rows:
            continue
        cols = _Columns(table, frame)
        out += _orders(table, frame, cols, s)
        out += _uniques(table, frame, cols, s)
        out += _domains(table, frame, cols, s)
        out += _labels(table, frame, cols, s)
        if name in whole:
            out += _parent_sums(table, frame, cols, s)
    for name, table in metadata.tables.items():
        if name not in whole or len(frames[name]) < s.min_rows:
            continue
        out += _same_ancestors(metadata, table, frames, whole, s)
        out += _copies(metadata, table, frames, whole, s)
        out += _aggregates(metadata, table, frames, whole, s)
    return RuleSet(tuple(_sorted(out)))


def _sorted(rules: list[Rule]) -> list[Rule]:
    return sorted(rules, key=lambda r: (r.table, str(r.kind), r.name))


# ---- columns -----------------------------------------------------------------------------------------------
class _Columns:
    """The columns of one table by role: keys, numbers, dates, labels (only those present in the frame)."""

    def __init__(self, table: Table, frame: pd.DataFrame) -> None:
        keys = set(table.primary_key)
        for fk in (*table.foreign_keys, *table.outside_foreign_keys):
            keys.update(fk.columns)
        self.keys = keys
        present = [c for c in table.columns if c.name in frame.columns and c.computed is None]
        values = [c for c in present if c.name not in keys and c.sdtype != st.ID]
        self.present = present
        self.numbers = [c for c in values if c.type in _NUMBERS]
        self.dates = [c for c in values if c.type in _DATES]
        self.labels = [c for c in values if c.type in _LABELS]


def _family(c: Column) -> str | None:
    if c.type in _NUMBERS:
        return "number"
    if c.type in _DATES:
        return "date"
    if c.type in _LABELS:
        return "label"
    return None


def _free_text(s: pd.Series) -> bool:
    """Whether a string column looks like free text (mean length above 40, on up to 2000 values)."""
    v = s.dropna()
    if len(v) > 2000:
        v = v.iloc[np.linspace(0, len(v) - 1, 2000).astype(np.int64)]
    return bool(len(v)) and float(v.astype(str).str.len().mean()) > _FREE_TEXT_LENGTH


def _private(c: Column) -> bool:
    """Whether a column's values are never stored (PII and free text are generated, not modelled): a rule
    on it holds no values."""
    return bool(c.pii) or st.is_pii(c.sdtype) or c.sdtype in (st.TEXT, st.UNSUPPORTED)


def _py(v: Any, integral: bool = False) -> Scalar:
    """A value as a plain JSON scalar (numpy and Decimal numbers to int/float; ``integral``: an integer
    column's value, an int)."""
    if v is None or isinstance(v, str | bool):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if np.isnan(f):
        return None
    return int(f) if integral and f.is_integer() else f


# ---- order --------------------------------------------------------------------------------------------------
def _orders(table: Table, frame: pd.DataFrame, cols: _Columns, s: DiscoverySettings) -> list[Rule]:
    out: list[Rule] = []
    for group in (cols.numbers, cols.dates):
        group = [c for c in group if not pd.api.types.is_bool_dtype(frame[c.name].dtype)][: s.max_order_columns]
        if len(group) >= 2:
            out += _orders_in(table, frame, group, s)
    return out


def _orders_in(table: Table, frame: pd.DataFrame, group: list[Column], s: DiscoverySettings) -> list[Rule]:
    x = np.column_stack([floats(frame[c.name]) for c in group])
    here = ~np.isnan(x)
    # a cheap first pass on rows spread over the frame drops most pairs: viol[i, j] means some row has
    # x_i > x_j, so x_j >= x_i does not hold
    probe = x[np.unique(np.linspace(0, len(x) - 1, min(len(x), 2048)).astype(np.int64))]
    with np.errstate(invalid="ignore"):
        viol = (probe[:, :, None] > probe[:, None, :]).any(axis=0)
    held: dict[tuple[int, int], tuple[bool, int]] = {}
    for i, j in zip(*np.nonzero(~viol), strict=True):
        if i == j:
            continue
        both = here[:, i] & here[:, j]
        n = int(np.count_nonzero(both))
        if n < s.min_rows:
            continue
        with np.errstate(invalid="ignore"):  # inf - inf: no order (NaN compares false)
            gap = x[both, j] - x[both, i]
        if (gap >= 0).all():
            held[(int(i), int(j))] = (bool((gap > 0).all()), n)
    # equal wherever both are set: one rule, low the earlier column
    for i, j in list(held):
        if i > j and (j, i) in held:
            del held[(i, j)]
    above: dict[int, list[int]] = {}
    for i, j in held:
        above.setdefault(i, []).append(j)
    dense = here.all(axis=0)
    out: list[Rule] = []
    for (i, j), (strict, n) in held.items():
        if _implied(i, j, strict, held, above, here, dense):
            continue
        both = here[:, i] & here[:, j]
        q = np.quantile(x[both, j] - x[both, i], np.linspace(0.0, 1.0, 21))
        if group[i].type == st.DATE and group[j].type == st.DATE:
            q = q / _US_PER_DAY
        out.append(Order(table=table.name, low=group[i].name, high=group[j].name, strict=strict,
                         gaps=tuple(float(v) for v in q), support=n))
    return out


def _implied(i: int, j: int, strict: bool, held: Mapping[tuple[int, int], tuple[bool, int]],
             above: Mapping[int, list[int]], here: np.ndarray, dense: np.ndarray) -> bool:
    """Whether ``i <= j`` follows from ``i <= k <= j`` for a ``k`` set wherever ``i`` and ``j`` are (and
    strict when one of the two steps is)."""
    for k in above.get(i, ()):
        if k == j or (k, j) not in held:
            continue
        if strict and not (held[(i, k)][0] or held[(k, j)][0]):
            continue
        if dense[k] or not (here[:, i] & here[:, j] & ~here[:, k]).any():
            return True
    return False


# ---- unique -------------------------------------------------------------------------------------------------
def _declared_unique(table: Table) -> set[tuple[str, ...]]:
    out = {tuple(u.columns) for u in table.unique_constraints}
    out |= {tuple(ix.columns) for ix in table.indexes if ix.unique and not ix.where}
    if table.primary_key:
        out.add(tuple(table.primary_key))
    return {tuple(sorted(c)) for c in out}


def _uniques(table: Table, frame: pd.DataFrame, cols: _Columns, s: DiscoverySettings) -> list[Rule]:
    out: list[Rule] = []
    covered = _declared_unique(table)
    for c in cols.present:
        if c.name in cols.keys or (c.name,) in covered or c.type not in (st.STRING, st.INTEGER):
            continue
        v = frame[c.name].dropna()
        if len(v) < s.min_rows or (c.type == st.STRING and _free_text(v)):
            continue
        if c.type == st.INTEGER and _beyond_float(v):
            # values past 2**53 (edge values of BIGINT, BIGINT UNSIGNED) are drawn as floats that cannot tell
            # neighbours apart: uniqueness could not be kept, and a run must not fail on a rule it found itself
            continue
        if v.is_unique:
            out.append(Unique(table=table.name, names=(c.name,), support=len(v)))
    fks = table.foreign_keys
    # the foreign-key columns in table order
    names = tuple(c.name for c in table.columns if any(c.name in fk.columns for fk in fks))
    if (not table.primary_key and len(names) >= 2 and tuple(sorted(names)) not in covered
            and all(n in frame.columns for n in names)):
        codes, _ = group_codes(frame, names)
        on = codes >= 0
        n = int(np.count_nonzero(on))
        if n >= s.min_rows and pd.Series(codes[on]).is_unique:
            out.append(Unique(table=table.name, names=names, support=n))
    return out


def _beyond_float(v: pd.Series) -> bool:
    """Whether an integer column holds a value a float64 cannot represent exactly (|x| >= 2**53)."""
    x = pd.to_numeric(v, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return bool(len(x)) and bool(np.nanmax(np.abs(x), initial=0.0) >= 2.0**53)


# ---- domain -------------------------------------------------------------------------------------------------
def _domains(table: Table, frame: pd.DataFrame, cols: _Columns, s: DiscoverySettings) -> list[Rule]:
    out: list[Rule] = []
    for c in cols.numbers:
        if pd.api.types.is_bool_dtype(frame[c.name].dtype):
            continue
        x = floats(frame[c.name])
        x = x[~np.isnan(x)]
        if len(x) < s.min_rows:
            continue
        integral = c.type == st.INTEGER
        if not integral:
            if not np.isfinite(x).all():
                continue  # infinities are no discrete domain
            with np.errstate(over="ignore", invalid="ignore"):
                cents = x * 100
                whole = np.abs(cents - np.round(cents)) <= 1e-6 * np.maximum(np.abs(cents), 1.0)
            if not whole.all():
                continue
            x = np.round(x, 9)
        values, counts = np.unique(x, return_counts=True)
        if len(values) > s.max_domain_values or len(x) < 5 * len(values):
            continue
        frequent = counts >= s.min_category_count
        if not frequent.any():
            continue
        kept = tuple(int(v) if integral else float(v) for v in values[frequent])
        out.append(Domain(table=table.name, column=c.name, values=kept, support=int(counts[frequent].sum())))
    return out


# ---- dependency and combination -----------------------------------------------------------------------------
def _labels(table: Table, frame: pd.DataFrame, cols: _Columns, s: DiscoverySettings) -> list[Rule]:
    names: list[str] = []
    codes: list[np.ndarray] = []
    uniques: list[Any] = []
    private: list[bool] = []
    for c in cols.labels + [c for c in cols.numbers if c.type == st.INTEGER]:
        if len(names) >= s.max_label_columns:
            break
        ser = frame[c.name]
        code, uniq = pd.factorize(comparable(ser), use_na_sentinel=True)
        d, n = len(uniq), int(np.count_nonzero(code >= 0))
        if d < 2 or d > min(n / 2, s.max_dependency_values):
            continue
        if c.type == st.INTEGER and d > s.max_combination_values:
            continue
        if c.type == st.STRING and _free_text(ser):
            continue
        names.append(c.name)
        codes.append(code.astype(np.int64))
        uniques.append([_py(v, c.type == st.INTEGER) for v in uniq])
        private.append(_private(c))
    if len(names) < 2:
        return []
    mat = np.column_stack(codes)
    out: list[Rule] = []
    m = len(names)
    holds = np.zeros((m, m), dtype=bool)
    # a first pass on rows spread over a large frame drops the pairs a sample already breaks
    probe = mat[_spread(len(mat), _PROBE_ROWS)] if len(mat) > 2 * _PROBE_ROWS else None
    for a in range(m):
        idx = np.array([b for b in range(m) if b != a], dtype=np.int64)
        if probe is not None:
            idx = idx[_single_valued(probe, a, idx)[0]]
        if not len(idx):
            continue
        ok, seen, hi, first = _single_valued(mat, a, idx)
        holds[a, idx] = ok
        for x in np.flatnonzero(ok):
            b = int(idx[x])
            n_both = int(seen[:, x].sum())
            groups = int(np.count_nonzero(seen[:, x]))
            if n_both < s.min_rows or n_both - groups < s.min_rows:
                continue
            # the groups whose determinant value is frequent enough to be stored
            freq = np.flatnonzero(seen[:, x] >= s.min_category_count)
            pairs = () if private[a] or private[b] else tuple(
                ((uniques[a][first[g]],), uniques[b][hi[g, x]]) for g in freq)
            out.append(Dependency(table=table.name, determinant=(names[a],), dependent=names[b], pairs=pairs,
                                  support=n_both))
    out += _combinations(table, names, mat, uniques, holds, private, s)
    return out


_PROBE_ROWS = 4096


def _spread(n: int, k: int) -> np.ndarray:
    """``min(n, k)`` row positions spread evenly over ``n`` rows."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).astype(np.int64))


def _single_valued(mat: np.ndarray, a: int, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                        np.ndarray]:
    """Of label codes ``mat`` (-1 NULL), per column of ``idx``: whether each value of column ``a`` meets one
    value of it only (NULLs aside); per group of ``a`` (sorted) and column, the rows where it is set and its
    largest code; and the code of ``a`` of each group."""
    ca = mat[:, a]
    rows = np.flatnonzero(ca >= 0)
    order = rows[np.argsort(ca[rows], kind="stable")]
    if not len(order):
        empty = np.zeros((0, len(idx)), dtype=np.int64)
        return np.zeros(len(idx), dtype=bool), empty, empty, np.zeros(0, dtype=np.int64)
    sorted_a = ca[order]
    starts = np.flatnonzero(np.r_[True, sorted_a[1:] != sorted_a[:-1]])
    sub = np.take(mat[:, idx], order, axis=0)
    hi = np.maximum.reduceat(sub, starts, axis=0)
    lo = np.minimum.reduceat(np.where(sub >= 0, sub, np.iinfo(np.int64).max), starts, axis=0)
    seen = np.add.reduceat((sub >= 0).astype(np.int64), starts, axis=0)
    ok = ((hi < 0) | (hi == lo)).all(axis=0)
    return ok, seen, hi, sorted_a[starts]


def _combinations(table: Table, names: list[str], mat: np.ndarray, uniques: list[Any], holds: np.ndarray,
                  private: list[bool], s: DiscoverySettings) -> list[Rule]:
    small = [i for i in range(len(names)) if len(uniques[i]) <= s.max_combination_values and not private[i]]
    small = small[: s.max_combination_columns]
    probe = mat[_spread(len(mat), _PROBE_ROWS)] if len(mat) > 2 * _PROBE_ROWS else None
    out: list[Rule] = []
    for x, a in enumerate(small):
        for b in small[x + 1:]:
            if holds[a, b] or holds[b, a]:
                continue
            da, db = len(uniques[a]), len(uniques[b])
            if probe is not None and _combos(probe, a, b, db)[0].size > 0.5 * da * db:
                continue  # a sample already sees too many of the combinations
            combos, counts = _combos(mat, a, b, db)
            n = int(counts.sum())
            if n < max(s.min_rows, 1) or len(combos) > 0.5 * da * db or counts.min() < s.min_category_count:
                continue
            seen = tuple((uniques[a][k // db], uniques[b][k % db]) for k in combos)
            out.append(Combination(table=table.name, names=(names[a], names[b]), combos=seen, support=n))
    return out


def _combos(mat: np.ndarray, a: int, b: int, db: int) -> tuple[np.ndarray, np.ndarray]:
    """The combinations (``code_a * db + code_b``) of the rows where both are set, and their counts."""
    both = (mat[:, a] >= 0) & (mat[:, b] >= 0)
    counts = np.bincount(mat[both, a] * db + mat[both, b])
    combos = np.flatnonzero(counts)
    return combos, counts[combos]


# ---- per parent ---------------------------------------------------------------------------------------------
def _parent_sums(table: Table, frame: pd.DataFrame, cols: _Columns, s: DiscoverySettings) -> list[Rule]:
    out: list[Rule] = []
    values = {}
    for c in cols.numbers:
        if pd.api.types.is_bool_dtype(frame[c.name].dtype):
            continue
        x = floats(frame[c.name])
        set_x = x[~np.isnan(x)]
        if len(set_x) and set_x.min() >= 0 and set_x.max() > 0:
            values[c.name] = (x, bool((set_x != set_x[0]).any()))
    for fk in table.foreign_keys:
        if not values or not all(c in frame.columns for c in fk.columns):
            continue
        g, n = group_codes(frame, fk.columns)
        if np.count_nonzero(np.bincount(g[g >= 0], minlength=n) >= 2) < s.min_rows:
            continue
        for name, (x, varies) in values.items():
            sums, counts, top = sums_at(g, n, x)
            rule = _sum_rule(table, fk, name, sums, top, varies)
            if rule is not None:
                out.append(rule)
    return out


def _sum_rule(table: Table, fk: ForeignKey, column: str, sums: np.ndarray, top: np.ndarray,
              varies: bool) -> ParentSum | None:
    hi, lo = float(sums.max()), float(sums.min())
    by = tuple(fk.columns)
    if varies and hi - lo <= 1e-6 * max(1.0, abs(hi)):
        return ParentSum(table=table.name, column=column, by=by, bound=round(float(sums.mean()), 9), exact=True,
                         support=len(sums))
    for bound in _ROUND_BOUNDS:
        if abs(hi - bound) <= 1e-6 * bound:
            return ParentSum(table=table.name, column=column, by=by, bound=bound, support=len(sums))
    if 90.0 <= hi <= 100.0 and float(top.max()) >= 20.0:
        return ParentSum(table=table.name, column=column, by=by, bound=100.0, support=len(sums))
    return None


# ---- across tables ------------------------------------------------------------------------------------------
def _fks_to_whole(table: Table, frames: Mapping[str, pd.DataFrame], whole: set[str]) -> list[ForeignKey]:
    frame = frames[table.name]
    return [fk for fk in table.foreign_keys
            if fk.ref_table in whole and fk.ref_table in frames and all(c in frame.columns for c in fk.columns)
            and all(c in frames[fk.ref_table].columns for c in fk.ref_columns)]


def _holds(metadata: Metadata, rule: Rule, frames: Mapping[str, pd.DataFrame], min_rows: int) -> int | None:
    """The rule's support when every constrained unit of ``frames`` keeps it and there are ``min_rows`` of
    them (judged by :func:`dbsynth.rules.evaluate.score`, so that discovery and scoring agree)."""
    sc = _score(metadata, [rule], frames)[0]
    return sc.total if sc.total >= min_rows and sc.kept == sc.total and not sc.detail else None


def _same_ancestors(metadata: Metadata, table: Table, frames: Mapping[str, pd.DataFrame], whole: set[str],
                    s: DiscoverySettings) -> list[Rule]:
    out: list[Rule] = []
    fks = _fks_to_whole(table, frames, whole)
    for f2 in fks:
        q = metadata.tables.get(f2.ref_table)
        if q is None:
            continue
        for g in q.foreign_keys:
            for f1 in table.foreign_keys:
                if f1 is f2 or f1.ref_table != g.ref_table or set(f1.ref_columns) != set(g.ref_columns):
                    continue
                if set(f1.columns) & set(f2.columns) or not all(c in frames[table.name].columns for c in f1.columns):
                    continue
                parent_direct = tuple(g.columns[g.ref_columns.index(r)] for r in f1.ref_columns)
                if not all(c in frames[q.name].columns for c in parent_direct):
                    continue
                rule = SameAncestor(table=table.name, direct=tuple(f1.columns), via=tuple(f2.columns), parent=q.name,
                                    parent_key=tuple(f2.ref_columns), parent_direct=parent_direct,
                                    ancestor=g.ref_table)
                support = _holds(metadata, rule, frames, s.min_rows)
                if support is not None:
                    out.append(SameAncestor(**{**_fields(rule), "support": support}))
    return out


def _fields(rule: Rule) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(rule, f.name) for f in fields(rule)}


def _copies(metadata: Metadata, table: Table, frames: Mapping[str, pd.DataFrame], whole: set[str],
            s: DiscoverySettings) -> list[Rule]:
    out: list[Rule] = []
    frame = frames[table.name]
    mine = _Columns(table, frame)
    done: set[str] = set()
    for fk in _fks_to_whole(table, frames, whole):
        ptable = metadata.tables.get(fk.ref_table)
        if ptable is None:
            continue
        pframe = frames[ptable.name]
        theirs = _Columns(ptable, pframe)
        pos = lookup(pframe, fk.ref_columns, frame, fk.columns)
        found = pos >= 0
        if np.count_nonzero(found) < s.min_rows:
            continue
        # a quick test on a few rows spread over the child drops most pairs; the scorer judges the rest
        rows = np.flatnonzero(found)
        rows = rows[_spread(len(rows), 64)]
        pcols = [*theirs.numbers, *theirs.dates, *theirs.labels]
        varies: dict[str, bool] = {}
        probe: dict[str, np.ndarray] = {}  # each parent column's values at the probed rows, made once
        for c in (*mine.numbers, *mine.dates, *mine.labels):
            if c.name in done:
                continue
            ours = comparable(frame[c.name].iloc[rows]).to_numpy(dtype=object)
            for p in pcols:
                if _family(p) != _family(c):
                    continue
                if p.name not in probe:
                    probe[p.name] = comparable(pframe[p.name].iloc[pos[rows]]).to_numpy(dtype=object)
                if not _agree(ours, probe[p.name]):
                    continue
                if p.name not in varies:  # a constant parent column is no copy (counted once, when needed)
                    varies[p.name] = pframe[p.name].nunique(dropna=True) >= 2
                if not varies[p.name]:
                    continue
                rule = Copied(table=table.name, column=c.name, by=tuple(fk.columns), parent=ptable.name,
                              key=tuple(fk.ref_columns), parent_column=p.name)
                support = _holds(metadata, rule, frames, s.min_rows)
                if support is not None:
                    out.append(Copied(**{**_fields(rule), "support": support}))
                    done.add(c.name)
                    break
    return out


def _agree(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the values of ``a`` and ``b`` (object arrays of :func:`comparable` values) are equal where both
    are set (numbers within 1e-9 relative)."""
    both = pd.notna(a) & pd.notna(b)
    x, y = a[both], b[both]
    if all(isinstance(v, float) for v in x[:1]) and all(isinstance(v, float) for v in y[:1]):
        fx, fy = x.astype(np.float64), y.astype(np.float64)
        return bool(np.isclose(fx, fy, rtol=1e-9, atol=0.0).all())
    return bool((x == y).all())


def _aggregates(metadata: Metadata, table: Table, frames: Mapping[str, pd.DataFrame], whole: set[str],
                s: DiscoverySettings) -> list[Rule]:
    """Aggregate rules with ``table`` as the parent."""
    pframe = frames[table.name]
    targets = [c for c in _Columns(table, pframe).numbers
               if not pd.api.types.is_bool_dtype(pframe[c.name].dtype) and pframe[c.name].nunique() >= 2]
    if not targets:
        return []
    ys = {c.name: floats(pframe[c.name]) for c in targets}
    found: dict[str, Rule] = {}
    for cname, child in metadata.tables.items():
        if cname not in whole or cname not in frames:
            continue
        cframe = frames[cname]
        nums = [c.name for c in _Columns(child, cframe).numbers
                if not pd.api.types.is_bool_dtype(cframe[c.name].dtype)]
        for fk in child.foreign_keys:
            if fk.ref_table != table.name or not all(c in cframe.columns for c in fk.columns):
                continue
            terms: list[tuple[str, ...]] = []
            head = nums[: s.max_product_columns]
            terms += [(a, b) for i, a in enumerate(head) for b in head[i + 1:]]
            terms += [(a,) for a in nums]
            terms.append(())
            pos = lookup(pframe, fk.ref_columns, cframe, fk.columns)
            values = {c: floats(cframe[c]) for c in nums}
            for t in terms:
                left = [y for y in ys if y not in found]
                if not left:
                    break
                function = "sum" if t else "count"
                agg, counts = aggregate_at(pos, len(pframe), values, t, function)
                has = counts > 0
                if np.count_nonzero(has) < s.min_rows:
                    break
                for y in left:
                    agree, empty = _empty(ys[y][~has])
                    if not agree:
                        continue
                    with np.errstate(invalid="ignore"):
                        diff = np.abs(ys[y][has] - agg[has])
                        if not (diff <= tolerance(table.column(y).scale, agg[has])).all():
                            continue
                    rule = Aggregate(table=table.name, column=y, child=cname, by=tuple(fk.columns),
                                     key=tuple(fk.ref_columns), terms=t, function=function, empty=empty)
                    support = _holds(metadata, rule, frames, s.min_rows)
                    if support is not None:
                        found[y] = Aggregate(**{**_fields(rule), "support": support})
    return list(found.values())


def _empty(values: np.ndarray) -> tuple[bool, float | None]:
    """Whether childless parents agree on what they hold, and what: 0.0 (also when there are none) or None
    (all NULL)."""
    if not len(values):
        return True, 0.0
    if np.isnan(values).all():
        return True, None
    return bool((values == 0).all()), 0.0

