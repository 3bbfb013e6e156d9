"""The parent-first sampling engine: the one code that walks the foreign-key graph at sampling time.

For every table, parents first, the engine plans the rows (children per driving parent under the learned caps,
rank-matched or stratified by the strategy; orphans; roots at the requested scale) and cuts them into batches of
whole parents. Per batch, the table's :class:`~dbsynth.model.strategy.TableStrategy` draws the modelled columns;
the engine adds the column generators (keys, PII, text), numbers the keys across batches, points each foreign
key at parent rows (the driving key at the batch's parents, other keys by capacity-aware matching, bridge
tables by swapping duplicates, nested keys under their caps), grows self-references as forests, fills the keys
of cycles whose parent exists, keeps the rules of the data (the cross-table ones of
:mod:`dbsynth.sample.rules`, then the within-table ones of :func:`dbsynth.rules.keep.keep`), repairs the frame
for the database and keeps unique constraints (declared, and unique rules) across batches.
It yields :class:`~dbsynth.batch.Batch` records: rows, then the updates of cycle keys whose parent came later
(:attr:`~dbsynth.batch.BatchKind.UPDATE`); tables with a NOT NULL such key are held back and sent whole with
the key filled; last, the updates of parent columns that aggregate their children.

Memory holds one batch plus, per parent table still needed, its keys and the per-row state its children are
drawn from (and the columns cross-table rules read, one float per parent row per aggregate rule).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import progress
from ..batch import Batch, BatchKind
from ..errors import DbsynthError
from ..memory import release
from ..metadata import Metadata, Table
from ..metadata.graph import FKGraph
from ..metadata.records import ForeignKey
from ..model.fold import stable_seed
from ..model.generators import distinct_columns, generate, generator_from_dict
from ..model.records import DeferredSpec, DrivingLink, TableModel
from ..model.strategy import TableStrategy
from ..model.transforms import frame_of
from ..rules.keep import KeepState, keep
from ..rules.records import RuleOrigin, RuleSet, Unique
from .counts import POS, Capacity, capped_counts, capped_refs, nonnull_mask, plan_batches
from .cycles import close_refs, sample_forest
from .plan import SamplePlan, TableMode, empty_frame, learn_keys, shape, shape_update
from .refs import (
    cap_overlapping,
    fk_name,
    join_batches,
    kept_columns,
    redraw_duplicates,
    required_refs_mask,
    root_rows,
    set_refs,
    unique_mask,
)
from .repair import UniqueState, repair
from .rules import (
    Aggregates,
    ParentIndex,
    keep_after_plan,
    keep_copied_again,
    keep_cross,
    with_unique_rules,
    within_rules,
)

__all__ = ["DEFAULT_BATCH_ROWS", "Engine", "TaskFactory"]

log = logging.getLogger("dbsynth")

#: Rows per batch of the synthesizers' ``iter_sample`` when not told otherwise.
DEFAULT_BATCH_ROWS = 50_000

#: Progress of one stage of one table: ``(stage, table, total) -> context manager of a progress task``.
TaskFactory = Callable[[str, str, int | None], AbstractContextManager[progress.Task]]


@dataclass
class _Sampled:
    """What the engine keeps of a table whose rows are out: what its children and cycles refer to."""

    frame: pd.DataFrame
    """Its rows (in batch mode only the columns later tables refer to)."""
    state: dict[str, np.ndarray]
    """The per-row state its children are drawn from (dropped once every child is sampled)."""


@dataclass
class _TableState:
    """What one table's batches share: counts under caps, keys seen, rows generated, self-reference keys."""

    caps: dict = field(default_factory=dict)
    """Children per parent of nested keys so far (:func:`~dbsynth.sample.refs.cap_overlapping`)."""
    seen: dict = field(default_factory=dict)
    """Hashes of keys made of references kept so far."""
    generated: int = 0
    """Rows generated so far (kept or not): the forests' positions."""
    gen_keys: dict = field(default_factory=dict)
    """Per self-reference, the keys of the rows generated so far (NULL for dropped rows)."""
    unique: UniqueState = field(default_factory=UniqueState)
    """Unique constraints across batches."""
    deferred_used: dict = field(default_factory=dict)
    """Per cycle key filled in the child's batches, children given to each parent row so far."""
    keep: KeepState = field(default_factory=KeepState)
    """What the table's within-table rules share across batches (:func:`~dbsynth.rules.keep.keep`)."""


