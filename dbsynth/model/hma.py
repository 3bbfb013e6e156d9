"""Hierarchical Modeling Algorithm over the foreign-key graph, vectorised over parents.

Fit, children first: each table's modelled columns go through reversible transforms into latent columns; a
Gaussian copula (marginal per latent column, one correlation of normal scores) is fitted on them plus the
*extension* columns its children fold into it. Per foreign key a child folds, for all parents at once with
``np.bincount``: its row count per parent and, along its driving key, the within-parent mean of a bounded set
of its normal scores (its own columns and its own child counts, at most :data:`MAX_PASSED`, so width stays
linear and nothing compounds with depth). The within-parent spread and correlation are pooled per child
table as one residual covariance.

Sample, parents first: roots draw normal scores from their copula; a child's rows are its parents' rows
repeated by their sampled counts, with normal scores = the parent's sampled means + pooled residual noise.
A parent's count follows the learned distribution of counts (stratified: every count value on its share of
the parents), handed out in the order of the count its copula drew, so which parent gets more children depends
on its values while the shape stays exact. Other foreign keys are filled by capacity-aware matching (each
parent's sampled count is its capacity); rows that would repeat a key made of references (bridge tables) swap
references with other rows first, so capacities hold, and are re-drawn or dropped only after that; when a
key is nested in a wider one (lineitem's part inside (part, supplier) -> partsupp), rows over the narrow key's
observed maximum move to wide-parent rows with room under every cap. Deferred references (cycles) are filled
after every table exists; a self-reference is grown as a forest, level by level, from the learned share of
roots and fan-out per depth, so it is acyclic and no deeper than the source.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd
from scipy import special

from .. import progress
from ..memory import release
from ..errors import BadInputError, NotFittedError, SchemaMismatchError
from ..metadata import Metadata, Table
from ..metadata.graph import Edge
from . import copula, univariate
from ._refs import back_edge as _refs_back_edge
from ._refs import cap_overlapping as _refs_cap_overlapping
from ._refs import close_refs as _refs_close
from ._refs import DEFAULT_BATCH_ROWS, UPDATE_FLAG  # noqa: F401 (UPDATE_FLAG: part of this module's API)
from ._refs import capped_counts as _capped_counts
from ._refs import join_batches as _refs_join_batches
from ._refs import kept_columns as _refs_kept_columns
from ._refs import rank_matched_counts as _rank_matched_counts
from ._refs import capped_refs as _capped_refs
from ._refs import redraw_duplicates as _redraw_duplicates
from ._refs import required_refs_mask as _required_refs_mask
from ._refs import root_rows as _root_rows
from ._refs import set_refs as _refs_set_refs
from ._refs import unique_mask as _unique_mask
from ._refs import nonnull_mask as _nonnull_mask
from ._refs import sample_forest as _sample_forest
from .fold import Fold, count_col, mean_col, stable_seed
from .generators import UniqueState, distinct_columns, generate, generator_from_dict, repair
from .source import DEFAULT_SAMPLE_ROWS, FrameSource, TableSource
from .transforms import frame_of, inverse_transform

DEFAULT_TABLE_PARAMETERS: dict[str, Any] = {
    "default_distribution": "empirical",
    "numerical_distributions": {},
    "enforce_min_max_values": True,
    "enforce_rounding": True,
}

# short names for the fold's helpers, used throughout the sampler
_count_col, _mean_col = count_col, mean_col


def _mvn(rng: np.random.Generator, cov: np.ndarray, n: int) -> np.ndarray:
    k = cov.shape[0]
    if k == 0:
        return np.zeros((n, 0))
    return rng.standard_normal((n, k)) @ copula.sqrt_psd(cov).T


#: Row positions drawn for a whole table (children's parents, second parents): 4 bytes each, so a table
#: may hold up to 2**31 rows.
_POS = np.int32



def _fk_name(t: str, fk) -> str:
    return fk.name or f"{t}({','.join(fk.columns)})"


def _batches(counts: np.ndarray | None, n_free: int, batch_rows: int | None) -> list[tuple[int, int, int, int]]:
    """Batches ``(row_lo, row_hi, parent_lo, parent_hi)``: whole parents' children, then rows with no parent.

    ``counts`` are the children of each driving parent (None for a table without one); ``n_free`` rows follow
    with no parent (roots, or orphans), cut every ``batch_rows``. A batch holds whole parents, at least one,
    so no array the size of the child table is ever needed to cut it.
    """
    out: list[tuple[int, int, int, int]] = []
    step = batch_rows or max(int(counts.sum()) if counts is not None else 0, n_free, 1)
    rows = 0
    if counts is not None and len(counts):
        ends = np.cumsum(counts)
        p = 0
        while p < len(counts):
            start = int(ends[p - 1]) if p else 0
            q = max(int(np.searchsorted(ends, start + step, side="right")), p + 1)
            out.append((start, int(ends[q - 1]), p, q))
            p = q
        rows = int(ends[-1])
    for lo in range(0, n_free, step):
        out.append((rows + lo, rows + min(lo + step, n_free), -1, -1))
    return out or [(0, 0, -1, -1)]


#: Fewest children in a batch for their scores to be re-matched to the standard normal (see ``_rematch``).
REMATCH_MIN_ROWS = 200


def _rematch(z: np.ndarray) -> np.ndarray:
    """Children's normal scores with each column's ranks kept and its values put back on the standard normal.

    A child's score is its parent's mean plus the pooled within-parent spread; their sum is normal only
    approximately (parents differ in how many children carry their mean), so the column's marginal would widen
    or skew after the inverse CDF. Re-matching each column to normal quantiles by rank keeps every ordering,
    hence the dependence on the parent and between columns, and gives back the learned marginal exactly.
    Batches too small to estimate the quantiles are left as drawn.
    """
    n = len(z)
    if n < REMATCH_MIN_ROWS:
        return z
    ranks = copula.mid_ranks(z)  # ties (a column fixed by the parent) stay tied
    return special.ndtri((ranks + 0.5) / n)


class _Capacity:
    """A second parent's room for children, drawn from batch by batch without replacement.

    Args:
        cap: children each parent row may take (learned range, summing to the rows expected to refer to it).
        null_share: share of rows whose reference is NULL.
    """

    def __init__(self, cap: np.ndarray, null_share: float) -> None:
        self.left = cap.astype(np.int64)
        self.used = np.zeros(len(cap), dtype=np.int64)
        self.null_share = null_share

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Parent positions of ``n`` rows (-1: NULL), taken from the room left (anywhere once it runs out)."""
        refs = np.full(n, -1, dtype=_POS)
        pn = len(self.left)
        if pn == 0:
            return refs
        nonnull = _nonnull_mask(n, self.null_share, rng)
        want = int(nonnull.sum())
        room = int(self.left.sum())
        take = rng.multivariate_hypergeometric(self.left, min(want, room), method="marginals") if room else np.zeros(pn, np.int64)
        self.left -= take
        picked = rng.permutation(np.repeat(np.arange(pn, dtype=_POS), take))
        if len(picked) < want:  # the capacities could not reach the row count: the rest go anywhere
            picked = np.r_[picked, rng.integers(0, pn, want - len(picked)).astype(_POS)]
        refs[nonnull] = picked
        self.used += np.bincount(picked, minlength=pn)
        return refs


