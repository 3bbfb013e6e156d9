"""Rules across tables kept while sampling (issue 17): the engine's part of :mod:`dbsynth.rules`.

Within-table rules are :func:`dbsynth.rules.keep.keep`'s. The ones here need other tables' sampled rows, which
only the engine holds:

- :class:`~dbsynth.rules.records.SameAncestor` and :class:`~dbsynth.rules.records.Copied` are set per batch,
  after the references (:func:`keep_cross`): a reference or a column taken from the parent row a reference
  points at;
- :class:`~dbsynth.rules.records.Unique` rules become unique constraints of the table the engine hands
  :func:`~dbsynth.sample.repair.repair` and the reference-key checks (:func:`with_unique_rules`), so they hold
  across batches like the declared ones;
- :class:`~dbsynth.rules.records.Aggregate` is summed batch by batch over the children and sent as updates of
  the parent once every child row is out (:class:`Aggregates`).

Parents are looked up by key through :class:`ParentIndex` (a parent's rows do not change once sampled, so each
lookup structure is built once per run).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..metadata import Table
from ..metadata import sdtypes as st
from ..metadata.records import ForeignKey, UniqueConstraint
from ..model.fold import KeyIndex
from ..rules.records import Aggregate, Copied, Rule, RuleKind, RuleSet, SameAncestor, Unique
from .plan import OverrideKind, SamplePlan, TableMode

__all__ = [
    "CROSS_KINDS",
    "Aggregates",
    "ParentIndex",
    "keep_copied",
    "keep_after_plan",
    "keep_copied_again",
    "keep_cross",
    "keep_same_ancestor",
    "lifted_rules",
    "rule_columns",
    "within_rules",
    "with_unique_rules",
]

log = logging.getLogger("dbsynth")

#: Kinds the engine keeps itself (across tables, or as unique constraints); the others go to ``keep()``.
CROSS_KINDS = frozenset({RuleKind.SAME_ANCESTOR, RuleKind.COPIED, RuleKind.AGGREGATE, RuleKind.UNIQUE})


#: Per within-table kind, the fields naming columns (what :func:`lifted_rules` renames).
_COLUMN_FIELDS: dict[RuleKind, tuple[str, ...]] = {
    RuleKind.ORDER: ("low", "high"), RuleKind.BOUND: ("column",), RuleKind.DOMAIN: ("column",),
    RuleKind.DEPENDENCY: ("determinant", "dependent"), RuleKind.COMBINATION: ("names",),
    RuleKind.INCREMENT: ("column",), RuleKind.ONE_HOT: ("names",),
}


def within_rules(rules: RuleSet, table: str) -> list[Rule]:
    """The rules of ``table`` that :func:`dbsynth.rules.keep.keep` keeps (every kind but :data:`CROSS_KINDS`),
    with those of its children lifted onto its columns (:func:`lifted_rules`)."""
    own = [r for r in rules.for_table(table) if r.kind not in CROSS_KINDS]
    return own + lifted_rules(rules).get(table, [])


def lifted_rules(rules: RuleSet) -> dict[str, list[Rule]]:
    """Within-table rules of a child over columns all copied from one parent row (one ``by``), restated on the
    parent's columns, per parent table.

    A copied value is the parent's (:func:`keep_copied_again` applies the copies after the within-table rules),
    so a child's rule over copied columns (``invoice``'s billing state -> billing country, both copied from
    ``customer``) holds only if the parent's rows keep it: they are made to. Lifted again through chains of
    copies (a grandchild's copy of a copy).
    """
    out: dict[str, list[Rule]] = {}
    todo = [r for r in rules if r.kind in _COLUMN_FIELDS]
    for _ in range(8):  # chains of copies are short; bounded in case of a cycle of copies
        more = []
        for r in todo:
            lifted = _lift(r, [c for c in rules.for_table(r.table) if isinstance(c, Copied)])
            if lifted is not None:
                out.setdefault(lifted.table, []).append(lifted)
                more.append(lifted)
        if not more:
            break
        todo = more
    return out


def _lift(rule: Rule, copies: list[Copied]) -> Rule | None:
    """``rule`` on the parent's columns when every column it names is copied from one parent through one ``by``."""
    for by in {(c.parent, c.by) for c in copies}:
        mapping = {c.column: c.parent_column for c in copies if (c.parent, c.by) == by}
        if rule.columns and all(col in mapping for col in rule.columns):
            renamed: dict[str, Any] = {}
            for name in _COLUMN_FIELDS[rule.kind]:
                v = getattr(rule, name)
                renamed[name] = tuple(mapping[x] for x in v) if isinstance(v, tuple) else mapping[v]
            return dataclasses.replace(rule, table=by[0], **renamed)
    return None


def with_unique_rules(table: Table, rules: RuleSet) -> Table:
    """``table`` with its :class:`Unique` rules added as unique constraints (a copy; ``table`` itself when it has
    none), so that repair and the reference-key checks keep them like declared ones.

    A rule over references only (a key-less bridge table's pair) is then a key made of references: the engine
    trades the duplicated rows' references (:func:`~dbsynth.sample.refs.redraw_duplicates`) and drops what is left
    (:func:`~dbsynth.sample.refs.unique_mask`), instead of changing a reference into a key no parent has.
    Rules naming a column the table lacks, its primary key or an existing constraint's columns are skipped.
    """
    have = {frozenset(u.columns) for u in table.unique_constraints}
    if table.primary_key:
        have.add(frozenset(table.primary_key))
    extra = []
    for r in rules.for_table(table.name):
        if not isinstance(r, Unique) or not r.names or not all(table.has_column(c) for c in r.names):
            continue
        if frozenset(r.names) in have:
            continue
        have.add(frozenset(r.names))
        extra.append(UniqueConstraint(list(r.names), name=r.name))
    if not extra:
        return table
    return dataclasses.replace(table, unique_constraints=[*table.unique_constraints, *extra])


def rule_columns(rules: RuleSet, tables: Mapping[str, Table]) -> dict[str, list[str]]:
    """Columns each table must keep once sampled for the cross-table rules of later tables: the key and the
    copied columns of a :class:`SameAncestor` or :class:`Copied` parent, an :class:`Aggregate` parent's primary
    key (its updates) and referenced key."""
    out: dict[str, list[str]] = {}

    def add(t: str, cols: Sequence[str]) -> None:
        if t in tables:
            have = out.setdefault(t, [])
            for c in cols:
                if c not in have and tables[t].has_column(c):
                    have.append(c)

    for r in rules:
        if isinstance(r, SameAncestor):
            add(r.parent, [*r.parent_key, *r.parent_direct])
        elif isinstance(r, Copied):
            add(r.parent, [*r.key, r.parent_column])
        elif isinstance(r, Aggregate) and r.table in tables:
            add(r.table, [*tables[r.table].primary_key, *r.key])
    return out


@dataclass
class _Groups:
    """A parent's rows grouped by their reference to an ancestor: rows of a group are ``order[start:start+size]``
    (random order within the group); the group of a value is the position of the first row holding it."""

    index: KeyIndex
    order: np.ndarray
    start: np.ndarray
    size: np.ndarray


@dataclass
class ParentIndex:
    """Lookups into sampled parent tables, each built once (a parent's rows do not change once sampled)."""

    keys: dict[tuple[str, tuple[str, ...]], KeyIndex] = field(default_factory=dict)
    groups: dict[tuple[str, tuple[str, ...]], _Groups] = field(default_factory=dict)

    def positions(self, parent: str, pframe: pd.DataFrame, key: Sequence[str], frame: pd.DataFrame,
                  cols: Sequence[str]) -> np.ndarray:
        """Row of ``pframe`` each row of ``frame`` references through ``cols`` (onto ``key``); -1: NULL, none."""
        k = (parent, tuple(key))
        if k not in self.keys:
            self.keys[k] = KeyIndex(pframe, list(key))
        return self.keys[k].lookup(frame, list(cols))

    def grouped(self, parent: str, pframe: pd.DataFrame, cols: Sequence[str], rng: np.random.Generator) -> _Groups:
        """``pframe``'s rows grouped by their values of ``cols`` (rows with a NULL in them in no group)."""
        k = (parent, tuple(cols))
        if k not in self.groups:
            index = KeyIndex(pframe, list(cols))
            gid = index.lookup(pframe, list(cols))
            perm = rng.permutation(len(pframe))
            order = perm[np.argsort(gid[perm], kind="stable")]
            sorted_g = gid[order]
            lo = int(np.searchsorted(sorted_g, 0))
            ug, first, counts = np.unique(sorted_g[lo:], return_index=True, return_counts=True)
            start = np.full(len(pframe), -1, dtype=np.int64)
            size = np.zeros(len(pframe), dtype=np.int64)
            start[ug] = first + lo
            size[ug] = counts
            self.groups[k] = _Groups(index, order, start, size)
        return self.groups[k]


def keep_cross(frame: pd.DataFrame, table: Table, rules: RuleSet, parents: Mapping[str, pd.DataFrame],
               driving: Sequence[str], index: ParentIndex, rng: np.random.Generator) -> None:
    """Make one batch of ``table`` keep its :class:`SameAncestor` then :class:`Copied` rules (in place).

    Args:
        frame: the batch, its references set.
        table: its table.
        rules: every rule (those of ``table`` are applied).
        parents: the sampled rows of the tables done so far (the kept columns of each).
        driving: the driving key's columns (the batch holds whole parents along it), empty for none.
        index: lookups shared by the batches of the run.
        rng: the random stream of the rules of this batch.
    """
    mine = rules.for_table(table.name)
    for r in mine:
        if isinstance(r, SameAncestor) and r.parent in parents:
            keep_same_ancestor(frame, table, r, parents[r.parent], driving, index, rng)
    for r in mine:
        if isinstance(r, Copied) and r.parent in parents:
            keep_copied(frame, table, r, parents[r.parent], index)


def keep_copied_again(frame: pd.DataFrame, table: Table, rules: RuleSet, parents: Mapping[str, pd.DataFrame],
                      index: ParentIndex) -> None:
    """The :class:`Copied` rules of ``table`` applied again (in place) after the within-table rules changed the
    batch: the parent's value is a row already written, so it wins (a dependency between two copied columns
    then holds where it holds in the parent's rows)."""
    for r in rules.for_table(table.name):
        if isinstance(r, Copied) and r.parent in parents:
            keep_copied(frame, table, r, parents[r.parent], index)


def keep_after_plan(frame: pd.DataFrame, table: Table, rules: RuleSet, plan: SamplePlan,
                    index: ParentIndex) -> pd.DataFrame:
    """A shaped batch of a synthesized ``table`` (:func:`~dbsynth.sample.plan.shape`) with its cross-table
    rules made to hold on what is written (``frame`` itself when nothing changes).

    The batch was drawn from the sampled rows of its parents, but a ``copy`` parent is written as its real rows,
    the batch's references remapped onto them: a :class:`Copied` column takes the real row's value, and a
    :class:`SameAncestor` ``direct`` the real ``parent`` row's reference when the ancestor is copied too (its
    real keys are then the written ones). A parent column the config fixes (a constant, NULL) is copied as
    fixed. Other overrides (PII in another locale) are drawn after the copy and break it: left as drawn.
    """
    mine = [r for r in rules.for_table(table.name) if isinstance(r, Copied | SameAncestor)]
    own = plan.tables.get(table.name)
    if not mine or own is None or not len(frame):
        return frame
    out = None
    for r in mine:
        parent = plan.tables.get(r.parent)
        if parent is None:
            continue
        cols = [r.column] if isinstance(r, Copied) else list(r.direct)
        if any(c in own.overrides or c not in frame.columns for c in cols):
            continue  # the config's value wins
        if parent.mode is TableMode.COPY and parent.real_rows is not None:
            if isinstance(r, SameAncestor):
                ancestor = plan.tables.get(r.ancestor)
                if ancestor is None or ancestor.mode is not TableMode.COPY:
                    continue  # the real parent's references point at real ancestor rows that are not written
            real = parent.real_rows
            need = (*r.key, r.parent_column) if isinstance(r, Copied) else (*r.parent_key, *r.parent_direct)
            if not all(c in real.columns for c in need):
                continue
            out = frame.copy() if out is None else out
            if isinstance(r, Copied):
                pos = index.positions(r.parent, real, r.key, out, r.by)
                _take(out, [r.column], real, [r.parent_column], pos, table.column(r.column).nullable)
            else:
                pos = index.positions(r.parent, real, r.parent_key, out, r.via)
                nullable = all(table.column(c).nullable for c in r.direct)
                _take(out, list(r.direct), real, list(r.parent_direct), pos, nullable)
        elif isinstance(r, Copied) and parent.mode is TableMode.SYNTHESIZE:
            fixed = parent.overrides.get(r.parent_column)
            if fixed is not None and fixed.fixed:
                out = frame.copy() if out is None else out
                has = out[list(r.by)].notna().all(axis=1).to_numpy()
                col = out[r.column].astype(object)
                col[has] = fixed.value if fixed.kind is OverrideKind.CONSTANT else None
                out[r.column] = col
    return frame if out is None else out


def keep_same_ancestor(frame: pd.DataFrame, table: Table, rule: SameAncestor, pframe: pd.DataFrame,
                       driving: Sequence[str], index: ParentIndex, rng: np.random.Generator) -> None:
    """Rows whose ``via`` is set get ``direct`` equal to the ``via`` parent's ``parent_direct`` (in place).

    When ``direct`` is the driving key, the batch is grouped by it and each driving parent has its drawn number
    of children: ``via`` is chosen instead, among the other parent's rows that reference the same ancestor
    (round robin in a random order, so those rows share the children evenly). Rows whose ancestor has no such
    row lose ``via`` when it is nullable, else take ``direct`` from it. Otherwise ``direct`` is derived from
    ``via``; where the parent's value is NULL, ``direct`` is NULL if nullable, else left as drawn.
    """
    direct, via = list(rule.direct), list(rule.via)
    if not len(frame) or set(direct) & set(via) or not all(c in frame.columns for c in (*direct, *via)) \
            or not all(c in pframe.columns for c in (*rule.parent_key, *rule.parent_direct)):
        return
    pos = index.positions(rule.parent, pframe, rule.parent_key, frame, via)
    if driving and list(driving) == direct:
        groups = index.grouped(rule.parent, pframe, rule.parent_direct, rng)
        g = groups.index.lookup(frame, direct)
        ok = (pos >= 0) & (g >= 0)
        ok[ok] = groups.size[g[ok]] > 0
        if ok.any():
            gs = g[ok]
            rank = pd.Series(gs).groupby(gs).cumcount().to_numpy()
            # a random rotation per group: the first rows of every group do not all take its first member
            ug, inv = np.unique(gs, return_inverse=True)
            offset = rng.integers(0, groups.size[ug])[inv]
            pos = pos.copy()
            pos[ok] = groups.order[groups.start[gs] + (offset + rank) % groups.size[gs]]
        rest = (pos >= 0) & ~ok
        if rest.any() and all(table.column(c).nullable for c in via):
            pos = np.where(rest, -1, pos)
            rest[:] = False
        _set_reference(frame, ForeignKey(via, rule.parent, list(rule.parent_key)), pframe, pos)
        if not rest.any():
            return
        pos = np.where(rest, pos, -1)
    nullable = all(table.column(c).nullable for c in direct)
    _take(frame, direct, pframe, list(rule.parent_direct), pos, nullable)


def keep_copied(frame: pd.DataFrame, table: Table, rule: Copied, pframe: pd.DataFrame, index: ParentIndex) -> None:
    """``column`` set to the referenced parent row's ``parent_column`` where ``by`` is set (in place), the
    column's dtype kept where the values allow (repair then fits them to the column: scale, length)."""
    named = all(c in frame.columns for c in (rule.column, *rule.by))
    if not len(frame) or not named or not all(c in pframe.columns for c in (*rule.key, rule.parent_column)):
        return
    pos = index.positions(rule.parent, pframe, rule.key, frame, rule.by)
    _take(frame, [rule.column], pframe, [rule.parent_column], pos, table.column(rule.column).nullable)


def _set_reference(frame: pd.DataFrame, fk: ForeignKey, pframe: pd.DataFrame, pos: np.ndarray) -> None:
    """The reference ``fk`` of every row set to the parent row at ``pos`` (-1: NULL), each column's dtype kept
    where no NULL forbids it."""
    null = pos < 0
    safe = np.where(null, 0, pos)
    for c, rc in zip(fk.columns, fk.ref_columns):
        src = pframe[rc]
        vals = pd.Series(src.array.take(safe), dtype=src.dtype)
        if null.any():
            vals = vals.astype("Int64") if pd.api.types.is_integer_dtype(vals) else vals.astype("object")
            vals[null] = None
        frame[c] = _like(vals, frame[c])


def _take(frame: pd.DataFrame, cols: list[str], pframe: pd.DataFrame, pcols: list[str], pos: np.ndarray,
          nullable: bool) -> None:
    """``cols`` of the rows with ``pos >= 0`` set to ``pcols`` of the parent rows at ``pos``; where a parent
    value is NULL: NULL when ``nullable``, else the row's value is left."""
    if not len(pframe):
        return
    hit = pos >= 0
    safe = np.where(hit, pos, 0)
    vals = {pc: pd.Series(pframe[pc].array.take(safe), dtype=pframe[pc].dtype) for pc in pcols}
    full = np.ones(len(frame), dtype=bool)
    for v in vals.values():
        full &= v.notna().to_numpy()
    put = hit & (full | nullable)
    if not put.any():
        return
    for c, pc in zip(cols, pcols):
        old = frame[c]
        if isinstance(old.dtype, pd.CategoricalDtype):
            old = old.astype(object)  # a copied value may be no category of the drawn column
        new = vals[pc].where(put, old.reset_index(drop=True))
        new.index = frame.index
        frame[c] = _like(new, old)


def _like(values: pd.Series, like: pd.Series) -> pd.Series:
    """``values`` in ``like``'s dtype when they fit it (NULLs into numpy integers: ``Int64``)."""
    if values.dtype == like.dtype:
        return values
    target = like.dtype
    if isinstance(target, np.dtype) and target.kind in "iub" and values.isna().any():
        target = pd.Int64Dtype() if target.kind in "iu" else pd.BooleanDtype()
    try:
        return values.astype(target)
    except (TypeError, ValueError, OverflowError):
        return values


@dataclass
class _Sum:
    """One aggregate rule's running figure per parent row (NaN: no child yet)."""

    rule: Aggregate
    acc: np.ndarray


class Aggregates:
    """:class:`Aggregate` rules summed over the children batch by batch, sent as updates of the parents.

    Memory: one float64 per parent row per rule. A parent table without a primary key cannot be updated: its
    rules are skipped (said in the log), and so are rules whose parent is sampled after the child (a cycle).

    Args:
        tables: the engine's tables.
        rules: every rule (the :class:`Aggregate` ones are kept).
    """

    def __init__(self, tables: Mapping[str, Table], rules: RuleSet) -> None:
        self.tables = tables
        self.rules: list[Aggregate] = []
        for r in rules:
            if not isinstance(r, Aggregate) or r.table not in tables or r.child not in tables:
                continue
            parent, child = tables[r.table], tables[r.child]
            if r.function not in ("sum", "count") or not all(
                    parent.has_column(c) for c in (r.column, *r.key)) or not all(
                    child.has_column(c) for c in (*r.by, *r.terms)) or len(r.by) != len(r.key):
                log.info("rule %s: a column it names is not sampled (or an unknown function), not kept", r.name)
                continue
            if not tables[r.table].primary_key:
                log.info("rule %s: table '%s' has no primary key to update, not kept", r.name, r.table)
                continue
            self.rules.append(r)
        self.sums: dict[str, _Sum] = {}
        self.dtypes: dict[str, object] = {}
        self.index = ParentIndex()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def add(self, table: str, frame: pd.DataFrame, parents: Mapping[str, pd.DataFrame]) -> None:
        """One batch of ``table`` as sent: the figures of the rules it is the child of (``parents``: the
        sampled rows of the tables done so far); the dtype of the column of the rules it is the parent of."""
        for r in self.rules:
            if r.table == table and r.name not in self.dtypes and r.column in frame.columns:
                self.dtypes[r.name] = frame[r.column].dtype
            if r.child != table:
                continue
            if r.table not in parents:
                if r.name not in self.sums:
                    log.info("rule %s: table '%s' is sampled after '%s', not kept", r.name, r.table, table)
                continue
            pframe = parents[r.table]
            s = self.sums.get(r.name)
            if s is None:
                s = self.sums[r.name] = _Sum(r, np.full(len(pframe), np.nan))
            pos = self.index.positions(r.table, pframe, r.key, frame, r.by)
            weight = np.ones(len(frame))
            for term in r.terms if r.function != "count" else ():
                weight = weight * pd.to_numeric(frame[term], errors="coerce").to_numpy(dtype="float64",
                                                                                       na_value=np.nan)
            live = (pos >= 0) & ~np.isnan(weight)  # SQL's SUM skips NULL products
            if not live.any():
                continue
            total = np.bincount(pos[live], weights=weight[live], minlength=len(pframe))
            hit = np.bincount(pos[live], minlength=len(pframe)) > 0
            s.acc[hit] = np.nan_to_num(s.acc[hit]) + total[hit]

    def updates(self, parents: Mapping[str, pd.DataFrame]) -> Iterator[tuple[str, pd.DataFrame]]:
        """Per rule, its parent table's update: the primary key and the column, one row per parent row in the
        parent's order, the aggregate fitted to the column (``empty`` for parents without children)."""
        for r in self.rules:
            if r.table not in parents or (r.name not in self.sums and r.child not in parents):
                continue
            pframe = parents[r.table]
            table = self.tables[r.table]
            acc = self.sums[r.name].acc if r.name in self.sums else np.full(len(pframe), np.nan)
            upd = pframe[list(table.primary_key)].copy().reset_index(drop=True)
            upd[r.column] = _fit(acc, r.empty, table, r.column, self.dtypes.get(r.name))
            yield r.table, upd


def _fit(acc: np.ndarray, empty: float | None, table: Table, column: str, dtype: object) -> pd.Series:
    """Aggregates as values of ``column``: NaN (no child) is ``empty`` (0 for NULL in a NOT NULL column);
    rounded to a decimal's scale (objects of :class:`decimal.Decimal` where the sampled rows hold such), whole
    numbers for integers."""
    col = table.column(column)
    if empty is None and not col.nullable:
        empty = 0.0  # the update must not write NULL into a NOT NULL column: an empty sum is then 0
    x = np.where(np.isnan(acc), np.nan if empty is None else float(empty), acc)
    null = np.isnan(x)
    if col.type == st.DECIMAL and col.scale is not None:
        x = np.round(x, col.scale)
        if dtype == np.dtype(object):
            from decimal import Decimal

            q = Decimal(1).scaleb(-col.scale)
            return pd.Series([None if n else Decimal(repr(float(v))).quantize(q) for v, n in zip(x, null)],
                             dtype=object)
    if col.type == st.INTEGER:
        x = np.round(x)
        if null.any():
            return pd.Series(x).astype("Int64")
        return pd.Series(x.astype(np.int64))
    return pd.Series(x)
