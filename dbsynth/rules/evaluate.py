"""How well frames keep rules (issue 17): per rule, the rows (parents, for per-parent kinds) it constrains and
the ones that keep it.

:func:`score` gives one :class:`~dbsynth.rules.records.RuleScore` per rule; :func:`holds` the per-row mask of
one rule on its table. What each kind counts (``total``) and calls kept:

* ``check``: every row; kept where the CHECK passes (SQL: NULL passes), through
  :func:`dbsynth.rules.checks.compile_check`; an opaque CHECK is not scored (detail).
* ``order``: rows where both columns are set; kept where ``high >= low`` (``>`` when strict).
* ``bound``: rows where the column is set; kept within the bounds.
* ``unique``: rows where every column is set; a row repeating an earlier row's values is broken (the first
  of each value is kept, so ``total - kept`` is the number of rows to change).
* ``domain``: rows where the column is set; kept where the value is one of ``values``.
* ``dependency``: rows where the determinant and the dependent are set; kept where the dependent is the value
  ``pairs`` gives for the determinant, or, for a determinant ``pairs`` does not hold, the value most rows of
  that determinant take in the frame (so one determinant with two dependents breaks its minority rows).
* ``combination``: rows where every column is set; kept where the combination is one of ``combos`` (when
  ``combos`` is empty: not scored).
* ``increment``: rows where the column is set; kept at a multiple of ``step``.
* ``one_hot``: rows where every column is set; kept where exactly one is 1 and the others 0.
* ``same_ancestor``: rows where ``via`` is set; kept where ``direct`` equals (NULL equal to NULL) the
  ``parent`` row's ``parent_direct`` (a ``via`` pointing at no parent row is broken).
* ``parent_sum``: parents (distinct set values of ``by``); kept where the sum is at most (exactly) ``bound``.
* ``aggregate``: rows of the parent table; kept where the column equals the aggregate of its children within
  half a unit of the column's decimal scale (1e-9 relative otherwise), or ``empty`` without children.
* ``copied``: rows where ``by`` points at a parent row and both values are set; kept where they are equal.
* ``custom``: every row; kept where the class's ``is_valid`` says so (its failure is the detail).

Values are compared by meaning, not by type: numbers as floats (a Decimal, an Int64 and a float of one value
are equal), dates and timestamps as microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..metadata.records import Metadata, Table
from .records import (
    Aggregate,
    Bound,
    Check,
    Combination,
    Copied,
    Custom,
    Dependency,
    Domain,
    Increment,
    OneHot,
    Order,
    ParentSum,
    Rule,
    RuleScore,
    SameAncestor,
    Unique,
)

__all__ = ["holds", "score"]  # and the helpers rules.discover shares


class _Unscorable(Exception):
    """The rule cannot be judged on these frames (the message is the detail)."""


# ---- values -------------------------------------------------------------------------------------------------
def floats(s: pd.Series) -> np.ndarray:
    """``s`` as float64 with NaN for NULL: numbers, decimals (object Decimal), booleans as 0/1, dates and
    timestamps as microseconds since the epoch; NaN for what is not a number."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert(None)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        raw = s.astype("datetime64[us]").to_numpy().view("i8")
        out = raw.astype(np.float64)
        out[raw == np.iinfo(np.int64).min] = np.nan
        return out
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def is_set(s: pd.Series) -> np.ndarray:
    """Where ``s`` is not NULL."""
    return s.notna().to_numpy(dtype=bool)


def _numeric_like(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s.dtype):
        return False
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        return True
    if s.dtype == object:
        # an object column of numbers (Decimal) tells by its first value
        here = s.notna().to_numpy(dtype=bool)
        if not here.any():
            return False
        first = s.iloc[int(np.argmax(here))]
        return not isinstance(first, str | bytes | bool | np.bool_) and pd.api.types.is_number(first)
    return False


def comparable(s: pd.Series) -> pd.Series:
    """``s`` in a form whose equal values are equal across types: numbers and datetimes as float64 (integers
    beyond 2**53, which a float cannot tell apart, as Int64), the rest as they are (strings, booleans)."""
    if pd.api.types.is_integer_dtype(s.dtype):
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)
        if len(x) and np.nanmax(np.abs(x), initial=0.0) >= 2.0**53:
            # BIGINT UNSIGNED past 2**63 does not fit Int64
            unsigned = pd.api.types.is_unsigned_integer_dtype(s.dtype)
            return s.astype("UInt64" if unsigned else "Int64")
        return pd.Series(x, index=s.index)
    if _numeric_like(s):
        return pd.Series(floats(s), index=s.index)
    return s