@dataclass
class _BatchState:
    """What one table's batches share: counts under caps, keys seen, rows generated, self-reference keys."""

    caps: dict = field(default_factory=dict)
    seen: dict = field(default_factory=dict)
    generated: int = 0
    gen_keys: dict = field(default_factory=dict)
    unique: UniqueState = field(default_factory=UniqueState)
    deferred_used: dict = field(default_factory=dict)


@dataclass
class _Sampled:
    frame: pd.DataFrame
    ext: dict[str, np.ndarray]


class HMASynthesizer:
    """Multi-table synthesizer: a Gaussian copula per table, children folded into parents.

    Args:
        metadata: the tables (validated on fit).
        locales: Faker locales for PII columns.
        verbose: report progress through :mod:`dbsynth.progress`.
        seed: seed of every random draw (None: fresh entropy, fixed at construction).
        min_category_count: categorical labels seen fewer times are never stored (generated labels take their place).
    """

    def __init__(
        self,
        metadata: Metadata,
        locales: list[str] | None = None,
        verbose: bool = True,
        seed: int | None = None,
        min_category_count: int = 5,
    ) -> None:
        self.metadata = metadata.copy()
        self.locales = list(locales or ["en_US"])
        self.verbose = verbose
        self.seed = int(seed) if seed is not None else int(np.random.SeedSequence().entropy % (2**63))
        self.min_category_count = int(min_category_count)
        self._table_parameters = {t: copy.deepcopy(DEFAULT_TABLE_PARAMETERS) for t in self.metadata.tables}
        self._models: dict[str, dict] | None = None

    # ---- settings -----------------------------------------------------------------------------------
    def get_metadata(self) -> Metadata:
        """A copy of the metadata."""
        return self.metadata.copy()

    def set_table_parameters(self, table_name: str, table_parameters: dict[str, Any]) -> None:
        """Set model settings of one table (before fit).

        Args:
            table_name: the table.
            table_parameters: any of ``default_distribution``, ``numerical_distributions`` ({column: family}),
                ``enforce_min_max_values``, ``enforce_rounding``.

        Raises:
            BadInputError: for an unknown table, key or distribution.
        """
        self.metadata.table(table_name)
        unknown = set(table_parameters) - set(DEFAULT_TABLE_PARAMETERS)
        if unknown:
            raise BadInputError(f"unknown table parameter(s) {', '.join(sorted(unknown))}", table=table_name)
        fams = set(univariate.FAMILIES) | {"auto"}
        dists = [table_parameters.get("default_distribution", "empirical")]
        dists += list((table_parameters.get("numerical_distributions") or {}).values())
        for d in dists:
            if d not in fams:
                raise BadInputError(f"unknown distribution '{d}' (known: {', '.join(sorted(fams))})", table=table_name)
        for col in table_parameters.get("numerical_distributions") or {}:
            self.metadata.table(table_name).column(col)
        self._table_parameters[table_name].update(copy.deepcopy(table_parameters))

    def get_table_parameters(self, table_name: str) -> dict[str, Any]:
        """The model settings of one table (a copy)."""
        self.metadata.table(table_name)
        return copy.deepcopy(self._table_parameters[table_name])

    def get_parameters(self) -> dict[str, Any]:
        """Constructor settings and per-table settings."""
        return {
            "locales": list(self.locales),
            "verbose": self.verbose,
            "seed": self.seed,
            "min_category_count": self.min_category_count,
            "tables": copy.deepcopy(self._table_parameters),
        }

    def _require_fitted(self) -> dict[str, dict]:
        if self._models is None:
            raise NotFittedError("the synthesizer is not fitted", hint="Call fit(data) first.")
        return self._models

    def get_learned_distributions(self, table_name: str) -> dict[str, dict]:
        """The marginal learned for each latent column of ``table_name`` (family and parameters).

        Raises:
            NotFittedError: before fit.
        """
        models = self._require_fitted()
        self.metadata.table(table_name)
        m = models[table_name]
        out = {}
        for name, marg in zip(m["columns"], m["marginals"]):
            out[name] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in marg.items()}
        return out

    def _task(self, stage: str, table: str, total: int | None):
        """Progress of one table (silent when ``verbose`` is False)."""
        if self.verbose:
            return progress.task(stage, table=table, total=total)
        return contextlib.nullcontext(progress.Task(stage, table, total))

    def _rng(self, stage: str, table: str) -> np.random.Generator:
        return np.random.default_rng(stable_seed(self.seed, stage, table))

    # ---- fit ----------------------------------------------------------------------------------------
    def fit(
        self, data: Mapping[str, pd.DataFrame | TableSource], *, sample_rows: int = DEFAULT_SAMPLE_ROWS
    ) -> "HMASynthesizer":
        """Learn every table of the metadata from ``data``.

        Marginals and each table's copula are learned from a uniform sample of at most ``sample_rows`` rows;
        children are folded into their parents exactly, from streamed passes over every row (counts and sums
        of normal scores per parent key), so memory grows with the sample and the number of parents, never
        with the number of child rows. Tables no larger than the sample are used whole, with no extra pass.

        Args:
            data: one frame per metadata table (frame contract), or one :class:`~dbsynth.model.source.TableSource`
                (e.g. from :func:`dbsynth.read.open_sources`, which streams a database).
            sample_rows: rows of each table the copula is learned from.

        Returns:
            ``self``.

        Raises:
            SchemaMismatchError: when a table or column of the metadata is missing from ``data``.
        """
        md = self.metadata
        md.validate()
        if sample_rows < 2:
            raise BadInputError("sample_rows must be at least 2")
        problems = [f"table '{t}' missing" for t in md.tables if t not in data]
        for t, table in md.tables.items():
            if isinstance(data.get(t), pd.DataFrame):
                problems += [
                    f"column '{t}.{c.name}' missing" for c in table.columns if not c.computed and c.name not in data[t]
                ]
        if problems:
            raise SchemaMismatchError("data does not match the metadata: " + "; ".join(problems))
        sources = {t: FrameSource(d) if isinstance(d, pd.DataFrame) else d for t, d in data.items() if t in md.tables}
        self._models = Fold(self, sources, sample_rows).run()
        return self

    def _driving_edge(self, table: Table, graph, depths) -> Edge | None:
        """The foreign key that drives generation: NOT NULL first, then deepest parent, then name."""
        edges = graph.parents(table.name)
        if not edges:
            return None
        return min(edges, key=lambda e: (table.fk_is_nullable(e.fk), -depths[e.parent], e.name))

    # ---- sample -------------------------------------------------------------------------------------
    def sample(self, scale: float = 1.0, num_rows: dict[str, int] | int | None = None) -> dict[str, pd.DataFrame]:
        """Synthetic rows for every table, parent-first, following the frame contract.

        Args:
            scale: size of each root table relative to the source, at least one row at any positive scale when
                the source has rows (children follow their parents; a child of an empty table gets no rows, or
                NULL where its key allows).
            num_rows: rows per root table (``{table: n}``, or one int for every root), overriding ``scale``.

        Returns:
            One frame per table, in parent-first order.

        Raises:
            NotFittedError: before fit.
        """
        models = self._require_fitted()
        if scale < 0:
            raise BadInputError("scale must be >= 0")
        return self._sample(models, scale, num_rows)

    def iter_sample(
        self, scale: float = 1.0, num_rows: dict[str, int] | int | None = None, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[tuple[str, pd.DataFrame]]:
        """Synthetic rows as ``(table, frame)`` batches of at most about ``batch_rows`` rows, parent-first.

        Every batch of a parent comes before any batch of its children, so the batches can be written (see
        :func:`dbsynth.write`) and freed as they come: memory holds one batch plus, per parent table, its keys
        and the few figures per row its children are drawn from. Keys and unique constraints stay unique and
        references valid across batches (a unique column that is neither a key nor generated distinct costs
        8 bytes per row sent, the hashes later batches are checked against). A batch of a child holds the
        children of whole parents, so one parent with more children than ``batch_rows`` makes a larger batch.

        Foreign keys deferred to break a cycle whose parent table comes later are sent at the end as frames
        of the child's primary key and those columns, flagged ``frame.attrs["dbsynth_update"] = True``: the
        writer fills them after every row exists (:func:`dbsynth.write` understands them).

        Args:
            scale: size of each root table relative to the source.
            num_rows: rows per root table, overriding ``scale``.
            batch_rows: rows per batch (at least 1).

        Yields:
            ``(table name, frame)`` following the frame contract.

        Raises:
            NotFittedError: before fit.
        """
        models = self._require_fitted()
        if scale < 0:
            raise BadInputError("scale must be >= 0")
        if batch_rows < 1:
            raise BadInputError("batch_rows must be at least 1")
        return self._iter(models, scale, num_rows, int(batch_rows))

    def _sample(self, models, scale, num_rows, only: list[str] | None = None, forced_roots=()) -> dict[str, pd.DataFrame]:
        """Every table in memory: the batches of :meth:`_iter` with one batch per table, joined."""
        return _refs_join_batches(self.metadata, self._iter(models, scale, num_rows, None, only, forced_roots))

    def _iter(self, models, scale, num_rows, batch_rows, only=None, forced_roots=()) -> Iterator[tuple[str, pd.DataFrame]]:
        md = self.metadata
        graph = md.graph()
        roots = set(graph.roots())
        if isinstance(num_rows, (int, np.integer)):
            num_rows = {r: int(num_rows) for r in (forced_roots or roots)}
        num_rows = dict(num_rows or {})
        order = graph.parent_first()
        if only is not None:
            order = [t for t in order if t in only]
        keep_cols = _refs_kept_columns(self.metadata, graph)
        done: dict[str, _Sampled] = {}
        # tables with a NOT NULL cycle-breaking key: rows kept whole until the key's parent exists (small tables,
        # the graph breaks such a cycle at the smallest one), then sent with the key filled
        held_tables = graph.held()
        held: dict[str, list[pd.DataFrame]] = {}
        for t in order:
            frames: list[pd.DataFrame] = []
            exts: list[dict[str, np.ndarray]] = []
            with self._task("sample", t, None) as task:
                for frame, ext in self._table_batches(t, models, graph, done, scale, num_rows, t in forced_roots, batch_rows):
                    # what children need of this table: its keys and the figures they are drawn from
                    frames.append(frame[keep_cols[t]] if batch_rows is not None else frame)
                    exts.append({k: v.astype(np.float32) if batch_rows is not None else v for k, v in ext.items()})
                    task.advance(len(frame))
                    if t in held_tables:
                        held.setdefault(t, []).append(frame)
                    else:
                        yield t, frame
            kept = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
            ext = {k: np.concatenate([e[k] for e in exts]) for k in (exts[0] if exts else {})}
            done[t] = _Sampled(kept, ext)
            del frames, exts
            if batch_rows is not None and len(kept) > batch_rows:
                release()  # a big table's batches are gone: give their pages back before the next table
            for p in list(done):  # a parent whose children are all sampled keeps only its keys
                if all(e.child in done or e.child not in order for e in graph.children(p)):
                    done[p].ext = {}
        yield from self._deferred_updates(models, graph, done, batch_rows, held)

    def _table_batches(self, t, models, graph, done, scale, num_rows, forced_root, batch_rows):
        """The batches of one table: ``(frame, extension columns)``, drawn parent by parent.

        Everything that spans the table (children per parent, second parents' capacities, the forest of a
        self-reference) is drawn once up front, so batches only slice it and the result does not depend on
        where batches are cut except through the per-batch noise.
        """
        table = self.metadata.tables[t]
        m = models[t]
        rng = self._rng("sample", t)
        corr = np.asarray(m["corr"])
        link = None if forced_root else m["link"]
        if link is not None and link["parent"] not in done:
            link = None
        fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
        counts = None
        if link is None:
            n = int(num_rows[t]) if t in num_rows else _root_rows(m["n_rows"], scale)
            plan = _batches(None, n, batch_rows)
        else:
            parent = done[link["parent"]]
            p_model = models[link["parent"]]
            n_parent = len(parent.frame)
            ratio = n_parent / p_model["n_rows"] if p_model["n_rows"] else 0.0
            raw = parent.ext[_count_col(link["edge"])]
            if "counts" in link:  # the copula's order, the learned distribution (older model files: as drawn)
                raw = _rank_matched_counts(raw, link["counts"], rng)
            total = int(round(link["n_linked"] * ratio))
            counts = _capped_counts(raw, total, link["count_min"], link["count_max"], rng)
            n_orph = int(round(link["orphans"] * ratio))
            n = int(counts.sum()) + n_orph
            plan = _batches(counts, n_orph, batch_rows)
        others = self._others(t, m, n, done, forced_root, rng)
        forests = self._forests(t, m, graph, n, rng)
        # primary-key columns numbered by the engine, and generated columns distinct by construction: unique
        # constraints holding one need no tracking across batches
        numbered = {c for c in table.primary_key
                    if c not in fk_cols and c not in m["generators"] and c not in m["transforms"]}
        state = _BatchState(unique=UniqueState(exempt=distinct_columns(m["generators"]) | numbered))
        driving = next((fk.columns for fk in table.foreign_keys if link and _fk_name(t, fk) == link["edge"]), [])
        for b, (lo, hi, plo, phi) in enumerate(plan):
            brng = np.random.default_rng(stable_seed(self.seed, "sample", t, b))
            if plo >= 0:
                pidx = np.repeat(np.arange(plo, phi, dtype=_POS), counts[plo:phi])
            else:
                pidx = np.full(hi - lo, -1, dtype=_POS)
            frame, ext = self._batch(t, m, corr, link, done, pidx, lo, brng)
            # references
            redraw = []
            # wider keys last: when keys overlap (lineitem's partkey alone and with suppkey), the composite one
            # wins, and its values are valid for the narrower key too since its parent references the same rows
            for fk in sorted(table.foreign_keys, key=lambda f: len(f.columns)):
                e_name = _fk_name(t, fk)
                if link is not None and e_name == link["edge"]:
                    self._set_refs(frame, fk, done[fk.ref_table].frame, pidx)
                elif e_name in others:
                    refs = others[e_name].draw(len(frame), brng)
                    self._set_refs(frame, fk, done[fk.ref_table].frame, refs)
                    redraw.append((fk, e_name, refs))
                elif e_name in m["deferred"]:
                    if fk.ref_table in done:  # a cycle's parent sampled earlier: fill now, the writer defers it
                        pframe = done[fk.ref_table].frame
                        used = state.deferred_used.setdefault(e_name, np.zeros(len(pframe), dtype=np.int64))
                        self._fill_deferred_batch(frame, fk, m["deferred"][e_name], pframe, brng, used)
                elif fk.ref_table in done:
                    pn = len(done[fk.ref_table].frame)
                    refs = brng.integers(0, pn, len(frame)) if pn else np.full(len(frame), -1)
                    self._set_refs(frame, fk, done[fk.ref_table].frame, refs)
            for fk, e_name, refs in redraw:
                cap = m["others"][e_name]["count_max"]
                _redraw_duplicates(frame, table, fk, done[fk.ref_table].frame, cap, refs, fk_cols, brng, others[e_name].used)
            within = None if forced_root else self._cap_overlapping(frame, table, m, link, done, brng, state.caps)
            # the source's dialect parses its CHECKs; domain CHECKs type the columns they cover
            frame = repair(frame, table, brng, state.unique, dialect=self.metadata.dialect,
                           domains=self.metadata.native_objects)
            keep = _unique_mask(frame, table, fk_cols, state.seen, driving, state.unique.exempt)
            for mask in (within, _required_refs_mask(frame, table, done)):
                if mask is not None:
                    keep = mask if keep is None else keep & mask
            self._grow_forests(frame, table, forests, keep, state)
            if keep is not None and not keep.all():
                frame = frame[keep].reset_index(drop=True)
                ext = {k: v[keep] for k, v in ext.items()}
            yield frame, ext

    def _batch(self, t, m, corr, link, done, pidx, start, rng) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """Rows ``start ..`` of table ``t`` whose driving parents are ``pidx`` (-1: drawn from the table's copula)."""
        table = self.metadata.tables[t]
        names = m["columns"]
        n = len(pidx)
        linked = pidx >= 0
        z = np.zeros((n, len(names)))
        if link is not None and linked.any():
            parent = done[link["parent"]]
            passed = link["passed"]
            li = pidx[linked]
            mu = np.zeros((len(li), len(names)))
            if passed:
                # only this batch's parents: the parent table's figures are never copied whole
                mu[:, passed] = np.column_stack([parent.ext[_mean_col(link["edge"], j)][li] for j in range(len(passed))])
            z[linked] = _rematch(mu + _mvn(rng, np.asarray(link["resid_cov"]), len(li)))
        if (~linked).any():
            z[~linked] = _mvn(rng, corr, int((~linked).sum()))
        x = {nm: copula.from_normal(z[:, j], m["marginals"][j]) for j, nm in enumerate(names)}
        params = self._table_parameters[t]
        cols: dict[str, pd.Series] = {}
        for col in table.columns:
            if col.computed:
                continue
            if col.name in m["transforms"]:
                cols[col.name] = inverse_transform(
                    col, m["transforms"][col.name], x, n,
                    enforce_min_max=params["enforce_min_max_values"], enforce_rounding=params["enforce_rounding"],
                )
            elif col.name in m["generators"]:
                gen = generator_from_dict(m["generators"][col.name])
                cols[col.name] = generate(gen, n, rng, start=start)
            else:
                cols[col.name] = pd.Series([None] * n, dtype="object")
        ext = {nm: x[nm] for nm in names[m["n_own"]:]}
        frame = frame_of(cols, n)
        # primary-key columns that are not references: sequential, of the column's type, unique across batches
        fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
        for c in table.primary_key:
            # a key's date modelled as a value (fold.valued_key_columns) keeps its sampled values
            if c not in fk_cols and c not in m["generators"] and c not in m["transforms"]:
                frame[c] = pd.Series(np.arange(start + 1, start + n + 1), dtype="int64")
        return frame, ext

    def _others(self, t, m, n, done, forced_root, rng) -> dict[str, "_Capacity"]:
        """Each non-driving foreign key's capacities: how many of the table's ``n`` rows each parent takes."""
        out = {}
        if forced_root:
            return out
        for fk in self.metadata.tables[t].foreign_keys:
            e_name = _fk_name(t, fk)
            if e_name not in m["others"] or fk.ref_table not in done or (m["link"] or {}).get("edge") == e_name:
                continue
            o = m["others"][e_name]
            parent = done[fk.ref_table]
            pn = len(parent.frame)
            raw = parent.ext.get(_count_col(e_name), np.ones(pn))
            if "counts" in o:
                raw = _rank_matched_counts(raw, o["counts"], rng)
            want = int(round(n * (1.0 - o["null_share"])))
            cap = _capped_counts(raw, want, o["count_min"], o["count_max"], rng)
            out[e_name] = _Capacity(cap, o["null_share"])
        return out

    def _forests(self, t, m, graph, n, rng) -> dict[str, np.ndarray]:
        """Parent position (in generation order) of every row along each self-reference, drawn once."""
        out = {}
        for d in graph.deferred_for(t):
            e = d.edge
            if e.parent != t:
                continue
            spec = m["deferred"].get(e.name, {"null_share": 1.0})
            r = np.random.default_rng(stable_seed(self.seed, "deferred", e.name))
            if spec.get("tree") and n:
                # a forest grown level by level with the learned fan-out (rows in breadth-first order)
                refs = _sample_forest(n, spec["null_share"], spec["tree"], r)
            else:
                # no learned shape (older model files): row i points to an earlier row, so following references
                # always ends at a root
                nonnull = _nonnull_mask(n, spec["null_share"], r, first_null=True)
                refs = np.floor(r.uniform(size=n) * np.arange(n)).astype(np.int64)
                refs[~nonnull] = -1
            out[e.name] = refs
        return out

    def _grow_forests(self, frame, table, forests, keep, state) -> None:
        """Point this batch's self-references at earlier rows (this batch's included); rows dropped: NULL."""
        if not forests:
            return
        lo = state.generated
        n = len(frame)
        kept = np.ones(n, dtype=bool) if keep is None else keep
        for e_name, refs in forests.items():
            fk = next(f for f in table.foreign_keys if _fk_name(table.name, f) == e_name)
            keys = frame[fk.ref_columns].copy()
            keys[~kept] = None
            state.gen_keys.setdefault(e_name, []).append(keys)
            allkeys = pd.concat(state.gen_keys[e_name], ignore_index=True)
            state.gen_keys[e_name] = [allkeys]
            r = refs[lo : lo + n].copy()
            alive = r >= 0
            alive[alive] = allkeys.iloc[r[alive]].notna().all(axis=1).to_numpy()
            r[~alive] = -1
            self._set_refs(frame, fk, allkeys, r)
        state.generated += n

    def _fill_deferred_batch(self, frame, fk, spec, pframe, rng, used: np.ndarray | None = None) -> None:
        """A cycle's references: the learned NULL share, each parent at most its learned maximum of children
        (``used``: what earlier batches gave each parent, updated)."""
        refs = _capped_refs(len(frame), len(pframe), spec["null_share"], spec.get("count_max"), rng, used)
        self._set_refs(frame, fk, pframe, refs)

    def _deferred_updates(self, models, graph, done, batch_rows, held=None) -> Iterator[tuple[str, pd.DataFrame]]:
        """Cycle-breaking references whose parent table came after the child: one update frame per batch.
        Tables in ``held`` (a NOT NULL such reference) are sent here whole as rows, the NOT NULL keys filled."""
        held = held or {}
        order = list(done)
        whole = {t: pd.concat(fs, ignore_index=True) for t, fs in held.items() if t in done}
        # NOT NULL keys first, into the held rows; then those rows; then the updates of nullable keys
        for d in sorted(graph.deferred, key=lambda d: not d.not_null):
            if not d.not_null and whole:
                yield from _held_batches(whole, batch_rows)
                whole = {}
            e = d.edge
            if e.child == e.parent or e.child not in done or e.parent not in done:
                continue
            if order.index(e.parent) < order.index(e.child):
                continue  # filled in the child's batches
            child = self.metadata.tables[e.child]
            keys = done[e.child].frame
            spec = models[e.child]["deferred"].get(e.name, {"null_share": 1.0})
            if d.not_null:
                spec = {**spec, "null_share": 0.0}
            if d.not_null and e.child in whole:
                # the rows themselves wait for this: fill the key in them (same draws as an update would take)
                upd = whole[e.child].copy()
                pframe = done[e.parent].frame
                rng = self._rng("deferred", e.name)
                refs = _capped_refs(len(upd), len(pframe), spec["null_share"], spec.get("count_max"), rng)
                refs = _refs_close(refs, e, _refs_back_edge(graph, e), spec, upd, pframe, rng)
                self._set_refs(upd, e.fk, pframe, refs)
                for c in e.fk.columns:
                    whole[e.child][c] = upd[c].to_numpy()
                continue
            upd = keys[child.primary_key].copy()
            self._fill_deferred_batch(upd, e.fk, spec, done[e.parent].frame, self._rng("deferred", e.name))
            step = batch_rows or max(len(upd), 1)
            for lo in range(0, max(len(upd), 1), step):
                part = upd.iloc[lo : lo + step].reset_index(drop=True)
                part.attrs[UPDATE_FLAG] = True
                yield e.child, part
        yield from _held_batches(whole, batch_rows)

    def _cap_overlapping(self, frame, table, m, link, done, rng, prior: dict | None = None) -> np.ndarray | None:
        """Children per parent within the observed maximum for keys nested in a wider one (see
        :func:`dbsynth.model._refs.cap_overlapping`); ``prior`` carries earlier batches' counts."""
        caps: dict[str, int] = {}
        for fk in table.foreign_keys:
            nm = _fk_name(table.name, fk)
            if link is not None and nm == link["edge"]:
                caps[nm] = max(int(link["count_max"]), 1)
            elif nm in m["others"]:
                caps[nm] = max(int(m["others"][nm]["count_max"]), 1)
        return _refs_cap_overlapping(frame, table, caps, {t: d.frame for t, d in done.items()}, rng, prior)

    _set_refs = staticmethod(_refs_set_refs)

    # ---- persistence ----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the fitted model to ``path`` (zip of JSON + npz; no source rows).

        Raises:
            NotFittedError: before fit.
        """
        from .store import save_synthesizer

        return save_synthesizer(self, path)

    @classmethod
    def load(cls, path: str | Path) -> "HMASynthesizer":
        """Read a model written by :meth:`save`.

        Raises:
            ModelFileError: for a corrupted, foreign or newer file.
        """
        from .store import load_synthesizer

        syn = load_synthesizer(path)
        if not isinstance(syn, cls):
            syn.__class__ = cls
        return syn


class HMA1(HMASynthesizer):
    """The legacy interface of SDV's HMA1 guide.

    ``fit(tables)``; ``sample()`` every table at original size; ``sample(num_rows=5)`` sizes root tables;
    ``sample('sessions', num_rows=5)`` that table and its descendants; ``sample_children=False`` one frame.
    """

    def sample(  # type: ignore[override]
        self,
        table_name: str | None = None,
        num_rows: int | None = None,
        sample_children: bool = True,
        scale: float = 1.0,
    ):
        """Sample (see the class docstring).

        Args:
            table_name: a table to sample (with its descendants), or None for the whole database.
            num_rows: rows of ``table_name`` (or of each root table when None).
            sample_children: False returns only ``table_name``'s frame.
            scale: size relative to the source when ``num_rows`` is None.

        Returns:
            A dict of frames, or one frame with ``sample_children=False``.

        Raises:
            NotFittedError: before fit.
        """
        models = self._require_fitted()
        if table_name is None:
            return self._sample(models, scale, num_rows)
        self.metadata.table(table_name)
        graph = self.metadata.graph()
        n = num_rows if num_rows is not None else round(models[table_name]["n_rows"] * scale)
        only = [table_name] + (graph.descendants(table_name) if sample_children else [])
        # references to tables outside the sample get keys of their parents' generated key range
        out = self._sample(models, scale, {table_name: int(n)}, only=only, forced_roots=(table_name,))
        self._fill_outside_refs(models, out, only)
        return out if sample_children else out[table_name]

    def _fill_outside_refs(self, models, out, only) -> None:
        for t in only:
            table = self.metadata.tables[t]
            frame = out[t]
            rng = self._rng("outside", t)
            for fk in table.foreign_keys:
                if fk.ref_table in only:
                    continue
                pn = max(models[fk.ref_table]["n_rows"], 1)
                for c in fk.columns:
                    frame[c] = pd.Series(rng.integers(1, pn + 1, len(frame)), dtype="int64")


def _held_batches(whole: dict[str, pd.DataFrame], batch_rows: int | None) -> Iterator[tuple[str, pd.DataFrame]]:
    """The rows of tables held back for a NOT NULL cycle-breaking key, now filled, as insert batches."""
    for t, frame in whole.items():
        step = batch_rows or max(len(frame), 1)
        for lo in range(0, max(len(frame), 1), step):
            yield t, frame.iloc[lo : lo + step].reset_index(drop=True)
