"""Segment-based multi-table synthesis: the fit of :class:`~dbsynth.model.hsa.HSAFit` and
:class:`~dbsynth.model.independent.IndependentFit` (behind the public HSASynthesizer and
IndependentSynthesizer of ``dbsynth/synthesizers.py``) and their sampling strategy.

Fit: each table's rows are split into *segments* by k-means in the table's latent normal-score space (its
modelled columns through the reversible transforms, ranked into normal scores, plus the normal score of each
row's number of children along every child key, so segments separate parents whose children differ). Each
segment is modelled by a pluggable single-table synthesizer (:mod:`dbsynth.model.tables`; a Gaussian copula by
default). Per foreign key the parent -> child relation is learned as the distribution of children per parent
given the parent's segment and, along the key that drives generation, the distribution of the child's segment
given the parent's segment. All of it is counted with ``np.bincount`` / ``np.add.at`` over whole columns:
no per-parent loop and no extension columns, so the cost grows linearly with tables and rows.

Sample, parents first: a root's segments are drawn in proportion to their learned weights; a child's rows are
its parents' rows repeated by counts drawn from each parent segment's count distribution, and each child row's
segment is drawn from its parent segment's row of the segment matrix; then every segment's synthesizer draws
its rows at once (:class:`SegmentStrategy`); keys, references, nested keys, bridge tables, cycles and
self-references are the sampling engine's (``sample/engine.py``), batch by batch as for HMA.

With one segment per table this is the Independent synthesizer: each table alone plus the children-per-parent
distribution.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy.cluster import vq

from ..errors import BadInputError
from ..metadata import Metadata, Table
from .base import FittedModel
from .copula import sorted_quantiles
from .draws import categorical_draw, draw_counts, round_to_total
from .fold import as_value, count_histogram, driving_edge, valued_key_columns
from .generators import make_generator
from .links import check_data, deferred_spec, positions
from .records import CountHistogram, SegmentLink, SegmentOtherLink, SegmentTableModel
from .strategy import Drawn, FittedStrategy, RowState
from .tables import TableSynthesizer, table_synthesizer_class
from .transforms import checked_columns

#: Name of the per-row state a segment-based table leaves its children: each row's segment.
SEGMENT = "segment"
#: k-means learns its centroids on at most this many rows per segment asked for (and the scores their medians
#: and spreads), then assigns every row to the nearest centroid: a few hundred points place a centre well, and
#: the split is a fixed cost of every table, small ones included.
KMEANS_ROWS_PER_SEGMENT = 200
DEFAULT_TABLE_SYNTHESIZER = "GaussianCopulaSynthesizer"
#: A table gets at most one segment per this many rows.
MIN_SEGMENT_ROWS = 100


def kmeans(
    x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 6, restarts: int = 1, standardise: bool = True
) -> np.ndarray:
    """Segment labels of the rows of ``x`` by k-means (:func:`scipy.cluster.vq.kmeans2`, k-means++ seeding).

    Columns are centred (and standardised unless ``standardise`` is False: the caller scaled them; constant
    ones are dropped). Centroids are learned on a sample of at most ``k`` x :data:`KMEANS_ROWS_PER_SEGMENT`
    rows; every row then goes to its nearest centroid. Labels are renumbered by segment size, largest first,
    and empty segments disappear, so labels are ``0 .. k' - 1`` with ``k' <= k``.

    Args:
        x: rows x features.
        k: the number of segments asked for.
        rng: randomness of the seeding and of the sample.
        iters: Lloyd iterations.
        restarts: seedings tried; the one with the smallest within-segment sum of squares is kept.
        standardise: divide each column by its standard deviation.

    Returns:
        One label per row (int64).
    """
    n = len(x)
    if k <= 1 or n < 2 * k or x.shape[1] == 0:
        return np.zeros(n, dtype=np.int64)
    # with replacement: drawing without would permute all n rows, and a repeated row does not move a centre
    size = k * KMEANS_ROWS_PER_SEGMENT
    train = x if n <= size else x[rng.integers(0, n, size)]
    sd = train.std(axis=0)
    keep = sd > 1e-12
    if not keep.any():
        return np.zeros(n, dtype=np.int64)
    mu = train[:, keep].mean(axis=0)
    sd = sd[keep] if standardise else np.ones(int(keep.sum()))
    train = (train[:, keep] - mu) / sd
    # k-means++ needs k distinct points (it divides by the distance left to the nearest centre)
    k = min(k, len(np.unique(train, axis=0)))
    if k <= 1:
        return np.zeros(n, dtype=np.int64)
    best, best_inertia = None, np.inf
    for _ in range(restarts):  # seedings tried, the tightest kept
        with warnings.catch_warnings():  # a centre left without points stays put: its segment is simply empty
            warnings.simplefilter("ignore", UserWarning)
            centres, lab = vq.kmeans2(train, k, iter=iters, minit="++", missing="warn", seed=rng)
        centres = centres[np.isfinite(centres).all(axis=1)]  # never a centre no row can be nearest to
        lab = vq.vq(train, centres)[0] if len(centres) < k else lab
        inertia = float(((train - centres[lab]) ** 2).sum()) if restarts > 1 else 0.0
        if best is None or inertia < best_inertia:
            best, best_inertia = centres, inertia
    assert best is not None
    # every row to its nearest centre without a standardised copy of the whole table: in original units the
    # distance to centre m is sum(((x - m) / sd)^2), whose argmin only needs x @ (m / sd^2) and a bias
    m = mu + best * sd
    weights = np.zeros((len(best), x.shape[1]))
    weights[:, keep] = m / sd**2
    bias = (m**2 / sd**2).sum(axis=1)
    labels = np.empty(n, dtype=np.int64)
    for lo in range(0, n, 1 << 18):  # in slices: the n x k distance matrix stays small
        labels[lo: lo + (1 << 18)] = (bias - 2 * x[lo: lo + (1 << 18)] @ weights.T).argmin(axis=1)
    sizes = np.bincount(labels, minlength=len(best))
    order = np.argsort(-sizes, kind="stable")
    remap = np.full(len(best), -1, dtype=np.int64)
    remap[order] = np.arange(len(best))
    return remap[labels]


def _scores(x: np.ndarray, k: int, rng: np.random.Generator, clip: float = 4.0) -> np.ndarray:
    """Normal scores of latent columns (rows x columns) under a normal marginal fitted per column by its median
    and spread, clipped.

    Unlike rank-based scores (which turn any shape into a bell), these keep a column's modes apart, which is
    what segments should find (a bimodal amount is two segments, not a median split); the median, the
    interquartile range and the clip keep a few outliers from becoming a segment of their own. Medians and
    spreads come from the ``k`` x :data:`KMEANS_ROWS_PER_SEGMENT` rows k-means learns from.
    """
    size = k * KMEANS_ROWS_PER_SEGMENT
    ref = x if len(x) <= size else x[rng.integers(0, len(x), size)]  # quantiles of a sample
    q1, med, q3 = sorted_quantiles(np.sort(ref, axis=0), np.array([0.25, 0.5, 0.75]))
    spread = (q3 - q1) / 1.349
    if (q3 <= q1).any():
        spread = np.where(q3 > q1, spread, ref.std(axis=0))
    flat = spread <= 1e-12
    out = np.clip((x - med) / np.where(flat, 1.0, spread), -clip, clip)
    out[:, flat] = 0.0
    return out


def _count_hist(counts: np.ndarray, seg: np.ndarray, k: int) -> list[CountHistogram]:
    """Per segment, the distribution of ``counts`` (values and weights); segments without rows get the
    distribution over all rows."""
    out = []
    for s in range(k):  # a loop over segments, never over parents
        c = counts[seg == s]
        if len(c) == 0:
            c = counts
        out.append(count_histogram(c))
    return out


class SegmentStrategy(FittedStrategy[SegmentTableModel]):
    """The segment-based :class:`~dbsynth.model.strategy.TableStrategy`: a root's segments in proportion to
    their learned weights, a child's segment from its parent segment's row of the segment matrix (orphans from
    the orphans' mix), each segment's rows drawn by its table synthesizer; children per parent from the parent
    segment's count distribution (stratified). The per-row state left for children is the segment.

    Args:
        models: the fitted per-table models.
        segment: the fitted table synthesizer of one segment of a table (``(table, s) -> synthesizer``).
    """

    def __init__(self, models: Mapping[str, SegmentTableModel],
                 segment: Callable[[str, int], TableSynthesizer]) -> None:
        super().__init__(models)
        self.segment = segment

    def modelled_columns(self, table: str) -> set[str]:
        """The columns the segments' synthesizers model."""
        return set(self.models[table].modelled)

    def child_counts(self, table: str, edge: str, parent: RowState, n_parent: int,
                     rng: np.random.Generator) -> np.ndarray:
        """Children per parent row drawn from its segment's count distribution (stratified per segment)."""
        spec = self.edge_spec(table, edge)
        assert isinstance(spec, (SegmentLink, SegmentOtherLink))
        seg = parent.get(SEGMENT)
        return draw_counts(spec.counts, seg if seg is not None else np.zeros(n_parent, np.int64), rng)

    def draw(self, table: str, parent: RowState | None, pidx: np.ndarray, rng: np.random.Generator) -> Drawn:
        """The segment of every row, then each segment's rows drawn at once (put back in the rows' order)."""
        m = self.models[table]
        weights = np.asarray(m.segment_weights, dtype=float)
        k = len(weights)
        n = len(pidx)
        link = m.link if parent is not None else None
        if link is None:
            seg = rng.permutation(np.repeat(np.arange(k), round_to_total(weights, n, rng)))
        else:
            seg = np.zeros(n, dtype=np.int64)
            linked = pidx >= 0
            pseg = parent.get(SEGMENT) if parent is not None else None
            if linked.any() and pseg is not None:
                seg[linked] = categorical_draw(np.asarray(link.child_segments, dtype=float),
                                               pseg[pidx[linked]].astype(np.int64), rng)
            if (~linked).any():
                seg[~linked] = categorical_draw(np.asarray(link.orphan_segments, dtype=float)[None, :],
                                                np.zeros(int((~linked).sum()), dtype=np.int64), rng)
        seg = seg.astype(np.int64)
        if not m.modelled:
            return Drawn({}, {SEGMENT: seg})
        # each segment's rows drawn at once and stacked, then put back in the rows' order (the driving
        # parents travel with the rows)
        order = np.argsort(seg, kind="stable")
        synths = [self.segment(table, s) for s in range(k)]
        stacked = type(synths[0]).sample_segment_columns(synths, np.bincount(seg, minlength=k), rng)
        back = np.empty(n, dtype=np.int64)
        back[order] = np.arange(n)
        cols = {name: col.iloc[back].reset_index(drop=True) for name, col in stacked.items()}
        return Drawn(cols, {SEGMENT: seg})


class SegmentedFit(FittedModel):
    """The segment-based fit: segments per table, each modelled by a table synthesizer.

    Use :class:`~dbsynth.model.hsa.HSAFit` or :class:`~dbsynth.model.independent.IndependentFit` (through the
    public synthesizers of ``dbsynth/synthesizers.py``).

    Args:
        metadata: the tables (validated on fit).
        default_num_clusters: segments per table (fewer when a table has too few rows).
        **settings: ``locales``, ``verbose``, ``seed``, ``min_category_count`` (see
            :class:`~dbsynth.model.base.FittedModel`).
    """

    fits_from_sources: ClassVar[bool] = False  # k-means and the link counts want every row of a table at once

    def __init__(self, metadata: Metadata, default_num_clusters: int = 3, **settings: Any) -> None:
        if int(default_num_clusters) < 1:
            raise BadInputError("default_num_clusters must be >= 1")
        super().__init__(metadata, **settings)
        self.default_num_clusters = int(default_num_clusters)
        self._cache: dict[tuple[str, int], TableSynthesizer] = {}

    # ---- settings -----------------------------------------------------------------------------------
    def default_table_parameters(self) -> dict[str, Any]:
        """The default table synthesizer, with its default settings."""
        return {"table_synthesizer": DEFAULT_TABLE_SYNTHESIZER, "table_parameters": {}}

    def set_table_parameters(
        self,
        table_name: str,
        table_synthesizer: str | dict[str, Any] = DEFAULT_TABLE_SYNTHESIZER,
        table_parameters: dict[str, Any] | None = None,
    ) -> None:
        """Choose the single-table synthesizer of one table and its settings (before fit).

        Args:
            table_name: the table.
            table_synthesizer: a registered table synthesizer (see :mod:`dbsynth.model.tables`). A dict here is
                taken as ``table_parameters`` of the default synthesizer (the call shape of HMASynthesizer).
            table_parameters: settings of that synthesizer (for the Gaussian copula: ``default_distribution``,
                ``numerical_distributions`` ({column: family}), ``enforce_min_max_values``,
                ``enforce_rounding``, ``min_category_count``).

        Raises:
            BadInputError: for an unknown table, synthesizer, setting, distribution or column.
        """
        table = self.metadata.table(table_name)
        if isinstance(table_synthesizer, dict):  # the call shape of HMASynthesizer: (table_name, table_parameters)
            name, table_parameters = DEFAULT_TABLE_SYNTHESIZER, table_synthesizer
        else:
            name = table_synthesizer
        cls = table_synthesizer_class(name, table=table_name)
        params = dict(table_parameters or {})
        cls.validate_parameters(params, table=table_name)
        for col in params.get("numerical_distributions") or {}:
            table.column(col)
        self._table_parameters[table_name] = {"table_synthesizer": cls.name, "table_parameters": copy.deepcopy(params)}

    def get_table_parameters(self, table_name: str) -> dict[str, Any]:
        """The table synthesizer of one table and its settings (a copy, defaults filled in).

        Returns:
            ``{"table_synthesizer": name, "table_parameters": {...}}``.

        Raises:
            MetadataError: for an unknown table.
        """
        self.metadata.table(table_name)
        tp = self._table_parameters[table_name]
        cls = table_synthesizer_class(tp["table_synthesizer"], table=table_name)
        return {"table_synthesizer": cls.name, "table_parameters": self._effective(cls, tp["table_parameters"])}

    def _effective(self, cls: type[TableSynthesizer], params: dict[str, Any]) -> dict[str, Any]:
        base = {"min_category_count": self.min_category_count} if "min_category_count" in cls.DEFAULTS else {}
        return cls.validate_parameters({**base, **params})

    def _settings(self) -> dict[str, Any]:
        return {**super()._settings(), "default_num_clusters": self.default_num_clusters}

    def get_learned_distributions(self, table_name: str) -> dict[str, dict]:
        """The marginal learned for each latent column of ``table_name``.

        With one segment, the segment's marginal; with several, ``{"family": "mixture", "weights": [...],
        "components": [...]}`` (one component per segment, None where a segment has no such column).

        Raises:
            NotFittedError: before fit.
            MetadataError: for an unknown table.
        """
        models = self.fitted_models()
        self.metadata.table(table_name)
        m = models[table_name]
        assert isinstance(m, SegmentTableModel)
        per_seg = [self._segment(table_name, s).learned_distributions() for s in range(len(m.segment_models))]
        if len(per_seg) == 1:
            return per_seg[0]
        names = list(dict.fromkeys(nm for d in per_seg for nm in d))
        weights = np.asarray(m.segment_weights, dtype=float).tolist()
        return {nm: {"family": "mixture", "weights": weights, "components": [d.get(nm) for d in per_seg]}
                for nm in names}

    def get_loss_values(self, table_name: str | None = None) -> pd.DataFrame:
        """Training losses of neural table synthesizers.

        Raises:
            NotFittedError: before fit.
            BadInputError: always so far: every table synthesizer shipped (the Gaussian copula) is fitted in
                closed form and has no loss values.
        """
        models = self.fitted_models()
        tables = [table_name] if table_name is not None else list(models)
        for t in tables:
            self.metadata.table(t)
            m = models[t]
            assert isinstance(m, SegmentTableModel)
            for s in range(len(m.segment_models)):
                self._segment(t, s).loss_values()
        raise BadInputError("no table has loss values", hint="get_loss_values() is for neural table synthesizers.")

    def _num_clusters(self, n_rows: int) -> int:
        # a copula per segment needs rows to estimate its marginals and correlations: small tables get fewer
        # segments (a 25-row lookup table one), which also spares them the fixed cost of extra models
        return max(1, min(self.default_num_clusters, n_rows // MIN_SEGMENT_ROWS))

    def _modelled_columns(self, table: Table, n: int) -> list:
        ref_cols = {c for fk in table.foreign_keys for c in fk.columns}
        # a composite key's dates are learned as values, as HMA does (fold.valued_key_columns: numbered from an
        # epoch they would fall outside a range-partitioned table's partitions)
        valued = valued_key_columns(table)
        key_cols = (set(table.primary_key) - valued) | ref_cols
        cols = [as_value(c) if c.name in valued else c for c in table.columns]
        return [c for c in cols if not c.computed and c.name not in key_cols and c.is_modelled and n > 0]

    def _segment(self, table: str, s: int) -> TableSynthesizer:
        """The fitted synthesizer of segment ``s`` of ``table`` (rebuilt from the model dict once)."""
        key = (table, s)
        if key not in self._cache:
            m = self.fitted_models()[table]
            assert isinstance(m, SegmentTableModel)
            by_name = {c.name: c for c in self._modelled_columns(self.metadata.tables[table], 1)}
            cols = [by_name[c] for c in m.modelled]
            self._cache[key] = TableSynthesizer.from_dict(m.segment_models[s], cols)
        return self._cache[key]

    # ---- fit ----------------------------------------------------------------------------------------
    def fit(self, data: dict[str, pd.DataFrame]) -> Self:
        """Learn every table of the metadata from ``data``, and the rules of the data (see
        :meth:`~dbsynth.model.base.FittedModel.rules`) from its frames, whole.

        Args:
            data: one frame per metadata table (frame contract).

        Returns:
            ``self``.

        Raises:
            SchemaMismatchError: when a table or column of the metadata is missing from ``data``.
            BadInputError: for invalid table parameters.
        """
        md = self.metadata
        md.validate()
        check_data(md, data)
        graph = md.graph()
        frames = {t: data[t].reset_index(drop=True) for t in md.tables}
        # where each child row points, per foreign key: computed once, used by both ends of the edge
        pos = {e.name: positions(frames[e.parent], e.fk.ref_columns, frames[e.child], e.fk.columns)
               for e in graph.edges}
        depths = graph.depths()
        labels: dict[str, np.ndarray] = {}
        models: dict[str, SegmentTableModel] = {}
        self._cache = {}
        for t in graph.parent_first():
            with self.progress_task("fit", t, len(frames[t])) as task:
                models[t], labels[t] = self._fit_table(t, frames, graph, pos)
                task.advance(len(frames[t]))
        for t in graph.parent_first():
            self._fit_links(t, models, frames, graph, depths, pos, labels)
        self._models = dict(models)
        self._fit_rules(frames, None)
        return self

    def _fit_table(self, t, frames, graph, pos) -> tuple[SegmentTableModel, np.ndarray]:
        table = self.metadata.tables[t]
        df = frames[t]
        n = len(df)
        rng = self.rng("fit", t)
        tp = self._table_parameters[t]
        cls = table_synthesizer_class(tp["table_synthesizer"], table=t)
        params = self._effective(cls, tp["table_parameters"])
        if "keep_labels" in cls.DEFAULTS:  # labels a CHECK names are the schema's (see transforms.checked_columns)
            params = {**params, "keep_labels": sorted(checked_columns(table))}
        modelled = self._modelled_columns(table, n)
        ref_cols = {c for fk in table.foreign_keys for c in fk.columns}
        generators = {}
        for col in table.columns:
            if col.computed or col.name in ref_cols or col.name in {c.name for c in modelled}:
                continue
            gen = make_generator(col, table, self.locales)  # keys (unique, of the column's type), PII, text
            gen.fit(df[col.name] if col.name in df else pd.Series([], dtype="object"))
            generators[col.name] = gen.to_dict()
        synths, labels = cls.fit_segments(
            modelled, params, df, lambda latent: self._segments(table, latent, n, graph, pos, rng), rng,
        )
        k = len(synths)
        seg_models = [synth.to_dict() for synth in synths]
        weights = np.bincount(labels, minlength=k) / max(n, 1) if n else np.ones(1)
        model = SegmentTableModel(
            n_rows=n,
            modelled=[c.name for c in modelled],
            generators=generators,
            segment_weights=weights,
            segment_models=seg_models,
            deferred=deferred_spec(graph, table, df, frames),
        )
        return model, labels

    def _segments(self, table: Table, latent: list[np.ndarray], n: int, graph, pos, rng) -> np.ndarray:
        """Segment label of each of the ``n`` rows: k-means over the normal scores of the table's ``latent``
        columns and of the number of children along each child key."""
        k = self._num_clusters(n)
        if k <= 1 or n < 2 * k:
            return np.zeros(n, dtype=np.int64)
        kids = [np.bincount(p[p >= 0], minlength=n) for p in (pos[e.name] for e in graph.children(table.name))]
        if not latent and not kids:
            return np.zeros(n, dtype=np.int64)
        x = _scores(np.column_stack([*latent, *kids]).astype(float), k, rng)
        if kids and len(latent) > len(kids):
            # the children's counts together weigh as much as the table's own columns: segments exist to carry
            # the parent -> child relation, and one count among thirty columns would otherwise hardly count
            x[:, len(latent):] *= np.sqrt(len(latent) / len(kids))
        return kmeans(x, k, rng, standardise=False)

    def _fit_links(self, t, models: dict[str, SegmentTableModel], frames, graph, depths, pos, labels) -> None:
        table = self.metadata.tables[t]
        n = len(frames[t])
        model = models[t]
        k_child = len(model.segment_models)
        driving = driving_edge(table, graph, depths)
        for e in graph.parents(t):
            p = pos[e.name]
            ok = p >= 0
            n_parent = len(frames[e.parent])
            pseg = labels[e.parent]
            k_parent = len(models[e.parent].segment_models)
            counts = np.bincount(p[ok], minlength=n_parent)
            common = dict(
                parent=e.parent,
                count_min=int(counts.min()) if n_parent else 0,
                count_max=int(counts.max()) if n_parent else 0,
                counts=_count_hist(counts, pseg, k_parent),
            )
            if driving is not None and e.name == driving.name:
                cseg = labels[t]
                mat = np.zeros((k_parent, k_child))
                np.add.at(mat, (pseg[p[ok]], cseg[ok]), 1.0)
                overall = np.bincount(cseg, minlength=k_child).astype(float) if n else np.ones(k_child)
                overall /= max(overall.sum(), 1.0)
                rows = mat.sum(axis=1, keepdims=True)
                # a parent segment that never had children still needs a row: the child's overall mix
                mat = np.where(rows > 0, mat / np.maximum(rows, 1.0), overall)
                orph = np.bincount(cseg[~ok], minlength=k_child).astype(float)
                model.link = SegmentLink(
                    **common,
                    edge=e.name,
                    n_linked=int(ok.sum()),
                    orphans=int((~ok).sum()),
                    child_segments=mat,
                    orphan_segments=orph / orph.sum() if orph.sum() else overall,
                )
            else:
                model.others[e.name] = SegmentOtherLink(**common, null_share=float((~ok).mean()) if n else 0.0)

    # ---- sampling inputs --------------------------------------------------------------------------------
    def strategy(self) -> SegmentStrategy:
        """See :class:`SegmentStrategy`.

        Raises:
            NotFittedError: before fit.
        """
        return SegmentStrategy(self._segment_models(), self._segment)

    def _segment_models(self) -> dict[str, SegmentTableModel]:
        """The fitted models, as the segment records they are (a fit of this family makes no other)."""
        models = self.fitted_models()
        assert all(isinstance(m, SegmentTableModel) for m in models.values())
        return models  # type: ignore[return-value]  # narrowed by the assert; dict is invariant

    def unlinked_tables(self, num_rows: Mapping[str, int]) -> set[str]:
        """A table sized by ``num_rows`` is drawn at that size, its driving key pointing at any parent."""
        return set(num_rows)