def scalar_key(v: Any) -> Any:
    """A stored rule value in the form :func:`comparable` gives (numbers as float)."""
    if isinstance(v, bool | np.bool_) or v is None or isinstance(v, str):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def group_codes(frame: pd.DataFrame, cols: Sequence[str]) -> tuple[np.ndarray, int]:
    """One code per row for the combination of ``cols`` (dense from 0; -1 where one of them is NULL) and the
    number of combinations."""
    null = np.zeros(len(frame), dtype=bool)
    key = np.zeros(len(frame), dtype=np.int64)
    for c in cols:
        codes, uniques = pd.factorize(comparable(frame[c]), use_na_sentinel=True)
        null |= codes < 0
        # refactorized after each column, so the key stays below the row count (no overflow)
        key = pd.factorize(key * (len(uniques) + 1) + np.maximum(codes, 0))[0].astype(np.int64)
    out = np.full(len(frame), -1, dtype=np.int64)
    dense, uniques = pd.factorize(key[~null])
    out[~null] = dense
    return out, len(uniques)


def lookup(parent: pd.DataFrame, key: Sequence[str], child: pd.DataFrame, by: Sequence[str]) -> np.ndarray:
    """Per ``child`` row, the position of the ``parent`` row its ``by`` columns reference through ``key``
    (-1: a NULL reference or no such parent row)."""
    if len(key) == 1:
        idx = pd.Index(comparable(parent[key[0]]))
        probe: Any = comparable(child[by[0]])
        null = ~is_set(child[by[0]])
    else:
        idx = pd.MultiIndex.from_arrays([comparable(parent[k]) for k in key])
        probe = pd.MultiIndex.from_arrays([comparable(child[b]) for b in by])
        null = np.zeros(len(child), dtype=bool)
        for b in by:
            null |= ~is_set(child[b])
    if not idx.is_unique:
        keep = ~idx.duplicated()
        idx = idx[keep]
        where = np.flatnonzero(keep)
    else:
        where = None
    pos = np.asarray(idx.get_indexer(probe), dtype=np.int64)
    if where is not None:
        pos = np.where(pos >= 0, where[np.maximum(pos, 0)], -1)
    pos[null] = -1
    return pos


def _equal(a: pd.Series, b: pd.Series, *, null_equal: bool) -> np.ndarray:
    """Row-wise equality of two aligned series by meaning (floats within 1e-9 relative)."""
    sa, sb = is_set(a), is_set(b)
    if _numeric_like(a) or _numeric_like(b):
        fa, fb = floats(a), floats(b)
        with np.errstate(invalid="ignore"):
            eq = np.isclose(fa, fb, rtol=1e-9, atol=0.0) | (fa == fb)
    else:
        # compared where both are set only: pd.NA has no truth value
        both = sa & sb
        eq = np.zeros(len(a), dtype=bool)
        eq[both] = np.asarray(a.to_numpy(dtype=object)[both] == b.to_numpy(dtype=object)[both], dtype=bool)
    eq &= sa & sb
    if null_equal:
        eq |= ~sa & ~sb
    return eq


def tolerance(col_scale: int | None, values: np.ndarray) -> np.ndarray:
    """How far an aggregate may be from the stored value: half a unit of the decimal scale, else 1e-9
    relative."""
    rel = 1e-9 * np.maximum(np.abs(values), 1.0)
    if col_scale is not None and col_scale >= 0:
        return np.maximum(rel, 0.5 * 10.0 ** (-col_scale) * (1 + 1e-6))
    return rel


# ---- per kind -----------------------------------------------------------------------------------------------
def _frame(metadata: Metadata, frames: Mapping[str, pd.DataFrame], name: str, cols: Iterable[str]) -> pd.DataFrame:
    if name not in frames:
        raise _Unscorable(f"no rows of table '{name}'")
    frame = frames[name]
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise _Unscorable(f"table '{name}' has no column {', '.join(repr(c) for c in missing)}")
    return frame


def _table(metadata: Metadata, name: str) -> Table:
    if name not in metadata.tables:
        raise _Unscorable(f"no table '{name}' in the metadata")
    return metadata.tables[name]


