"""The HMA fit, children first, over table sources that may be larger than memory.

For every table, in three steps:

1. **Sample.** A uniform sample of at most ``sample_rows`` rows (every row of a smaller table) is what the
   column transforms, the marginals and the table's copula are learned from.
2. **Extension columns.** The children, fitted earlier, left per-parent figures behind: the exact number of
   children of every parent row, and the within-parent mean of the children's normal scores for the parent
   rows that matter (the parent's sampled rows, and the parents of the child's sampled rows). They join the
   sample's latent columns before the copula is fitted.
3. **Fold into the parents.** One streamed pass over every row of the table (skipped when the sample is the
   whole table) maps each chunk into the latent space, scores it against the sample (mid-ranks, so a row
   read later lands where it would have had it been fitted) and accumulates, per parent key, counts and sums
   of normal scores with ``np.bincount``. The pooled within-parent covariance is estimated on the sampled
   rows against their parents' exact means.

Memory is the samples, one chunk, and a few numbers per parent row (key index, counts, sums for sampled
parents): it grows with the number of parents, never with the number of child rows. With ``sample_rows`` at
least the table sizes the result is the in-memory HMA exactly.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..metadata import Metadata, Table
from ..metadata import sdtypes as st
from ..metadata.graph import Edge, FKGraph
from . import copula, univariate
from .generators import make_generator
from .records import CountHistogram, DeferredSpec, HMALink, HMAOtherLink, HMATableModel
from .source import TableSource
from .transforms import checked_columns, fit_transform, latent_family, transform

#: At most this many normal-score columns of a child travel up to its parent as within-parent means.
MAX_PASSED = 32


def valued_key_columns(table) -> frozenset[str]:
    """Date and timestamp columns of ``table``'s composite primary key that the model learns as values.

    The key generator numbers a key's dates from a fixed epoch (a model file must not hold the source's
    minimum), which puts them outside a range-partitioned table's partitions (events, partitioned by its
    ``created_on`` in the key (event_id, created_on)) and far from the data. Such a column keeps its observed
    distribution instead, through the private quantiles of every value: only when no foreign key of the table
    covers it (a reference takes its parent's values) and another column of the key is not one of these (a
    numbered column keeps the key distinct by itself; a key with a reference is kept unique by the sampler).

    Args:
        table: the table's metadata.

    Returns:
        The names of those columns (empty for a one-column key).
    """
    pk = list(table.primary_key)
    if len(pk) < 2:
        return frozenset()
    ref_cols = {c for fk in table.foreign_keys for c in fk.columns}
    out = frozenset(
        c for c in pk
        if c not in ref_cols and table.has_column(c) and not table.column(c).computed
        and table.column(c).type in (st.DATE, st.TIMESTAMP)
    )
    return out if len(out) < len(pk) else frozenset()


def as_value(column):
    """``column`` with the datetime sdtype when it is a key column of :func:`valued_key_columns` (whose
    sdtype says id): the transform then learns it as a datetime."""
    return dataclasses.replace(column, sdtype=st.DATETIME) if column.sdtype == st.ID else column


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from ``parts`` that is the same in every process (unlike ``hash()``)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def count_col(edge: str) -> str:
    """Name of the extension column holding a parent's number of children along ``edge``."""
    return f"__n__{edge}"


def mean_col(edge: str, j: int) -> str:
    """Name of the extension column holding the within-parent mean of a child's ``j``-th passed score."""
    return f"__m__{edge}__{j}"


def _values(s: pd.Series) -> np.ndarray:
    """Key values comparable across tables: int64 for integer columns, Python objects otherwise."""
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.fillna(0).to_numpy(dtype=np.int64)
    return s.astype("object").to_numpy()


