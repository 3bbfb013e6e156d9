"""The sample plan: what the engine does per table beyond the model, as typed records and pure functions.

A run's config asks more of a table than the fitted model knows: a mode (``synthesize``, ``copy`` its real rows,
write it ``empty``), column overrides (a constant, NULL, PII in another locale than the run's), and, because of
the modes, references to rewrite: a reference into a copied table must point at one of its *real* keys, a
reference into an empty table or into a parent that is not cloned (and nullable) is NULL. This module holds
those decisions (:class:`SamplePlan`, built once per run from the config by the pipeline) and the functions
that apply them to one batch of sampled rows (:func:`shape`, :func:`apply_overrides`, :class:`KeyMap`).

Nothing here reads a database or the config: the real rows of copied tables are given to the plan
(:meth:`SamplePlan.with_real_rows`), the randomness is the caller's ``rng``.

The engine executes the plan (``Engine.batches(..., plan=plan)``): per batch, parents first (a copied
parent's batches before its children's), it does::

    maps = plan.key_maps()                      # once, after with_real_rows
    rng = plan.rng()                            # once: one stream for every batch, in order
    ...
    if tplan.mode is TableMode.COPY:
        learn_keys(frame, tplan, maps, rng)     # then sends tplan.real_rows (once) instead of the frame
    elif tplan.mode is TableMode.SYNTHESIZE:
        frame = shape(frame, table, tplan, maps, rng, start=rows_of_this_table_so_far)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..metadata import Metadata, Table
from ..metadata import sdtypes as st
from ..metadata.records import ForeignKey
from ..model.columns import PIIGenerator, is_unique

__all__ = [
    "ColumnOverride",
    "KeyMap",
    "OverrideKind",
    "Reference",
    "SamplePlan",
    "TableMode",
    "TablePlan",
    "apply_overrides",
    "empty_frame",
    "learn_keys",
    "null_references",
    "remap_references",
    "shape",
]


class TableMode(enum.StrEnum):
    """What a run writes into a table (``skip`` tables are not written, so not planned).

    ``SYNTHESIZE``: sampled rows from the model (the default). ``COPY``: the source's real rows; the table is
    still modelled so that its children keep their statistics. ``EMPTY``: created with no rows.
    """

    SYNTHESIZE = "synthesize"
    COPY = "copy"
    EMPTY = "empty"


class OverrideKind(enum.StrEnum):
    """How an overridden column's values are made after the model drew the row.

    ``CONSTANT``: the same value in every row. ``NULL``: NULL in every row. ``PII``: Faker values of a provider
    in another locale than the run's first (the model's generator uses that one).
    """

    CONSTANT = "constant"
    NULL = "null"
    PII = "pii"


@dataclass(frozen=True)
class ColumnOverride:
    """One column's values as the config sets them, in place of what the model drew."""

    column: str
    """The column."""
    kind: OverrideKind
    """Constant, NULL or PII."""
    value: Any = None
    """:attr:`OverrideKind.CONSTANT`: the value of every row (may itself be None)."""
    provider: str | None = None
    """:attr:`OverrideKind.PII`: the Faker provider, a PII kind (``email``) or any Faker method (``color_name``)."""
    locale: str | None = None
    """:attr:`OverrideKind.PII`: the Faker locale."""

    @classmethod
    def constant(cls, column: str, value: Any) -> ColumnOverride:
        """``value`` in every row of ``column``."""
        return cls(column, OverrideKind.CONSTANT, value=value)

    @classmethod
    def null(cls, column: str) -> ColumnOverride:
        """NULL in every row of ``column``."""
        return cls(column, OverrideKind.NULL)

    @classmethod
    def pii(cls, column: str, provider: str, locale: str) -> ColumnOverride:
        """Faker ``provider`` values in ``locale`` for ``column``."""
        return cls(column, OverrideKind.PII, provider=provider, locale=locale)

    @property
    def fixed(self) -> bool:
        """Whether the values are the config's, not drawn (constant, NULL): quality scores them apart."""
        return self.kind in (OverrideKind.CONSTANT, OverrideKind.NULL)


@dataclass(frozen=True)
class Reference:
    """A foreign key of a planned table that the plan rewrites (remapped onto real keys, or NULLed)."""

    columns: tuple[str, ...]
    """The referencing columns of the child."""
    parent: str
    """The referenced table (as the source names it)."""
    parent_columns: tuple[str, ...]
    """The referenced columns, in the order of :attr:`columns`."""