def _check(metadata: Metadata, rule: Check, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    from .checks import compile_check

    compiled = compile_check(_table(metadata, rule.table), rule.sqltext, rule.constraint, metadata.dialect)
    if not compiled.enforced:
        raise _Unscorable(f"CHECK not evaluable ({compiled.reason})")
    if not compiled.evaluable(frame):
        raise _Unscorable("the frame lacks a column the CHECK names")
    return np.ones(len(frame), dtype=bool), np.asarray(compiled.is_valid(frame), dtype=bool)


def _order(rule: Order, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = floats(frame[rule.low]), floats(frame[rule.high])
    on = ~np.isnan(lo) & ~np.isnan(hi)
    with np.errstate(invalid="ignore"):
        ok = (hi > lo) if rule.strict else (hi >= lo)
    return on, on & ok


def _bound(rule: Bound, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    x = floats(frame[rule.column])
    on = ~np.isnan(x)
    ok = on.copy()
    with np.errstate(invalid="ignore"):
        if rule.low is not None:
            ok &= (x > rule.low) if rule.strict_low else (x >= rule.low)
        if rule.high is not None:
            ok &= (x < rule.high) if rule.strict_high else (x <= rule.high)
    return on, ok


def _unique(rule: Unique, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    codes, _ = group_codes(frame, list(rule.names))
    on = codes >= 0
    dup = pd.Series(codes).duplicated(keep="first").to_numpy()
    return on, on & ~dup


def _domain(rule: Domain, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    s = frame[rule.column]
    on = is_set(s)
    if _numeric_like(s):
        allowed = np.array([scalar_key(v) for v in rule.values if v is not None], dtype=np.float64)
        x = floats(s)
        ok = np.isin(np.round(x, 9), np.round(allowed, 9))
    else:
        ok = s.isin([v for v in rule.values if v is not None]).to_numpy(dtype=bool)
    return on, on & ok


def _key_index(values: Sequence[tuple[Any, ...]], width: int) -> pd.Index:
    cols = [[scalar_key(v[i]) for v in values] for i in range(width)]
    if width == 1:
        return pd.Index(cols[0], dtype=object)
    return pd.MultiIndex.from_arrays([pd.Index(c, dtype=object) for c in cols])


def _probe(frame: pd.DataFrame, cols: Sequence[str]) -> pd.Index:
    conv = [comparable(frame[c]).astype(object) for c in cols]
    if len(cols) == 1:
        return pd.Index(conv[0], dtype=object)
    return pd.MultiIndex.from_arrays([pd.Index(c, dtype=object) for c in conv])


def _dependency(rule: Dependency, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    det = list(rule.determinant)
    g, n_groups = group_codes(frame, det)
    dep = comparable(frame[rule.dependent])
    d, _ = pd.factorize(dep, use_na_sentinel=True)
    on = (g >= 0) & (d >= 0)
    # per determinant group, the dependent most of its rows take (ties: the first value seen)
    if on.any():
        pairs = pd.DataFrame({"g": g[on], "d": d[on]})
        counts = pairs.groupby(["g", "d"], sort=False).size().reset_index(name="n")
        counts = counts.sort_values(["g", "n"], ascending=[True, False], kind="stable")
        mode = counts.drop_duplicates("g").set_index("g")["d"]
        expected = np.full(max(n_groups, 1), -2, dtype=np.int64)
        expected[mode.index.to_numpy()] = mode.to_numpy()
        ok = on & (expected[np.maximum(g, 0)] == d)
    else:
        ok = on.copy()
    if rule.pairs:
        stored = _key_index([p[0] for p in rule.pairs], len(det))
        pos = np.asarray(stored.get_indexer(_probe(frame, det)), dtype=np.int64)
        known = on & (pos >= 0)
        if known.any():
            want = pd.Series([scalar_key(p[1]) for p in rule.pairs], dtype=object).to_numpy()
            got = dep.astype(object).to_numpy()
            ok[known] = np.asarray(got[known] == want[pos[known]], dtype=bool)
    return on, ok


def _combination(rule: Combination, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if not rule.combos:
        raise _Unscorable("no combinations stored")
    cols = list(rule.names)
    codes, _ = group_codes(frame, cols)
    on = codes >= 0
    stored = _key_index(list(rule.combos), len(cols))
    ok = on & (np.asarray(stored.get_indexer(_probe(frame, cols))) >= 0)
    return on, ok


def _increment(rule: Increment, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    x = floats(frame[rule.column])
    on = ~np.isnan(x)
    if not rule.step:
        raise _Unscorable("step 0")
    q = x / rule.step
    with np.errstate(invalid="ignore"):
        ok = on & (np.abs(q - np.round(q)) <= 1e-9 * np.maximum(np.abs(q), 1.0))
    return on, ok


def _one_hot(rule: OneHot, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    m = np.column_stack([floats(frame[c]) for c in rule.names])
    on = ~np.isnan(m).any(axis=1)
    ok = on & np.isin(m, (0.0, 1.0)).all(axis=1) & (np.nansum(m, axis=1) == 1)
    return on, ok


def _same_ancestor(rule: SameAncestor, frame: pd.DataFrame, parent: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    on = np.ones(len(frame), dtype=bool)
    for c in rule.via:
        on &= is_set(frame[c])
    pos = lookup(parent, rule.parent_key, frame, rule.via)
    found = pos >= 0
    ok = on & found
    if not len(parent):  # no parent row: every constrained row points at none (nothing to take values from)
        return on, ok
    take = np.maximum(pos, 0)
    for d, pd_ in zip(rule.direct, rule.parent_direct, strict=True):
        theirs = parent[pd_].iloc[take].reset_index(drop=True)
        ok &= _equal(frame[d].reset_index(drop=True), theirs, null_equal=True)
    return on, ok


def per_parent_sums(frame: pd.DataFrame, by: Sequence[str], column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct set value of ``by``: the sum of ``column`` (NULLs as 0), the number of rows, and the
    largest single value."""
    g, n = group_codes(frame, list(by))
    return sums_at(g, n, floats(frame[column]))


def sums_at(g: np.ndarray, n: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`per_parent_sums` with the rows' group codes known (``g``, -1: none; ``n`` groups) and the
    column as :func:`floats` (``x``)."""
    on = g >= 0
    x = x[on]
    gg = g[on]
    xs = np.nan_to_num(x, nan=0.0)
    sums = np.bincount(gg, weights=xs, minlength=n)
    counts = np.bincount(gg, minlength=n)
    top = np.full(n, -np.inf)
    np.maximum.at(top, gg, xs)
    return sums, counts, top


def _parent_sum(rule: ParentSum, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    sums, _, _ = per_parent_sums(frame, rule.by, rule.column)
    tol = 1e-6 * max(1.0, abs(rule.bound))
    ok = (np.abs(sums - rule.bound) <= tol) if rule.exact else (sums <= rule.bound + tol)
    return np.ones(len(sums), dtype=bool), ok


def aggregate_of(parent: pd.DataFrame, key: Sequence[str], child: pd.DataFrame, by: Sequence[str],
                 terms: Sequence[str], function: str) -> tuple[np.ndarray, np.ndarray]:
    """Per ``parent`` row, the aggregate of its ``child`` rows (``sum`` of the product of ``terms``, NULL
    products left out; or ``count``) and the number of children."""
    values = {t: floats(child[t]) for t in terms} if function != "count" else {}
    return aggregate_at(lookup(parent, key, child, by), len(parent), values, terms, function)


def aggregate_at(pos: np.ndarray, n_parents: int, values: Mapping[str, np.ndarray], terms: Sequence[str],
                 function: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`aggregate_of` with the children's parent positions known (``pos``, -1: none) and their
    ``values`` as :func:`floats` (the ``terms`` at least)."""
    on = pos >= 0
    counts = np.bincount(pos[on], minlength=n_parents)
    if function == "count":
        return counts.astype(np.float64), counts
    prod = np.ones(len(pos), dtype=np.float64)
    for t in terms:
        prod = prod * values[t]
    prod = np.nan_to_num(prod[on], nan=0.0)
    return np.bincount(pos[on], weights=prod, minlength=n_parents), counts


def _aggregate(metadata: Metadata, rule: Aggregate, frame: pd.DataFrame,
               child: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if rule.function not in ("sum", "count"):
        raise _Unscorable(f"unknown function {rule.function!r}")
    agg, counts = aggregate_of(frame, rule.key, child, rule.by, rule.terms, rule.function)
    y = floats(frame[rule.column])
    scale = None
    table = metadata.tables.get(rule.table)
    if table is not None and table.has_column(rule.column):
        scale = table.column(rule.column).scale
    with np.errstate(invalid="ignore"):
        close = np.abs(y - agg) <= tolerance(scale, agg)
        if rule.empty is None:
            empty_ok = np.isnan(y)
        else:
            empty_ok = np.abs(y - rule.empty) <= tolerance(scale, np.full(len(y), float(rule.empty)))
    ok = np.where(counts > 0, close, empty_ok)
    return np.ones(len(frame), dtype=bool), np.asarray(ok, dtype=bool)


def _copied(rule: Copied, frame: pd.DataFrame, parent: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    pos = lookup(parent, rule.key, frame, rule.by)
    if not len(parent):  # no parent row: no child row is constrained
        return np.zeros(len(frame), dtype=bool), np.zeros(len(frame), dtype=bool)
    theirs = parent[rule.parent_column].iloc[np.maximum(pos, 0)].reset_index(drop=True)
    mine = frame[rule.column].reset_index(drop=True)
    on = (pos >= 0) & is_set(mine) & is_set(theirs)
    return on, on & _equal(mine, theirs, null_equal=False)


def _custom(rule: Custom, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    from .custom import load_custom

    try:
        valid = np.asarray(load_custom(rule).is_valid(frame), dtype=bool)
    except Exception as exc:  # a user's class: any failure is the detail, never the run's end
        raise _Unscorable(f"custom constraint failed: {type(exc).__name__}: {exc}") from None
    if valid.shape != (len(frame),):
        raise _Unscorable(f"custom constraint's is_valid gave {valid.shape[0] if valid.ndim else 0} values for "
                          f"{len(frame)} rows")
    return np.ones(len(frame), dtype=bool), valid


def _judge(metadata: Metadata, rule: Rule, frames: Mapping[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """(constrained, kept) masks over the rule's units: rows of ``rule.table`` (parents for ``parent_sum``)."""
    if isinstance(rule, Custom):
        return _custom(rule, _frame(metadata, frames, rule.table, ()))
    _table(metadata, rule.table)
    cols: tuple[str, ...] = rule.columns
    if isinstance(rule, Aggregate | Copied):
        cols = (*cols, *(rule.key if isinstance(rule, Aggregate) else rule.by))
    frame = _frame(metadata, frames, rule.table, cols)
    if isinstance(rule, Check):
        return _check(metadata, rule, frame)
    if isinstance(rule, Order):
        return _order(rule, frame)
    if isinstance(rule, Bound):
        return _bound(rule, frame)
    if isinstance(rule, Unique):
        return _unique(rule, frame)
    if isinstance(rule, Domain):
        return _domain(rule, frame)
    if isinstance(rule, Dependency):
        return _dependency(rule, frame)
    if isinstance(rule, Combination):
        return _combination(rule, frame)
    if isinstance(rule, Increment):
        return _increment(rule, frame)
    if isinstance(rule, OneHot):
        return _one_hot(rule, frame)
    if isinstance(rule, ParentSum):
        return _parent_sum(rule, frame)
    if isinstance(rule, SameAncestor):
        _table(metadata, rule.parent)
        parent = _frame(metadata, frames, rule.parent, (*rule.parent_key, *rule.parent_direct))
        return _same_ancestor(rule, frame, parent)
    if isinstance(rule, Aggregate):
        _table(metadata, rule.child)
        child = _frame(metadata, frames, rule.child, (*rule.by, *rule.terms))
        return _aggregate(metadata, rule, frame, child)
    if isinstance(rule, Copied):
        _table(metadata, rule.parent)
        parent = _frame(metadata, frames, rule.parent, (*rule.key, rule.parent_column))
        return _copied(rule, frame, parent)
    raise _Unscorable(f"no scorer for rules of kind {rule.kind}")


def score(metadata: Metadata, rules: Iterable[Rule], frames: Mapping[str, pd.DataFrame]) -> list[RuleScore]:
    """Per rule, the rows of ``frames`` that keep it (a rule whose tables are missing: total 0 and a detail).

    Args:
        metadata: the tables (for CHECKs' column types and aggregates' decimal scales).
        rules: the rules to score.
        frames: per table, the rows to judge (synthetic ones, or real ones to check a discovery).

    Returns:
        One :class:`RuleScore` per rule, in the order given: ``total`` the rows (parents, for ``parent_sum``)
        the rule constrains, ``kept`` those that keep it (the module docstring says what each kind counts).
    """
    out = []
    for rule in rules:
        try:
            on, ok = _judge(metadata, rule, frames)
        except _Unscorable as exc:
            out.append(RuleScore(rule, 0, 0, detail=str(exc)))
            continue
        out.append(RuleScore(rule, int(np.count_nonzero(ok & on)), int(np.count_nonzero(on))))
    return out


def holds(metadata: Metadata, rule: Rule, frames: Mapping[str, pd.DataFrame]) -> np.ndarray | None:
    """Per row of ``frames[rule.table]``, whether it keeps ``rule`` (rows the rule does not constrain keep it);
    None when the rule cannot be judged on these frames or is judged per parent (``parent_sum``)."""
    if isinstance(rule, ParentSum):
        return None
    try:
        on, ok = _judge(metadata, rule, frames)
    except _Unscorable:
        return None
    return ~on | ok
