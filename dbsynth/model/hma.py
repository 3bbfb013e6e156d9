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

import copy
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy import special

from ..errors import BadInputError, SchemaMismatchError
from ..metadata import Metadata
from . import copula, univariate
from .base import FittedModel
from .draws import rank_matched_counts
from .fold import FitSettings, Fold, count_col, mean_col
from .records import HMALink, HMAOtherLink, HMATableModel
from .source import DEFAULT_SAMPLE_ROWS, FrameSource, TableSource
from .strategy import Drawn, FittedStrategy, RowState
from .transforms import inverse_transform

__all__ = ["HMAFit", "HMAStrategy"]

DEFAULT_TABLE_PARAMETERS: dict[str, Any] = {
    "default_distribution": "empirical",
    "numerical_distributions": {},
    "enforce_min_max_values": True,
    "enforce_rounding": True,
}

#: Fewest children in a batch for their scores to be re-matched to the standard normal (see ``_rematch``).
REMATCH_MIN_ROWS = 200


def _mvn(rng: np.random.Generator, cov: np.ndarray, n: int) -> np.ndarray:
    k = cov.shape[0]
    if k == 0:
        return np.zeros((n, 0))
    return rng.standard_normal((n, k)) @ copula.sqrt_psd(cov).T


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


class HMAStrategy(FittedStrategy[HMATableModel]):
    """HMA's :class:`~dbsynth.model.strategy.TableStrategy`: a child's normal scores are its driving parent's
    sampled means plus pooled residual noise (re-matched to the normal), orphans and roots draw from the
    table's copula; children per parent follow the parent's sampled count column, rank-matched to the learned
    distribution. The per-row state left for children is the table's extension columns.

    Args:
        metadata: the tables.
        models: the fitted per-table models.
        table_parameters: per table, the settings of :meth:`HMAFit.set_table_parameters`.
    """

    def __init__(self, metadata: Metadata, models: Mapping[str, HMATableModel],
                 table_parameters: Mapping[str, Mapping[str, Any]]) -> None:
        super().__init__(models)
        self.metadata = metadata
        self.table_parameters = table_parameters

    def modelled_columns(self, table: str) -> set[str]:
        """The copula's own columns (the table's transformed columns)."""
        return set(self.models[table].transforms)

    def child_counts(self, table: str, edge: str, parent: RowState, n_parent: int,
                     rng: np.random.Generator) -> np.ndarray:
        """The parent's sampled count column along ``edge``, rank-matched to the learned distribution (model
        files without one: as drawn; a parent without the column: one each)."""
        spec = self.edge_spec(table, edge)
        assert isinstance(spec, (HMALink, HMAOtherLink))
        raw = parent.get(count_col(edge))
        if raw is None:
            raw = np.ones(n_parent)
        if spec.counts is not None:  # the copula's order, the learned distribution
            raw = rank_matched_counts(raw, spec.counts, rng)
        return raw

    def draw(self, table: str, parent: RowState | None, pidx: np.ndarray, rng: np.random.Generator) -> Drawn:
        """Rows of ``table`` whose driving parents are ``pidx`` (-1: drawn from the table's copula)."""
        m = self.models[table]
        names = m.columns
        n = len(pidx)
        link = m.link if parent is not None else None
        linked = pidx >= 0
        z = np.zeros((n, len(names)))
        if link is not None and parent is not None and linked.any():
            passed = link.passed
            li = pidx[linked]
            mu = np.zeros((len(li), len(names)))
            if passed:
                # only this batch's parents: the parent table's figures are never copied whole
                mu[:, passed] = np.column_stack([parent[mean_col(link.edge, j)][li] for j in range(len(passed))])
            z[linked] = _rematch(mu + _mvn(rng, np.asarray(link.resid_cov), len(li)))
        if (~linked).any():
            z[~linked] = _mvn(rng, np.asarray(m.corr), int((~linked).sum()))
        x = {nm: copula.from_normal(z[:, j], m.marginals[j]) for j, nm in enumerate(names)}
        params = self.table_parameters[table]
        cols: dict[str, pd.Series] = {}
        for col in self.metadata.tables[table].columns:
            if not col.computed and col.name in m.transforms:
                cols[col.name] = inverse_transform(
                    col, m.transforms[col.name], x, n,
                    enforce_min_max=params["enforce_min_max_values"], enforce_rounding=params["enforce_rounding"],
                )
        return Drawn(cols, {nm: x[nm] for nm in names[m.n_own:]})