@dataclass
class TablePlan:
    """What the engine does with one written table beyond drawing it from the model."""

    name: str
    """The table."""
    mode: TableMode
    """Synthesize, copy or empty."""
    overrides: dict[str, ColumnOverride] = field(default_factory=dict)
    """Per column, values the config sets after the model drew the row, in config order (that order draws the
    PII values from the stream). Synthesized tables only: a copied table keeps its real values."""
    table_parameters: dict[str, Any] = field(default_factory=dict)
    """The model's settings of the table (``set_table_parameters``): the config's ``table_parameters`` with the
    columns' ``distribution`` overrides in ``numerical_distributions``. Used at fit time."""
    excluded: list[str] = field(default_factory=list)
    """Columns the config leaves out (``exclude``): not in the written metadata, so never drawn nor written."""
    null_refs: list[Reference] = field(default_factory=list)
    """Synthesized tables: references written NULL: into an empty table, or into a parent that is not cloned when
    the key is nullable (a value would point at nothing)."""
    copied_refs: list[Reference] = field(default_factory=list)
    """Synthesized tables: references into copied tables, whose sampled keys become real keys (:class:`KeyMap`)."""
    referenced_keys: list[tuple[str, ...]] = field(default_factory=list)
    """Copied tables: the key columns (one, or a composite key) some table refers to, each with a
    :class:`KeyMap`; one-column keys first, then composite ones, in the order the references appear."""
    real_rows: pd.DataFrame | None = None
    """Copied tables: the real rows (given by :meth:`SamplePlan.with_real_rows`; the plan reads nothing)."""
    table: Table | None = None
    """The written table (set by :meth:`SamplePlan.build`): the columns an empty table is sent with and a shaped
    batch is ordered by (the engine's metadata holds the modelled tables only, so no empty one)."""

    @property
    def fixed_columns(self) -> list[str]:
        """Columns whose values the config fixes (constant or NULL), not the model."""
        return [c for c, o in self.overrides.items() if o.fixed]


@dataclass
class SamplePlan:
    """Every written table's plan, and the seed of the stream the plan's random choices are drawn from."""

    tables: dict[str, TablePlan]
    """Per written table, in the metadata's order (``skip`` tables are not written, so absent)."""
    seed: int | None
    """The run's seed (None: a fresh stream each run)."""

    @classmethod
    def build(
        cls,
        written: Metadata,
        modes: Mapping[str, str],
        seed: int | None,
        overrides: Mapping[str, Sequence[ColumnOverride]] | None = None,
        table_parameters: Mapping[str, dict[str, Any]] | None = None,
        excluded: Mapping[str, Sequence[str]] | None = None,
    ) -> SamplePlan:
        """The plan of the tables of ``written``: the references each must rewrite follow from the modes.

        Args:
            written: the tables created in the target (skipped ones left out: their references are outside).
            modes: every table's mode (``synthesize``, ``copy``, ``empty``; others are ignored).
            seed: the run's seed.
            overrides: per table, its column overrides (kept for synthesized tables only).
            table_parameters: per table, the model's settings.
            excluded: per table, the columns left out.
        """
        overrides, table_parameters, excluded = overrides or {}, table_parameters or {}, excluded or {}
        plans = {}
        for table in written:
            mode = TableMode(modes[table.name])
            tplan = TablePlan(table.name, mode, table_parameters=dict(table_parameters.get(table.name, {})),
                              excluded=list(excluded.get(table.name, ())), table=table)
            if mode is TableMode.SYNTHESIZE:
                tplan.overrides = {o.column: o for o in overrides.get(table.name, ())}
                # the parent is not cloned: a value would point at nothing
                tplan.null_refs = [_reference(fk) for fk in table.outside_foreign_keys if table.fk_is_nullable(fk)]
                for fk in table.foreign_keys:
                    parent = modes.get(fk.ref_table)
                    if parent == TableMode.EMPTY:
                        tplan.null_refs.append(_reference(fk))
                    elif parent == TableMode.COPY:
                        tplan.copied_refs.append(_reference(fk))
            elif mode is TableMode.COPY:
                refs = [tuple(fk.ref_columns) for t in written for fk in t.foreign_keys if fk.ref_table == table.name]
                # one-column keys before composite ones: the order their permutations are drawn in
                tplan.referenced_keys = list(dict.fromkeys([r for r in refs if len(r) == 1]
                                                           + [r for r in refs if len(r) > 1]))
            plans[table.name] = tplan
        return cls(plans, seed)

    def rng(self) -> np.random.Generator:
        """A new stream from :attr:`seed`: the one to pass to every function of a run, batch after batch."""
        return np.random.default_rng(self.seed)

    def tables_in(self, mode: TableMode) -> list[str]:
        """The tables of ``mode``, in the plan's order."""
        return [n for n, t in self.tables.items() if t.mode is mode]

    def with_real_rows(self, real: Mapping[str, pd.DataFrame]) -> SamplePlan:
        """This plan with the real rows of its copied tables (``real`` holds at least each copied table)."""
        return replace(self, tables={n: replace(t, real_rows=real[n]) if t.mode is TableMode.COPY else t
                                     for n, t in self.tables.items()})

    def key_maps(self) -> dict[str, list[KeyMap]]:
        """New, empty key maps of every copied table, one per referenced key (needs :meth:`with_real_rows`)."""
        out = {}
        for name in self.tables_in(TableMode.COPY):
            tplan = self.tables[name]
            if tplan.real_rows is None:
                raise ValueError(f"table '{name}' is copied, but the plan was not given its real rows")
            out[name] = [KeyMap(name, cols, tplan.real_rows) for cols in tplan.referenced_keys]
        return out