class _PlanRun:
    """One run of a :class:`~dbsynth.sample.plan.SamplePlan` over the engine's batches, in the order they are sent.

    The plan's random choices (key permutations of copied tables, PII values of other locales) come from one
    stream drawn batch after batch in that order: the same seed and the same batches give the same rows.
    """

    def __init__(self, plan: SamplePlan, rules: RuleSet | None = None) -> None:
        self.plan = plan
        self.rules = rules if rules is not None else RuleSet()
        """The cross-table rules re-applied on what is written (:func:`~dbsynth.sample.rules.keep_after_plan`)."""
        self.real = ParentIndex()
        """Key lookups into copied tables' real rows."""
        self.maps = plan.key_maps()
        """Per copied table, its sampled keys mapped onto real ones, learned as its batches pass."""
        self.rng = plan.rng()
        self.sent: set[str] = set()
        """Copied tables whose real rows are out."""
        self.rows: dict[str, int] = {}
        """Per synthesized table, rows sent so far (a unique PII override numbers its values on from there)."""

    def empties(self) -> Iterator[Batch]:
        """The ``empty`` tables, with no rows."""
        for name in self.plan.tables_in(TableMode.EMPTY):
            yield Batch(name, empty_frame(self._table(name)))

    def apply(self, batch: Batch) -> Iterator[Batch]:
        """What is sent for one drawn batch: itself shaped, the real rows of a copied table (its first batch
        only), or nothing."""
        name, frame = batch.table, batch.frame
        tplan = self.plan.tables.get(name)
        if tplan is None:  # not written
            return
        if batch.is_update:
            # a copied table's real rows already hold their real references: its sampled updates would overwrite
            # them; a synthesized table's updates carry references shaped like the rows they update
            if tplan.mode is TableMode.SYNTHESIZE:
                # a column the config sets keeps the config's value (an aggregate update would overwrite it)
                fixed = [c for c in frame.columns if c in tplan.overrides and c not in self._table(name).primary_key]
                if fixed:
                    frame = frame.drop(columns=fixed)
                if len(frame.columns) > len(self._table(name).primary_key):
                    yield batch.with_frame(shape_update(frame, tplan, self.maps))
        elif tplan.mode is TableMode.COPY:
            # its children come later: they find its sampled keys mapped by then
            learn_keys(frame, tplan, self.maps, self.rng)
            if name not in self.sent and tplan.real_rows is not None:
                self.sent.add(name)
                yield Batch(name, tplan.real_rows)
        elif tplan.mode is TableMode.SYNTHESIZE:
            start = self.rows.get(name, 0)
            self.rows[name] = start + len(frame)
            shaped = shape(frame, self._table(name), tplan, self.maps, self.rng, start)
            if self.rules:
                shaped = keep_after_plan(shaped, self._table(name), self.rules, self.plan, self.real)
            yield Batch(name, shaped)

    def _table(self, name: str) -> Table:
        table = self.plan.tables[name].table
        if table is None:
            raise ValueError(f"table '{name}': the plan does not hold the written table (use SamplePlan.build)")
        return table