class HMAFit(FittedModel):
    """The HMA's fit: a Gaussian copula per table, children folded into parents (the public
    :class:`~dbsynth.synthesizers.HMASynthesizer` is this fit plus the sampling engine).

    Args:
        metadata: the tables (validated on fit).
        locales: Faker locales for PII columns.
        verbose: report progress through :mod:`dbsynth.progress`.
        seed: seed of every random draw (None: fresh entropy, fixed at construction).
        min_category_count: categorical labels seen fewer times are never stored (generated labels take their place).
    """

    fits_from_sources: ClassVar[bool] = True  # Fold streams every child table; only samples stay in memory

    # ---- settings -----------------------------------------------------------------------------------
    def default_table_parameters(self) -> dict[str, Any]:
        """See :data:`DEFAULT_TABLE_PARAMETERS`."""
        return copy.deepcopy(DEFAULT_TABLE_PARAMETERS)

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
        return self.table_settings(table_name)

    def get_learned_distributions(self, table_name: str) -> dict[str, dict]:
        """The marginal learned for each latent column of ``table_name`` (family and parameters).

        Raises:
            NotFittedError: before fit.
        """
        models = self.fitted_models()
        self.metadata.table(table_name)
        m = models[table_name]
        assert isinstance(m, HMATableModel)
        out = {}
        for name, marg in zip(m.columns, m.marginals):
            out[name] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in marg.items()}
        return out

    # ---- fit ----------------------------------------------------------------------------------------
    def fit(
        self, data: Mapping[str, pd.DataFrame | TableSource], *, sample_rows: int = DEFAULT_SAMPLE_ROWS
    ) -> Self:
        """Learn every table of the metadata from ``data``.

        Marginals and each table's copula are learned from a uniform sample of at most ``sample_rows`` rows;
        children are folded into their parents exactly, from streamed passes over every row (counts and sums
        of normal scores per parent key), so memory grows with the sample and the number of parents, never
        with the number of child rows. Tables no larger than the sample are used whole, with no extra pass.

        The rules of the data (see :meth:`rules`) are discovered on the frames given, and on the samples of
        the streamed tables (the rows the fit holds anyway; the kinds that need a whole table only where the
        sample is the whole table).

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
            d = data.get(t)
            if isinstance(d, pd.DataFrame):
                problems += [
                    f"column '{t}.{c.name}' missing" for c in table.columns if not c.computed and c.name not in d
                ]
        if problems:
            raise SchemaMismatchError("data does not match the metadata: " + "; ".join(problems))
        sources: dict[str, TableSource] = {
            t: FrameSource(d) if isinstance(d, pd.DataFrame) else d for t, d in data.items() if t in md.tables
        }
        settings = FitSettings(md, self.seed, self.locales, self.min_category_count, self._table_parameters,
                               self.progress_task)
        fold = Fold(settings, sources, sample_rows)
        samples, whole = fold.sampled()
        # frames in memory are read whole; streamed tables through the samples the fit draws anyway
        given = {t: s.frame for t, s in sources.items() if isinstance(s, FrameSource)}
        self._fit_rules({**samples, **given}, whole | frozenset(given))
        del samples, given
        self._models = dict(fold.run())
        return self

    # ---- sampling inputs --------------------------------------------------------------------------------
    def strategy(self) -> HMAStrategy:
        """See :class:`HMAStrategy`.

        Raises:
            NotFittedError: before fit.
        """
        models = self.fitted_models()
        assert all(isinstance(m, HMATableModel) for m in models.values())  # a fit of this family makes no other
        return HMAStrategy(self.metadata, models, self._table_parameters)  # type: ignore[arg-type]  # asserted above