def _reference(fk: ForeignKey) -> Reference:
    return Reference(tuple(fk.columns), fk.ref_table, tuple(fk.ref_columns))


class KeyMap:
    """The sampled keys of a copied table mapped onto its real keys, learned batch by batch.

    The real keys are shuffled once (a permutation drawn from the run's stream at the first batch) and handed
    out in that order to the sampled keys as they come, cycling when the sample has more keys than the source:
    every reference of a child then points at a real row, and the children of one sampled parent stay together.
    A composite key maps whole rows of key values onto whole real rows.

    Args:
        table: the copied table.
        columns: the key's columns (one, or a composite key).
        real: the table's real rows.
    """

    def __init__(self, table: str, columns: Sequence[str], real: pd.DataFrame) -> None:
        self.table = table
        self.columns = tuple(columns)
        self._real = real
        self._shuffled: np.ndarray | None = None
        """The real keys (one column) or key rows (composite), shuffled: drawn at the first batch."""
        self._one: pd.Series | None = None
        """One column: sampled key -> real key."""
        self._rows: dict[tuple, tuple] = {}
        """Composite key: sampled key row -> real key row."""

    def __len__(self) -> int:
        """Sampled keys mapped so far."""
        return len(self._rows) if len(self.columns) > 1 else (0 if self._one is None else len(self._one))

    def learn(self, frame: pd.DataFrame, rng: np.random.Generator) -> None:
        """Map the sampled keys of this batch of the copied table that are not mapped yet."""
        if len(self.columns) == 1:
            self._learn_one(frame, rng)
        else:
            self._learn_rows(frame, rng)

    def _learn_one(self, frame: pd.DataFrame, rng: np.random.Generator) -> None:
        col = self.columns[0]
        if self._shuffled is None:
            self._shuffled = rng.permutation(self._real[col].dropna().to_numpy())
        sampled = pd.unique(frame[col].dropna())
        if self._one is not None:  # a key seen in an earlier batch keeps its real key
            sampled = sampled[~pd.Index(sampled).isin(self._one.index)]
        if len(self._shuffled) == 0 or len(sampled) == 0:
            return
        done = 0 if self._one is None else len(self._one)
        new = pd.Series(self._shuffled[(done + np.arange(len(sampled))) % len(self._shuffled)], index=sampled)
        self._one = new if self._one is None else pd.concat([self._one, new])

    def _learn_rows(self, frame: pd.DataFrame, rng: np.random.Generator) -> None:
        cols = list(self.columns)
        if self._shuffled is None:
            rows = self._real[cols].dropna().drop_duplicates()
            self._shuffled = rows.iloc[rng.permutation(len(rows))].to_numpy(dtype=object)
        sampled = frame[cols].dropna().drop_duplicates()
        if len(self._shuffled) == 0 or len(sampled) == 0:
            return
        start = len(self._rows)
        new = [k for k in map(tuple, sampled.to_numpy(dtype=object)) if k not in self._rows]
        for i, k in enumerate(new):
            self._rows[k] = tuple(self._shuffled[(start + i) % len(self._shuffled)])

    def translate(self, keys: pd.DataFrame) -> pd.DataFrame:
        """The real keys of sampled ``keys`` (a child's referencing columns, in the order of :attr:`columns`);
        a key not mapped (or every key, before any is) becomes NULL. Same index and column names as ``keys``."""
        if len(self.columns) == 1:
            col = keys.columns[0]
            if self._one is None:
                return pd.DataFrame({col: pd.Series(None, index=keys.index, dtype=object)})
            return pd.DataFrame({col: keys[col].map(self._one)})
        rows = [self._rows.get(k) for k in map(tuple, keys.to_numpy(dtype=object))]
        return pd.DataFrame({c: pd.Series([None if r is None else r[j] for r in rows], index=keys.index, dtype=object)
                             for j, c in enumerate(keys.columns)})