class Engine:
    """Samples a fitted schema parent-first through a :class:`~dbsynth.model.strategy.TableStrategy`.

    Args:
        metadata: the tables.
        strategy: how each table's modelled columns and children per parent are drawn.
        seed: the seed every random stream derives from (``stable_seed(seed, stage, table, ...)``).
        task: progress of one table.
        rules: the rules the rows keep (:mod:`dbsynth.sample.rules`); None or empty: the rows are drawn as if
            there were none (the same rows for the same seed).
    """

    def __init__(self, metadata: Metadata, strategy: TableStrategy, seed: int, task: TaskFactory,
                 rules: RuleSet | None = None) -> None:
        self.metadata = metadata
        self.strategy = strategy
        self.seed = int(seed)
        self.task = task
        self.rules = rules if rules is not None else RuleSet()

    def rng(self, *parts: object) -> np.random.Generator:
        """The random stream named by ``parts`` (the same in every process)."""
        return np.random.default_rng(stable_seed(self.seed, *parts))

    def sample(self, scale: float, num_rows: Mapping[str, int], **kw: Any) -> dict[str, pd.DataFrame]:
        """Every table in memory: :meth:`batches` with one batch per table, joined."""
        return join_batches(self.metadata, self.batches(scale, num_rows, None, **kw))

    def batches(
        self, scale: float, num_rows: Mapping[str, int], batch_rows: int | None, only: list[str] | None = None,
        forced_roots: frozenset[str] | set[str] = frozenset(), unlinked: frozenset[str] | set[str] = frozenset(),
        plan: SamplePlan | None = None,
    ) -> Iterator[Batch]:
        """The batches of every table, parent-first, then cycle updates and held tables, then the updates of
        aggregate rules (a parent's primary key and the column, every row of the parent in its order).

        Args:
            scale: size of root tables relative to the source.
            num_rows: rows of the tables named (roots, or tables in ``unlinked`` / ``forced_roots``).
            batch_rows: rows per batch (None: one batch per table).
            only: the tables to sample (None: all).
            forced_roots: tables drawn as roots: no driving parent, other keys to random parents.
            unlinked: tables drawn without their driving parent (other keys still capacity-matched).
            plan: what a run writes beyond the model (None: every sampled table as drawn). With a plan, its
                ``empty`` tables come first, with no rows; a ``copy`` table is sent once as its real rows (the
                plan must hold them: :meth:`~dbsynth.sample.plan.SamplePlan.with_real_rows`), its sampled keys
                mapped onto real ones for its children; a synthesized batch has its references remapped or
                NULLed and its column overrides applied (:func:`~dbsynth.sample.plan.shape`). Children are
                still drawn from the sampled rows; a copied table's cycle updates are dropped (its real rows
                hold their real references), a synthesized table's are shaped like the rows they update
                (:func:`~dbsynth.sample.plan.shape_update`); tables the plan does not name are not sent.
        """
        if plan is None:
            yield from self._batches(scale, num_rows, batch_rows, only, forced_roots, unlinked)
            return
        run = _PlanRun(plan, self.rules)
        yield from run.empties()
        drawn = self._batches(scale, num_rows, batch_rows, only, forced_roots, unlinked)
        try:
            for batch in drawn:
                yield from run.apply(batch)
        finally:
            drawn.close()  # stopped early: end the sampling (and its progress tasks) now, not at collection

    def _batches(
        self, scale: float, num_rows: Mapping[str, int], batch_rows: int | None, only: list[str] | None,
        forced_roots: frozenset[str] | set[str], unlinked: frozenset[str] | set[str],
    ) -> Generator[Batch, None, None]:
        """:meth:`batches` as drawn from the model (no plan)."""
        md = self.metadata
        graph = md.graph()
        order = graph.parent_first()
        if only is not None:
            order = [t for t in order if t in only]
        keep_cols = kept_columns(md, graph, self.rules)
        done: dict[str, _Sampled] = {}
        parents = _Frames(done)
        index = ParentIndex()  # the cross-table rules' lookups into sampled parents, built once per run
        aggregates = Aggregates(md.tables, self.rules)
        # tables with a NOT NULL cycle-breaking key: rows kept whole until the key's parent exists (small tables,
        # the graph breaks such a cycle at the smallest one), then sent with the key filled
        held_tables = graph.held()
        held: dict[str, list[pd.DataFrame]] = {}
        for t in order:
            frames: list[pd.DataFrame] = []
            states: list[dict[str, np.ndarray]] = []
            with self.task("sample", t, None) as task:
                for frame, state in self._table_batches(t, graph, done, scale, num_rows, t in forced_roots,
                                                        t in unlinked or t in forced_roots, batch_rows, index):
                    if aggregates:
                        aggregates.add(t, frame, parents)
                    # what children need of this table: its keys and the figures they are drawn from
                    frames.append(frame[keep_cols[t]] if batch_rows is not None else frame)
                    states.append({k: _compact(v) if batch_rows is not None else v for k, v in state.items()})
                    task.advance(len(frame))
                    if t in held_tables:
                        held.setdefault(t, []).append(frame)
                    else:
                        yield Batch(t, frame)
            kept = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
            joined = {k: np.concatenate([s[k] for s in states]) for k in (states[0] if states else {})}
            done[t] = _Sampled(kept, joined)
            del frames, states
            if batch_rows is not None and len(kept) > batch_rows:
                release()  # a big table's batches are gone: give their pages back before the next table
            for p in list(done):  # a parent whose children are all sampled keeps only its keys
                if all(e.child in done or e.child not in order for e in graph.children(p)):
                    done[p].state = {}
        yield from self._deferred_updates(graph, done, batch_rows, held)
        # parent columns that aggregate their children: every child row is out (held tables included)
        for p, upd in aggregates.updates(parents):
            yield from _cut({p: upd}, batch_rows, BatchKind.UPDATE)

    # ---- one table ------------------------------------------------------------------------------------
    def _table_batches(
        self, t: str, graph: FKGraph, done: dict[str, _Sampled], scale: float, num_rows: Mapping[str, int],
        forced_root: bool, unlinked: bool, batch_rows: int | None, index: ParentIndex,
    ) -> Iterator[tuple[pd.DataFrame, dict[str, np.ndarray]]]:
        """The batches of one table: ``(frame, per-row state)``, drawn parent by parent.

        Everything that spans the table (children per parent, second parents' capacities, the forest of a
        self-reference) is drawn once up front, so batches only slice it and the result does not depend on
        where batches are cut except through the per-batch noise.
        """
        # the table's unique rules are unique constraints to repair and the reference-key checks
        table = with_unique_rules(self.metadata.tables[t], self.rules)
        within = within_rules(self.rules, t)
        strategy = self.strategy
        m = strategy.table_model(t)
        rng = self.rng("sample", t)
        link = None if unlinked else m.link
        if link is not None and link.parent not in done:
            link = None
        fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
        counts = None
        parent_state = None
        if link is None:
            n = int(num_rows[t]) if t in num_rows else root_rows(m.n_rows, scale)
            plan = plan_batches(None, n, batch_rows)
        else:
            parent = done[link.parent]
            n_parent = len(parent.frame)
            n_source = strategy.table_model(link.parent).n_rows
            ratio = n_parent / n_source if n_source else 0.0
            parent_state = parent.state
            raw = strategy.child_counts(t, link.edge, parent_state, n_parent, rng)
            total = int(round(link.n_linked * ratio))
            counts = capped_counts(raw, total, link.count_min, link.count_max, rng)
            n_orph = int(round(link.orphans * ratio))
            n = int(counts.sum()) + n_orph
            plan = plan_batches(counts, n_orph, batch_rows)
        others = {} if forced_root else self._capacities(t, m, n, done, link, rng)
        forests = self._forests(t, m, graph, n)
        modelled = strategy.modelled_columns(t)
        # primary-key columns numbered by the engine, and generated columns distinct by construction: unique
        # constraints holding one need no tracking across batches
        numbered = [c for c in table.primary_key if c not in fk_cols and c not in m.generators and c not in modelled]
        state = _TableState(unique=UniqueState(exempt=distinct_columns(m.generators) | set(numbered)))
        driving = next((fk.columns for fk in table.foreign_keys if link and fk_name(table, fk) == link.edge), [])
        generators = {name: generator_from_dict(d) for name, d in m.generators.items()}
        for b, (lo, hi, plo, phi) in enumerate(plan):
            brng = self.rng("sample", t, b)
            if plo >= 0 and counts is not None:
                pidx = np.repeat(np.arange(plo, phi, dtype=POS), counts[plo:phi])
            else:
                pidx = np.full(hi - lo, -1, dtype=POS)
            drawn = strategy.draw(t, parent_state, pidx, brng)
            frame = self._frame(table, drawn.columns, generators, numbered, len(pidx), lo, brng)
            row_state = drawn.state
            redraw = []
            # wider keys last: when keys overlap (lineitem's partkey alone and with suppkey), the composite one
            # wins, and its values are valid for the narrower key too since its parent references the same rows
            for fk in sorted(table.foreign_keys, key=lambda f: len(f.columns)):
                e_name = fk_name(table, fk)
                if link is not None and e_name == link.edge:
                    set_refs(frame, fk, done[fk.ref_table].frame, pidx)
                elif e_name in m.deferred:
                    if fk.ref_table in done:  # a cycle's parent sampled earlier: fill now, the writer defers it
                        pframe = done[fk.ref_table].frame
                        used = state.deferred_used.setdefault(e_name, np.zeros(len(pframe), dtype=np.int64))
                        spec = m.deferred[e_name]
                        refs = capped_refs(len(frame), len(pframe), spec.null_share, spec.count_max, brng, used)
                        set_refs(frame, fk, pframe, refs)
                elif e_name in others:
                    refs = others[e_name].draw(len(frame), brng)
                    set_refs(frame, fk, done[fk.ref_table].frame, refs)
                    redraw.append((fk, e_name, refs))
                elif fk.ref_table in done:
                    pn = len(done[fk.ref_table].frame)
                    refs = brng.integers(0, pn, len(frame)) if pn else np.full(len(frame), -1)
                    set_refs(frame, fk, done[fk.ref_table].frame, refs)
            for fk, e_name, refs in redraw:
                cap = m.others[e_name].count_max
                redraw_duplicates(frame, table, fk, done[fk.ref_table].frame, cap, refs, fk_cols, brng,
                                  others[e_name].used)
            capped = None if forced_root else self._cap_overlapping(frame, table, m, link, done, brng, state.caps)
            if self.rules:
                # the rules' own stream: the other draws stay those of a run without rules
                rrng = self.rng("rules", t, b)
                keep_cross(frame, table, self.rules, _Frames(done), driving, index, rrng)
                if within:
                    frame = self._keep_within(frame, table, within, rrng, state.keep)
                    # a copied value is the parent row's, already written: it wins over a within-table rule
                    keep_copied_again(frame, table, self.rules, _Frames(done), index)
            # the source's dialect parses its CHECKs; domain CHECKs type the columns they cover
            frame, table = self._repair(frame, table, brng, state.unique)
            keep = unique_mask(frame, table, fk_cols, state.seen, driving, state.unique.exempt)
            for mask in (capped, required_refs_mask(frame, table, done)):
                if mask is not None:
                    keep = mask if keep is None else keep & mask
            self._grow_forests(frame, table, forests, keep, state)
            if keep is not None and not keep.all():
                frame = frame[keep].reset_index(drop=True)
                row_state = {k: v[keep] for k, v in row_state.items()}
            yield frame, row_state

    def _repair(self, frame: pd.DataFrame, table: Table, rng: np.random.Generator,
                unique: UniqueState) -> tuple[pd.DataFrame, Table]:
        """:func:`~dbsynth.sample.repair.repair`, and the table it ran with.

        A unique rule found in the real rows that cannot be kept (a TINYINT with no room left for new distinct
        values, a CHECK bounding the range) is dropped for the rest of the table, with a warning, instead of
        failing the run: the schema's own constraints still fail it (the target would refuse the rows).
        """
        while True:
            try:
                return repair(frame, table, rng, unique, dialect=self.metadata.dialect,
                              domains=self.metadata.native_objects), table
            except DbsynthError as exc:
                rule = next((r for r in self.rules.for_table(table.name)
                             if isinstance(r, Unique) and r.origin is RuleOrigin.DISCOVERED
                             and exc.constraint == r.name), None)
                if rule is None:
                    raise
                log.warning("table '%s': the rule %s found in the real rows cannot be kept (%s); left out",
                            table.name, rule.name, exc.message)
                table = dataclasses.replace(table, unique_constraints=[
                    u for u in table.unique_constraints if u.name != rule.name])

    @staticmethod
    def _keep_within(frame: pd.DataFrame, table: Table, rules: list, rng: np.random.Generator,
                     state: KeepState) -> pd.DataFrame:
        """The batch after :func:`~dbsynth.rules.keep.keep`: the same rows in the same order (the per-row
        state children are drawn from is aligned with them)."""
        out = keep(frame, table, rules, rng, state)
        if len(out) != len(frame):
            raise DbsynthError("keeping the rules changed the number of rows of a batch", table=table.name,
                               hint="Report this as a bug; switch the table's rules off to sample meanwhile.")
        return out.reset_index(drop=True) if not out.index.equals(frame.index) else out

    @staticmethod
    def _frame(table: Table, drawn: dict[str, pd.Series], generators: dict, numbered: list[str], n: int,
               start: int, rng: np.random.Generator) -> pd.DataFrame:
        """One frame in the table's column order: the strategy's columns, generated ones, references empty."""
        cols: dict[str, pd.Series] = {}
        for col in table.columns:
            if col.computed:
                continue
            if col.name in drawn:
                cols[col.name] = drawn[col.name]
            elif col.name in generators:
                cols[col.name] = generate(generators[col.name], n, rng, start=start)
            else:  # references, set next (or numbered keys)
                cols[col.name] = pd.Series([None] * n, dtype="object")
        frame = frame_of(cols, n)
        # primary-key columns that are not references: sequential, of the column's type, unique across batches
        for c in numbered:
            frame[c] = pd.Series(np.arange(start + 1, start + n + 1), dtype="int64")
        return frame

    def _capacities(self, t: str, m: TableModel, n: int, done: dict[str, _Sampled], link: DrivingLink | None,
                    rng: np.random.Generator) -> dict[str, Capacity]:
        """Each non-driving foreign key's capacities: how many of the table's ``n`` rows each parent takes."""
        out = {}
        table = self.metadata.tables[t]
        for fk in table.foreign_keys:
            e_name = fk_name(table, fk)
            if e_name not in m.others or fk.ref_table not in done or (link is not None and link.edge == e_name):
                continue
            o = m.others[e_name]
            parent = done[fk.ref_table]
            raw = self.strategy.child_counts(t, e_name, parent.state, len(parent.frame), rng)
            want = int(round(n * (1.0 - o.null_share)))
            cap = capped_counts(raw, want, o.count_min, o.count_max, rng)
            out[e_name] = Capacity(cap, o.null_share)
        return out

    def _forests(self, t: str, m: TableModel, graph: FKGraph, n: int) -> dict[str, np.ndarray]:
        """Parent position (in generation order) of every row along each self-reference, drawn once."""
        out = {}
        for d in graph.deferred_for(t):
            e = d.edge
            if e.parent != t:
                continue
            spec = m.deferred.get(e.name, DeferredSpec(null_share=1.0))
            r = self.rng("deferred", e.name)
            if spec.tree and n:
                # a forest grown level by level with the learned fan-out (rows in breadth-first order)
                refs = sample_forest(n, spec.null_share, spec.tree, r)
            else:
                # no learned shape (older model files): row i points to an earlier row, so following references
                # always ends at a root
                nonnull = nonnull_mask(n, spec.null_share, r, first_null=True)
                refs = np.floor(r.uniform(size=n) * np.arange(n)).astype(np.int64)
                refs[~nonnull] = -1
            out[e.name] = refs
        return out

    @staticmethod
    def _grow_forests(frame: pd.DataFrame, table: Table, forests: dict[str, np.ndarray], keep: np.ndarray | None,
                      state: _TableState) -> None:
        """Point this batch's self-references at earlier rows (this batch's included); rows dropped: NULL."""
        if not forests:
            return
        lo = state.generated
        n = len(frame)
        kept = np.ones(n, dtype=bool) if keep is None else keep
        for e_name, refs in forests.items():
            fk = next(f for f in table.foreign_keys if fk_name(table, f) == e_name)
            keys = frame[fk.ref_columns].copy()
            keys[~kept] = None
            state.gen_keys.setdefault(e_name, []).append(keys)
            allkeys = pd.concat(state.gen_keys[e_name], ignore_index=True)
            state.gen_keys[e_name] = [allkeys]
            r = refs[lo: lo + n].copy()
            alive = r >= 0
            alive[alive] = allkeys.iloc[r[alive]].notna().all(axis=1).to_numpy()
            r[~alive] = -1
            set_refs(frame, fk, allkeys, r)
        state.generated += n

    def _cap_overlapping(self, frame: pd.DataFrame, table: Table, m: TableModel, link: DrivingLink | None,
                         done: dict[str, _Sampled], rng: np.random.Generator, prior: dict) -> np.ndarray | None:
        """Children per parent within the observed maximum for keys nested in a wider one (see
        :func:`dbsynth.sample.refs.cap_overlapping`); ``prior`` carries earlier batches' counts."""
        caps: dict[str, int] = {}
        for fk in table.foreign_keys:
            nm = fk_name(table, fk)
            if link is not None and nm == link.edge:
                caps[nm] = max(int(link.count_max), 1)
            elif nm in m.others:
                caps[nm] = max(int(m.others[nm].count_max), 1)
        return cap_overlapping(frame, table, caps, {t: d.frame for t, d in done.items()}, rng, prior)

    # ---- cycles -------------------------------------------------------------------------------------
    def _deferred_updates(self, graph: FKGraph, done: dict[str, _Sampled], batch_rows: int | None,
                          held: dict[str, list[pd.DataFrame]]) -> Iterator[Batch]:
        """Cycle-breaking references whose parent table came after the child: update batches. Tables in ``held``
        (a NOT NULL such reference) are sent here whole as rows, the NOT NULL keys filled."""
        order = list(done)
        whole = {t: pd.concat(fs, ignore_index=True) for t, fs in held.items() if t in done}
        # NOT NULL keys first, into the held rows; then those rows; then the updates of nullable keys
        for d in sorted(graph.deferred, key=lambda d: not d.not_null):
            if not d.not_null and whole:
                yield from _cut(whole, batch_rows, BatchKind.ROWS)
                whole = {}
            e = d.edge
            if e.child == e.parent or e.child not in done or e.parent not in done:
                continue
            if order.index(e.parent) < order.index(e.child):
                continue  # filled in the child's batches
            spec = self.strategy.table_model(e.child).deferred.get(e.name, DeferredSpec(null_share=1.0))
            if d.not_null:
                spec = dataclasses.replace(spec, null_share=0.0)
            pframe = done[e.parent].frame
            rng = self.rng("deferred", e.name)
            if d.not_null and e.child in whole:
                # the rows themselves wait for this: fill the key in them (same draws as an update would take)
                upd = whole[e.child].copy()
                refs = capped_refs(len(upd), len(pframe), spec.null_share, spec.count_max, rng)
                refs = close_refs(refs, e, graph.back_edge(e), spec, upd, pframe, rng)
                set_refs(upd, e.fk, pframe, refs)
                for c in e.fk.columns:
                    whole[e.child][c] = upd[c].to_numpy()
                continue
            upd = done[e.child].frame[self.metadata.tables[e.child].primary_key].copy()
            _fill(upd, e.fk, spec, pframe, rng)
            yield from _cut({e.child: upd}, batch_rows, BatchKind.UPDATE)
        yield from _cut(whole, batch_rows, BatchKind.ROWS)