class KeyIndex:
    """Position (row number in stream order) of each key of a table, for one set of key columns.

    Composite keys are encoded as one int64 (the product of per-column codes) so lookups are one hash probe;
    duplicated keys (a damaged source) resolve to their first row.

    Args:
        frame: the key columns of every row, in stream order.
        cols: the key columns.
    """

    def __init__(self, frame: pd.DataFrame, cols: list[str]) -> None:
        self.cols = list(cols)
        self.n = len(frame)
        self.levels: list[pd.Index] = []
        codes = self._encode(frame, build=True)
        index = pd.Index(codes)
        if index.is_unique:
            self.index, self.rows = index, None
        else:
            first = ~index.duplicated()
            self.index, self.rows = index[first], np.flatnonzero(first)

    def _encode(self, frame: pd.DataFrame, cols: list[str] | None = None, build: bool = False) -> np.ndarray:
        cols = cols or self.cols
        if len(cols) == 1:
            return _values(frame[cols[0]])
        out = np.zeros(len(frame), dtype=np.int64)
        bad = np.zeros(len(frame), dtype=bool)
        for i, c in enumerate(cols):
            vals = _values(frame[c])
            if build:
                self.levels.append(pd.Index(pd.unique(vals)))
            lvl = self.levels[i]
            code = lvl.get_indexer(vals)
            bad |= code < 0
            out = out * len(lvl) + np.maximum(code, 0)
        out[bad] = -1  # a value no parent row has: matches nothing
        return out

    def lookup(self, frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
        """Parent position of each row's reference in ``cols`` (-1 for NULL or dangling)."""
        if len(frame) == 0:
            return np.zeros(0, dtype=np.int64)
        codes = self._encode(frame, cols)
        if len(cols) == 1 and self.index.dtype == np.int64 and codes.dtype != np.int64:
            codes = pd.to_numeric(pd.Series(codes), errors="coerce").fillna(-(2**62)).to_numpy(dtype=np.int64)
        pos = self.index.get_indexer(codes)
        if len(cols) > 1:
            pos[codes < 0] = -1
        if self.rows is not None:
            pos = np.where(pos >= 0, self.rows[np.maximum(pos, 0)], -1)
        for c in cols:  # column by column: frame[cols].isna() would build a frame
            pos[frame[c].isna().to_numpy()] = -1
        return pos.astype(np.int64, copy=False)


def count_histogram(counts: np.ndarray) -> CountHistogram:
    """The distribution of children per parent: distinct counts and their shares (``{0: 1.0}`` for none)."""
    if len(counts) == 0:
        return CountHistogram(values=[0], weights=[1.0])
    values, freq = np.unique(counts, return_counts=True)
    return CountHistogram(values=values.astype(np.int64).tolist(), weights=(freq / freq.sum()).tolist())


def depths_of(parent: np.ndarray) -> np.ndarray | None:
    """Depth of each node of a forest given as parent positions (-1: root), by pointer jumping.

    Returns None when the references contain a cycle (some chain never reaches a root).
    """
    n = len(parent)
    depth = np.zeros(n, dtype=np.int64)
    cur = parent.copy()
    for _ in range(n + 1):  # one pass per level of the deepest chain, never per row
        live = cur >= 0
        if not live.any():
            return depth
        depth[live] += 1
        cur[live] = parent[cur[live]]
    return None


def tree_shape(parent: np.ndarray) -> dict | None:
    """What a self-reference's forest looks like: per depth, the distribution of children per node.

    Args:
        parent: each row's parent position in the same table (-1 for a NULL or dangling reference).

    Returns:
        ``{"max_depth": int, "fanout": [{"values": [...], "weights": [...]}, ...]}`` with one entry per depth
        ``0 .. max_depth - 1`` (nodes at the deepest level have no children), or None for cyclic data.
    """
    depth = depths_of(parent)
    if depth is None:
        return None
    children = np.bincount(parent[parent >= 0], minlength=len(parent))
    max_depth = int(depth.max()) if len(depth) else 0
    fanout = []
    for d in range(max_depth):  # a loop over levels, never over rows
        values, freq = np.unique(children[depth == d], return_counts=True)
        fanout.append({"values": values.tolist(), "weights": (freq / freq.sum()).tolist()})
    return {"max_depth": max_depth, "fanout": fanout}


class _Folded:
    """What a child leaves its parent along one edge."""

    def __init__(self, counts: np.ndarray, slot_of: np.ndarray | None, means: np.ndarray | None) -> None:
        self.counts = counts
        """Children of every parent row (by parent position)."""
        self.slot_of = slot_of
        """Row of ``means`` of each parent position (-1: not kept); None off the driving edge."""
        self.means = means
        """Within-parent means of the passed normal scores, for the kept parent rows."""


def driving_edge(table: Table, graph: FKGraph, depths: Mapping[str, int]) -> Edge | None:
    """The foreign key that drives generation of ``table``'s rows: NOT NULL first, then the deepest parent,
    then the name (deterministic; every synthesizer's fit, hence the engine, agrees on it)."""
    edges = graph.parents(table.name)
    if not edges:
        return None
    return min(edges, key=lambda e: (table.fk_is_nullable(e.fk), -depths[e.parent], e.name))


@dataclass(frozen=True)
class FitSettings:
    """What one fit needs of its synthesizer."""

    metadata: Metadata
    """The tables."""
    seed: int
    """The seed every random stream of the fit derives from."""
    locales: list[str]
    """Faker locales of PII generators."""
    min_category_count: int
    """Categorical labels seen fewer times are never stored."""
    table_parameters: Mapping[str, Mapping[str, Any]]
    """Per table, the settings of :meth:`HMASynthesizer.set_table_parameters`."""
    task: Callable[[str, str, int | None], AbstractContextManager[Any]]
    """Progress of one stage of one table."""

    def rng(self, *parts: object) -> np.random.Generator:
        """The random stream named by ``parts``."""
        return np.random.default_rng(stable_seed(self.seed, *parts))


class Fold:
    """One fit: the state shared by the tables of a schema while they are folded children first.

    Args:
        settings: the synthesizer's settings, progress and random streams.
        sources: one :class:`TableSource` per metadata table.
        sample_rows: rows of each table the copula is learned from.
    """

    def __init__(self, settings: FitSettings, sources: dict[str, TableSource], sample_rows: int) -> None:
        self.settings = settings
        self.md = settings.metadata
        self.sources = sources
        self.sample_rows = int(sample_rows)
        self.graph = self.md.graph()
        self.depths = self.graph.depths()
        self.samples: dict[str, pd.DataFrame] = {}
        self.indexes: dict[tuple[str, tuple[str, ...]], KeyIndex] = {}
        self.sample_pos: dict[str, np.ndarray] = {}  # own positions of each referenced table's sampled rows
        self.folded: dict[str, dict[str, _Folded]] = {}
        self.referenced = self._referenced()
        self._prepared = False

    # ---- phase 1: samples and key indexes -------------------------------------------------------------
    def _referenced(self) -> dict[str, list[tuple[str, ...]]]:
        refs: dict[str, list[tuple[str, ...]]] = {}
        for table in self.md:
            for fk in table.foreign_keys:
                if fk.ref_table in self.md.tables:
                    cols = tuple(fk.ref_columns)
                    if cols not in refs.setdefault(fk.ref_table, []):
                        refs[fk.ref_table].append(cols)
        return refs

    def index(self, table: str, cols) -> KeyIndex:
        """The key index of ``table`` on ``cols`` (built in phase 1)."""
        return self.indexes[(table, tuple(cols))]

    def prepare(self) -> None:
        """Draw every table's sample and index the keys children refer to (once: :meth:`run` and
        :meth:`sampled` call it when nobody did)."""
        if self._prepared:
            return
        self._prepared = True
        seed = self.settings.seed
        for t in self.graph.children_first():
            self.samples[t] = self.sources[t].sample(self.sample_rows, stable_seed(seed, "sample", t))
        for t, col_sets in self.referenced.items():
            src = self.sources[t]
            wanted = sorted({c for cols in col_sets for c in cols})
            if len(self.samples[t]) == src.n_rows:
                keys = self.samples[t][wanted]
            else:
                parts = list(src.chunks(wanted))
                keys = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
            for cols in col_sets:
                self.indexes[(t, cols)] = KeyIndex(keys, list(cols))
            del keys
            first = col_sets[0]
            self.sample_pos[t] = self.index(t, first).lookup(self.samples[t], list(first))

    def sampled(self) -> tuple[dict[str, pd.DataFrame], frozenset[str]]:
        """Every table's sample (drawn by :meth:`prepare`), and the tables whose sample is the whole table.

        What rule discovery reads before :meth:`run`: the rows the fit holds anyway, so the source is never
        read a second time (:meth:`run` frees each sample once its table is fitted).
        """
        self.prepare()
        whole = frozenset(t for t, df in self.samples.items() if len(df) == self.sources[t].n_rows)
        return dict(self.samples), whole

    def own_positions(self, t: str, frame: pd.DataFrame) -> np.ndarray:
        """Own positions of ``frame``'s rows in referenced table ``t``."""
        cols = list(self.referenced[t][0])
        return self.index(t, cols).lookup(frame, cols)

    def run(self) -> dict[str, HMATableModel]:
        """Fit every table, children first.

        Returns:
            The per-table models, as :class:`HMASynthesizer` keeps them.
        """
        self.prepare()
        models: dict[str, HMATableModel] = {}
        for t in self.graph.children_first():
            n = self.sources[t].n_rows
            with self.settings.task("fit", t, n) as task:
                models[t] = self.fit_table(t)
                task.advance(n)
            self.samples.pop(t, None)
            for e in self.graph.children(t):  # what the children left is folded in now
                self.folded.get(e.child, {}).pop(e.name, None)
        return models

    # ---- phase 2: one table ---------------------------------------------------------------------------
    def fit_table(self, t: str) -> HMATableModel:
        synth = self.settings
        table = self.md.tables[t]
        df = self.samples[t]
        src = self.sources[t]
        n_s, n = len(df), src.n_rows
        rng = synth.rng("fit", t)
        params = synth.table_parameters[t]
        ref_cols = {c for fk in table.foreign_keys for c in fk.columns}
        valued = valued_key_columns(table)
        key_cols = (set(table.primary_key) - valued) | ref_cols
        checked = checked_columns(table)

        transforms: dict[str, dict] = {}
        generators: dict[str, dict] = {}
        latent: dict[str, np.ndarray] = {}
        families: list[str] = []
        for col in table.columns:
            if col.computed or col.name in ref_cols:
                continue  # references are assigned from the parents' sampled keys
            if col.name in valued:
                col = as_value(col)
            if col.is_modelled and n_s > 0 and col.name not in key_cols:
                # labels a CHECK names are the schema's: all kept, as a generated one would break it
                k = 1 if col.name in checked else synth.min_category_count
                spec, lat = fit_transform(col, df[col.name], rng, k)
                transforms[col.name] = spec
                for name, arr in lat.items():
                    latent[name] = arr
                    families.append(latent_family(spec, name, params))
            else:  # keys (unique, of the column's type), PII, text, unsupported
                gen = make_generator(col, table, synth.locales)
                gen.fit(df[col.name] if col.name in df else pd.Series([], dtype="object"))
                generators[col.name] = gen.to_dict()
        n_own = len(latent)
        # extension columns folded in by children (already fitted)
        has_children: dict[str, np.ndarray] = {}  # mean column -> sampled parents that have children
        own_pos = self.sample_pos.get(t, np.zeros(0, np.int64))
        known = own_pos >= 0  # a sampled row whose key is NULL has no children
        safe = np.maximum(own_pos, 0)
        for e in self.graph.children(t):
            f = self.folded[e.child][e.name]
            counts = np.where(known, f.counts[safe], 0) if len(own_pos) else np.zeros(0, np.int64)
            latent[count_col(e.name)] = counts.astype(float)
            families.append("empirical")
            if f.means is not None and f.slot_of is not None:
                width = f.means.shape[1]
                means = np.zeros((len(own_pos), width))
                if len(own_pos) and len(f.means):
                    slots = np.where(known, f.slot_of[safe], -1)
                    means[slots >= 0] = f.means[slots[slots >= 0]]
                for j in range(means.shape[1]):
                    latent[mean_col(e.name, j)] = means[:, j]
                    has_children[mean_col(e.name, j)] = counts > 0
                    families.append("empirical")
        names = list(latent)
        x = np.column_stack([latent[k] for k in names]) if names else np.zeros((n_s, 0))
        del latent
        if n_s > 0:
            marginals, corr, z = copula.fit(x, families)
            if has_children:
                marginals, corr = _impute_childless(names, x, z, marginals, has_children)
        else:
            marginals = [{"family": "constant", "value": 0.0} for _ in names]
            corr, z = np.eye(len(names)), np.zeros((0, len(names)))

        model = HMATableModel(n_rows=n, transforms=transforms, generators=generators, columns=names, n_own=n_own,
                              marginals=marginals, corr=corr)
        if self.graph.parents(t) or self.graph.deferred_for(t):
            self._fold(t, model, df, x, z)
        return model

    def _fold(self, t: str, model: HMATableModel, df: pd.DataFrame, x: np.ndarray, z: np.ndarray) -> None:
        """Fold ``t`` into its parents (all parents at once) and learn its deferred references."""
        table = self.md.tables[t]
        src = self.sources[t]
        n_s, n = len(df), src.n_rows
        names = model.columns
        driving = driving_edge(table, self.graph, self.depths)
        passed = [j for j, nm in enumerate(names) if j < model.n_own or nm.startswith("__n__")][:MAX_PASSED]
        parents: list[Edge] = self.graph.parents(t)
        deferred = [d.edge for d in self.graph.deferred_for(t)]
        counts = {e.name: np.zeros(self.sources[e.parent].n_rows, dtype=np.int64) for e in parents}
        null_refs = {e.name: 0 for e in deferred}
        # children per parent along a cycle's key (bounded when its references are filled after the fact)
        deferred_counts = {e.name: np.zeros(self.sources[e.parent].n_rows, dtype=np.int64)
                           for e in deferred if e.parent != t}
        self_pos: dict[str, list[np.ndarray]] = {e.name: [] for e in deferred if e.parent == t}
        # NOT NULL two-table cycles: how often the referenced row refers back to this very row (a store's
        # manager works at that store), [closed, linked]; owner: parent position -> own position it refers to
        closing = {d.edge.name: self._owners(d.edge, back) for d in self.graph.deferred_for(t)
                   if d.not_null and (back := self.graph.back_edge(d.edge)) is not None}
        closed = {name: [0, 0] for name in closing}

        # off a driving key these stay empty (read only along one)
        slot_of = np.zeros(0, dtype=np.int64)
        sums = np.zeros((0, len(passed)))
        sample_ppos = np.zeros(0, dtype=np.int64)
        if driving is not None:
            p = driving.parent
            sample_ppos = self.index(p, driving.fk.ref_columns).lookup(df, driving.fk.columns)
            p_pos = self.sample_pos.get(p, np.zeros(0, np.int64))
            keep = np.unique(np.r_[p_pos[p_pos >= 0], sample_ppos[sample_ppos >= 0]])
            slot_of = np.full(self.sources[p].n_rows, -1, dtype=np.int64)
            slot_of[keep] = np.arange(len(keep))
            sums = np.zeros((len(keep), len(passed)))

        whole = n_s == n  # the sample is the table: fold it directly, scores as fitted
        if whole:
            chunks = [(df, z[:, passed])]
        else:
            chunks = self._scored_chunks(t, model, x, passed)
        for chunk, zc in chunks:
            for e in parents:
                pos = self.index(e.parent, e.fk.ref_columns).lookup(chunk, e.fk.columns)
                ok = pos >= 0
                counts[e.name] += np.bincount(pos[ok], minlength=len(counts[e.name]))
                # (an empty parent: none)
                if driving is not None and e.name == driving.name and len(passed) and ok.any():
                    slots = slot_of[np.where(ok, pos, 0)]
                    hit = ok & (slots >= 0)
                    for j in range(len(passed)):  # a loop over columns, never over parents
                        sums[:, j] += np.bincount(slots[hit], weights=zc[hit, j], minlength=len(sums))
            for e in deferred:
                pos = self.index(e.parent, e.fk.ref_columns).lookup(chunk, e.fk.columns)
                null_refs[e.name] += int((pos < 0).sum())
                if e.name in deferred_counts:
                    deferred_counts[e.name] += np.bincount(pos[pos >= 0], minlength=len(deferred_counts[e.name]))
                if e.name in self_pos:
                    self_pos[e.name].append(pos)
                entry = closing.get(e.name)
                if entry is not None:
                    owner, ref_cols = entry
                    if all(c in chunk.columns for c in ref_cols):
                        own = self.index(t, ref_cols).lookup(chunk, ref_cols)
                        ok = pos >= 0
                        closed[e.name][0] += int(((owner[np.where(ok, pos, 0)] == own) & ok & (own >= 0)).sum())
                        closed[e.name][1] += int(ok.sum())

        for e in parents:
            c = counts[e.name]
            if driving is not None and e.name == driving.name:
                kept = np.flatnonzero(slot_of >= 0)
                # rounded: chunked sums differ in the last bits, and parents with identical children must keep
                # identical means (ties), or their ranks, hence their normal scores, would spread apart
                means = np.round(sums / np.maximum(c[kept], 1)[:, None], 9) if len(kept) else sums
                self.folded.setdefault(t, {})[e.name] = _Folded(c, slot_of, means)
                model.link = self._link(e, model, c, means, slot_of, sample_ppos, z, passed, n)
            else:
                self.folded.setdefault(t, {})[e.name] = _Folded(c, None, None)
                model.others[e.name] = HMAOtherLink(
                    parent=e.parent,
                    null_share=float(1.0 - c.sum() / n) if n else 0.0,
                    count_min=int(c.min()) if len(c) else 0,
                    count_max=int(c.max()) if len(c) else 0,
                    counts=count_histogram(c),
                )
        for e in deferred:
            spec = DeferredSpec(parent=e.parent, null_share=null_refs[e.name] / n if n else 0.0)
            if e.name in deferred_counts:
                spec.count_max = int(deferred_counts[e.name].max(initial=0))
            if e.name in closed and closed[e.name][1]:
                spec.closed_share = closed[e.name][0] / closed[e.name][1]
            if e.name in self_pos and n:
                spec.tree = tree_shape(np.concatenate(self_pos[e.name]))
            model.deferred[e.name] = spec

    def _owners(self, e: Edge, back: Edge) -> tuple[np.ndarray, list[str]] | None:
        """For each row of ``e``'s parent, the position in ``e``'s child of the row it refers to along ``back``
        (-1: none), and the child columns ``back`` refers to; None when the indexes needed are missing."""
        ref_cols = list(back.fk.ref_columns)
        if (e.parent, tuple(e.fk.ref_columns)) not in self.indexes or (e.child, tuple(ref_cols)) not in self.indexes:
            return None
        src = self.sources[e.parent]
        wanted = list(dict.fromkeys([*e.fk.ref_columns, *back.fk.columns]))
        sample = self.samples.get(e.parent)
        parts = [sample] if sample is not None and len(sample) == src.n_rows else src.chunks(wanted)
        owner = np.full(src.n_rows, -1, dtype=np.int64)
        for part in parts:
            ppos = self.index(e.parent, e.fk.ref_columns).lookup(part, list(e.fk.ref_columns))
            back_pos = self.index(e.child, ref_cols).lookup(part, list(back.fk.columns))
            ok = ppos >= 0
            owner[ppos[ok]] = back_pos[ok]
        return owner, ref_cols

    def _scored_chunks(self, t: str, model: HMATableModel, x: np.ndarray, passed: list[int]):
        """Chunks of every row of ``t`` with the normal scores of the passed columns, scored against the sample."""
        table = self.md.tables[t]
        names = model.columns
        refs = {c for fk in table.foreign_keys for c in fk.columns}
        own_cols = [c for c in model.transforms]
        own_keys = list(self.referenced.get(t, [()])[0])
        count_edges = {count_col(e.name): e for e in self.graph.children(t)}
        wanted = list(dict.fromkeys(own_cols + sorted(refs) + own_keys))
        ref_sorted = {j: np.sort(x[:, j]) for j in passed}
        marginals = model.marginals
        for chunk in self.sources[t].chunks(wanted):
            lat: dict[str, np.ndarray] = {}
            for c in own_cols:
                lat.update(transform(table.column(c), model.transforms[c], chunk[c]))
            if count_edges:
                own = self.own_positions(t, chunk)
                for nm, e in count_edges.items():
                    lat[nm] = self.folded[e.child][e.name].counts[np.maximum(own, 0)].astype(float)
            zc = np.column_stack(
                [copula.scores_against(lat[names[j]], ref_sorted[j], marginals[j]) for j in passed]
            ) if passed else np.zeros((len(chunk), 0))
            yield chunk, zc

    def _link(self, e: Edge, model: HMATableModel, counts, means, slot_of, sample_ppos, z, passed, n) -> HMALink:
        """The driving edge's figures: count range, orphans and the pooled within-parent covariance."""
        k = len(model.columns)
        linked = sample_ppos >= 0
        n_linked = int(counts.sum())
        groups = int((counts > 0).sum())
        if n_linked > groups and linked.any():
            resid = z[linked].copy()
            if passed:
                resid[:, passed] -= means[slot_of[sample_ppos[linked]]]
            # pooled within-parent covariance: siblings around their (exact) mean; on a sample of the rows the
            # sum of squares is scaled up to all linked rows before dividing by the degrees of freedom
            ss = resid.T @ resid * (n_linked / int(linked.sum()))
            cov = ss / max(n_linked - groups, 1)
        else:
            cov = np.eye(k)
        return HMALink(
            edge=e.name,
            parent=e.parent,
            passed=passed,
            resid_cov=cov,
            n_linked=n_linked,
            orphans=int(n - n_linked),
            count_min=int(counts.min()) if len(counts) else 0,
            count_max=int(counts.max()) if len(counts) else 0,
            counts=count_histogram(counts),
        )


def _impute_childless(names, x, z, marginals, has_children):
    """Within-parent means of parents without children are undefined: fit their marginal on parents that
    have children, and give the others the normal score predicted from the columns that are defined
    (least squares), so the placeholder does not dilute the correlations the copula learns."""
    mean_cols = [j for j, nm in enumerate(names) if nm in has_children]
    other = [j for j, nm in enumerate(names) if nm not in has_children]
    design = np.column_stack([np.ones(len(z)), z[:, other]])
    for j in mean_cols:
        has = has_children[names[j]]
        if has.all() or not has.any():
            continue
        marginals[j] = univariate.fit_marginal(x[has, j], "empirical")
        z[has, j] = copula.normal_scores(x[has, j], marginals[j])
        beta, *_ = np.linalg.lstsq(design[has], z[has, j], rcond=None)
        z[~has, j] = design[~has] @ beta
    return marginals, copula.correlation(z)