def learn_keys(frame: pd.DataFrame, tplan: TablePlan, maps: Mapping[str, list[KeyMap]],
               rng: np.random.Generator) -> None:
    """A batch of a copied table: map its sampled keys onto real ones (before any child's batch is shaped)."""
    for key_map in maps.get(tplan.name, ()):
        key_map.learn(frame, rng)


def remap_references(frame: pd.DataFrame, tplan: TablePlan, maps: Mapping[str, list[KeyMap]]) -> pd.DataFrame:
    """``frame`` with its references into copied tables on real keys (``frame`` itself when it has none)."""
    if not tplan.copied_refs:
        return frame
    frame = frame.copy()
    for ref in tplan.copied_refs:
        if not all(c in frame.columns for c in ref.columns):
            continue
        key_map = next((m for m in maps.get(ref.parent, ()) if m.columns == ref.parent_columns), None)
        if key_map is None:  # nothing learned of the parent: no real key to point at
            for c in ref.columns:
                frame[c] = None
            continue
        real = key_map.translate(frame[list(ref.columns)])
        for c in ref.columns:
            frame[c] = real[c]
    return frame


def null_references(frame: pd.DataFrame, tplan: TablePlan) -> pd.DataFrame:
    """``frame`` with its references into empty tables and nullable ones out of the cloned set NULL."""
    if not tplan.null_refs:
        return frame
    frame = frame.copy()
    for ref in tplan.null_refs:
        for c in ref.columns:
            frame[c] = None
    return frame


def apply_overrides(frame: pd.DataFrame, table: Table, tplan: TablePlan, rng: np.random.Generator,
                    start: int) -> pd.DataFrame:
    """``frame`` with the columns the config overrides set (``frame`` itself when there are none).

    Args:
        frame: a batch of ``table``.
        table: the written table.
        tplan: its plan.
        rng: the run's stream (PII values are drawn from it, column after column in config order).
        start: rows of the table in earlier batches (a unique PII column numbers its values on from there).
    """
    if not tplan.overrides:
        return frame
    frame = frame.copy()
    for col, override in tplan.overrides.items():
        if override.kind is OverrideKind.CONSTANT:
            frame[col] = override.value
        elif override.kind is OverrideKind.NULL:
            frame[col] = None
        elif len(frame):
            frame[col] = _pii(table, override, len(frame), rng, start)
    return frame


def _pii(table: Table, override: ColumnOverride, n: int, rng: np.random.Generator, start: int) -> np.ndarray:
    """``n`` values of the PII generator's pool for ``override``'s provider and locale."""
    column = table.column(override.column)
    provider = override.provider or "name"
    gen = PIIGenerator(column, table.name, st.PII_KINDS.get(provider, provider), [override.locale or "en_US"],
                       unique=is_unique(column, table))
    return gen.generate(n, rng, start=start).to_numpy(dtype=object)


def shape(frame: pd.DataFrame, table: Table, tplan: TablePlan, maps: Mapping[str, list[KeyMap]],
          rng: np.random.Generator, start: int) -> pd.DataFrame:
    """A synthesized batch as the plan wants it written: references remapped onto copied tables' real keys,
    references NULLed, overrides applied, the table's columns in order.

    Args:
        frame: a sampled batch of ``table``.
        table: the written table.
        tplan: its plan.
        maps: the key maps of the copied tables, learned from their batches so far.
        rng: the run's stream.
        start: rows of the table in earlier batches.
    """
    frame = remap_references(frame, tplan, maps)
    frame = null_references(frame, tplan)
    frame = apply_overrides(frame, table, tplan, rng, start)
    return frame[[c for c in table.column_names if c in frame.columns]]


def shape_update(frame: pd.DataFrame, tplan: TablePlan, maps: Mapping[str, list[KeyMap]]) -> pd.DataFrame:
    """An UPDATE batch of a synthesized table (its primary key and the deferred references that close a cycle)
    as the plan wants it: the references it carries remapped onto copied tables' real keys or NULLed like
    those of the rows it updates, so the update finds its rows and points where their references point.
    Columns the batch does not carry are left alone (an update sets only what it holds)."""
    frame = remap_references(frame, tplan, maps)
    held = [ref for ref in tplan.null_refs if all(c in frame.columns for c in ref.columns)]
    if held:
        frame = frame.copy()
        for ref in held:
            for c in ref.columns:
                frame[c] = None
    return frame


def empty_frame(table: Table) -> pd.DataFrame:
    """No rows of ``table``: what an empty table is sent as (object columns, so that any type accepts them)."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in table.column_names})