class _Frames(Mapping[str, pd.DataFrame]):
    """The sampled rows of the tables done so far, by name (a view of the engine's ``done``)."""

    def __init__(self, done: Mapping[str, _Sampled]) -> None:
        self._done = done

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self._done[name].frame

    def __iter__(self) -> Iterator[str]:
        return iter(self._done)

    def __len__(self) -> int:
        return len(self._done)


def _fill(frame: pd.DataFrame, fk: ForeignKey, spec: DeferredSpec, pframe: pd.DataFrame,
          rng: np.random.Generator) -> None:
    """A cycle's references: the learned NULL share, each parent at most its learned maximum of children."""
    refs = capped_refs(len(frame), len(pframe), spec.null_share, spec.count_max, rng)
    set_refs(frame, fk, pframe, refs)


def _cut(frames: dict[str, pd.DataFrame], batch_rows: int | None, kind: BatchKind) -> Iterator[Batch]:
    """Each frame as batches of at most ``batch_rows`` rows (one batch when None; an empty frame: one batch)."""
    for t, frame in frames.items():
        step = batch_rows or max(len(frame), 1)
        if step >= len(frame):
            yield Batch(t, frame.reset_index(drop=True), kind)
            continue
        for lo in range(0, len(frame), step):
            yield Batch(t, frame.iloc[lo: lo + step].reset_index(drop=True), kind)


def _compact(values: np.ndarray) -> np.ndarray:
    """Per-row state kept for children in batch mode: floats as float32 (figures children are drawn from)."""
    return values.astype(np.float32) if values.dtype.kind == "f" else values
