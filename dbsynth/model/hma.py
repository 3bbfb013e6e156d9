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
Other foreign keys are filled by capacity-aware matching (each parent's sampled count is its capacity); when a
key is nested in a wider one (lineitem's part inside (part, supplier) -> partsupp), rows over the narrow key's
observed maximum move to wide-parent rows with room under every cap. Deferred references (cycles) are filled
after every table exists; a self-reference is grown as a forest, level by level, from the learned share of
roots and fan-out per depth, so it is acyclic and no deeper than the source.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .. import progress
from ..errors import BadInputError, NotFittedError, SchemaMismatchError
from ..metadata import Metadata, Table
from ..metadata.graph import Edge
from . import copula, univariate
from .fold import Fold, KeyIndex, count_col, mean_col, stable_seed
from .generators import generator_from_dict, repair
from .source import DEFAULT_SAMPLE_ROWS, FrameSource, TableSource
from .transforms import inverse_transform

DEFAULT_TABLE_PARAMETERS: dict[str, Any] = {
    "default_distribution": "empirical",
    "numerical_distributions": {},
    "enforce_min_max_values": True,
    "enforce_rounding": True,
}

# short names for the fold's helpers, used throughout the sampler
_count_col, _mean_col = count_col, mean_col


def _key_tuples(df: pd.DataFrame, cols: list[str]) -> pd.Index:
    if len(cols) == 1:
        return pd.Index(df[cols[0]].astype("object").to_numpy())
    return pd.MultiIndex.from_arrays([df[c].astype("object").to_numpy() for c in cols])


def _positions(parent_df: pd.DataFrame, ref_cols: list[str], child_df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Row position in the parent of each child row's reference (-1 for NULL or dangling)."""
    return KeyIndex(parent_df, ref_cols).lookup(child_df, cols)


def _mvn(rng: np.random.Generator, cov: np.ndarray, n: int) -> np.ndarray:
    k = cov.shape[0]
    if k == 0:
        return np.zeros((n, 0))
    return rng.standard_normal((n, k)) @ copula.sqrt_psd(cov).T


def _round_to_total(raw: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Non-negative integers proportional to ``raw`` that sum to ``total`` (largest remainder, random ties)."""
    raw = np.clip(np.nan_to_num(raw), 0.0, None)
    if total <= 0 or len(raw) == 0:
        return np.zeros(len(raw), dtype=np.int64)
    s = raw.sum()
    w = raw / s * total if s > 0 else np.full(len(raw), total / len(raw))
    base = np.floor(w).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        frac = w - base + rng.uniform(0, 1e-9, len(w))
        base[np.argsort(-frac, kind="stable")[:short]] += 1
    return base


def _capped_counts(raw: np.ndarray, total: int, cmin: int, cmax: int, rng: np.random.Generator) -> np.ndarray:
    """Children per parent: proportional to ``raw``, within [cmin, cmax], summing to ``total`` when it fits.

    Parents over the cap hand their excess to parents with room, in proportion to the room (water filling),
    so the table size follows ``scale`` without breaking the observed range.
    """
    n = len(raw)
    cmax = max(cmax, 1)
    total = int(min(max(total, cmin * n), cmax * n))
    counts = np.clip(_round_to_total(raw, total, rng), cmin, cmax)
    for _ in range(50):
        diff = total - int(counts.sum())
        if diff == 0:
            break
        room = (cmax - counts) if diff > 0 else (counts - cmin)
        if room.sum() <= 0:
            break
        step = _round_to_total(room.astype(float), min(abs(diff), int(room.sum())), rng)
        counts = np.clip(counts + np.sign(diff) * np.minimum(step, room), cmin, cmax)
    return counts


def _nonnull_mask(n: int, null_share: float, rng: np.random.Generator, first_null: bool = False) -> np.ndarray:
    """Rows that get a reference: exactly round(null_share * n) NULLs, placed at random (row 0 first if asked)."""
    k = int(round(null_share * n))
    if first_null and n:
        k = max(k, 1)
    mask = np.ones(n, dtype=bool)
    if k <= 0:
        return mask
    if first_null:
        mask[0] = False
        mask[1 + rng.permutation(n - 1)[: k - 1]] = False
    else:
        mask[rng.permutation(n)[:k]] = False
    return mask


def _sample_forest(n: int, root_share: float, tree: dict, rng: np.random.Generator) -> np.ndarray:
    """Parent position of each of ``n`` rows (-1: root) forming a forest with the learned shape.

    Roots come first (``root_share`` of the rows, at least one), then each level's nodes draw their number of
    children from that level's learned fan-out, so every reference points to an earlier row (no cycle) and the
    depth never exceeds the learned one. Rows left when the levels run out join nodes above the deepest level,
    first where the learned maximum fan-out leaves room.
    """
    refs = np.full(n, -1, dtype=np.int64)
    depth = np.zeros(n, dtype=np.int64)
    n_roots = min(max(int(round(root_share * n)), 1), n)
    level = np.arange(n_roots)
    nxt = n_roots
    for d, fo in enumerate(tree["fanout"]):
        if nxt >= n or len(level) == 0:
            break
        draws = rng.choice(np.asarray(fo["values"], dtype=np.int64), size=len(level), p=np.asarray(fo["weights"]))
        kids = np.repeat(level, draws)[: n - nxt]
        refs[nxt: nxt + len(kids)] = kids
        depth[nxt: nxt + len(kids)] = d + 1
        level = np.arange(nxt, nxt + len(kids))
        nxt += len(kids)
    if nxt < n:
        eligible = np.flatnonzero((np.arange(n) < nxt) & (depth < tree["max_depth"]))
        if len(eligible) == 0:
            eligible = np.arange(nxt)
        cap = max((max(fo["values"]) for fo in tree["fanout"]), default=1)
        used = np.bincount(refs[:nxt][refs[:nxt] >= 0], minlength=n)[eligible]
        pool = rng.permutation(np.repeat(eligible, np.clip(cap - used, 0, None)))
        need = n - nxt
        if len(pool) < need:  # no room left under the learned maximum: spread the rest evenly
            pool = np.r_[pool, rng.choice(eligible, need - len(pool))]
        refs[nxt:] = pool[:need]
    return refs


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
        min_category_count: categorical labels seen fewer times are merged into the most frequent label.
    """

    def __init__(
        self,
        metadata: Metadata,
        locales: list[str] | None = None,
        verbose: bool = True,
        seed: int | None = None,
        min_category_count: int = 1,
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
            scale: size of each root table relative to the source (children follow their parents).
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

    def _sample(self, models, scale, num_rows, only: list[str] | None = None, forced_roots=()) -> dict[str, pd.DataFrame]:
        md = self.metadata
        graph = md.graph()
        roots = set(graph.roots())
        if isinstance(num_rows, (int, np.integer)):
            num_rows = {r: int(num_rows) for r in (forced_roots or roots)}
        num_rows = dict(num_rows or {})
        order = graph.parent_first()
        if only is not None:
            order = [t for t in order if t in only]
        done: dict[str, _Sampled] = {}
        for t in order:
            with self._task("sample", t, None) as task:
                done[t] = self._sample_table(t, models, graph, done, scale, num_rows, t in forced_roots)
                task.advance(len(done[t].frame))
        self._fill_deferred(models, graph, done)
        return {t: done[t].frame for t in order}

    def _sample_table(self, t, models, graph, done, scale, num_rows, forced_root) -> _Sampled:
        table = self.metadata.tables[t]
        m = models[t]
        rng = self._rng("sample", t)
        names = m["columns"]
        corr = np.asarray(m["corr"])
        link = None if forced_root else m["link"]
        if link is not None and link["parent"] not in done:
            link = None
        pidx = None
        if link is None:
            n = int(num_rows.get(t, round(m["n_rows"] * scale)))
            z = _mvn(rng, corr, n)
        else:
            parent = done[link["parent"]]
            p_model = models[link["parent"]]
            n_parent = len(parent.frame)
            ratio = n_parent / p_model["n_rows"] if p_model["n_rows"] else 0.0
            raw = parent.ext[_count_col(link["edge"])]
            total = int(round(link["n_linked"] * ratio))
            counts = _capped_counts(raw, total, link["count_min"], link["count_max"], rng)
            pidx = np.repeat(np.arange(n_parent), counts)
            passed = link["passed"]
            mu = np.zeros((len(pidx), len(names)))
            if passed:
                pm = np.column_stack([parent.ext[_mean_col(link["edge"], j)] for j in range(len(passed))])
                mu[:, passed] = pm[pidx]
            z_link = mu + _mvn(rng, np.asarray(link["resid_cov"]), len(pidx))
            n_orph = int(round(link["orphans"] * ratio))
            z = np.vstack([z_link, _mvn(rng, corr, n_orph)])
            pidx = np.r_[pidx, np.full(n_orph, -1)]
            n = len(z)
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
                cols[col.name] = gen.generate(n, rng, start=0).reset_index(drop=True)
            else:
                cols[col.name] = pd.Series([None] * n, dtype="object")
        ext = {nm: x[nm] for nm in names[m["n_own"]:]}
        frame = pd.DataFrame(cols, index=pd.RangeIndex(n))
        # primary-key columns that are not references: sequential, of the column's type
        fk_cols = {c for fk in table.foreign_keys for c in fk.columns}
        for c in table.primary_key:
            if c not in fk_cols and c not in m["generators"]:
                frame[c] = pd.Series(np.arange(1, n + 1), dtype="int64")
        # references
        redraw: dict[str, tuple] = {}  # other-FK name -> (fk, parent frame, observed max, refs)
        # wider keys last: when keys overlap (lineitem's partkey alone and with suppkey), the composite one
        # wins, and its values are valid for the narrower key too since its parent references the same rows
        for fk in sorted(table.foreign_keys, key=lambda f: len(f.columns)):
            e_name = fk.name or f"{t}({','.join(fk.columns)})"
            if link is not None and e_name == link["edge"]:
                self._set_refs(frame, fk, done[fk.ref_table].frame, pidx)
            elif e_name in m["others"] and fk.ref_table in done and not forced_root:
                o = m["others"][e_name]
                parent = done[fk.ref_table]
                refs = np.full(n, -1)
                nonnull = _nonnull_mask(n, o["null_share"], rng)
                raw = parent.ext.get(_count_col(e_name), np.ones(len(parent.frame)))
                want = int(nonnull.sum())
                cap = _capped_counts(raw, want, o["count_min"], o["count_max"], rng)
                pool = rng.permutation(np.repeat(np.arange(len(parent.frame)), cap))
                if len(pool) < want:  # capacities could not reach the row count: the rest go anywhere
                    pool = np.r_[pool, rng.integers(0, max(len(parent.frame), 1), want - len(pool))]
                refs[nonnull] = pool[:want] if len(parent.frame) else -1
                self._set_refs(frame, fk, parent.frame, refs)
                redraw[e_name] = (fk, parent.frame, o["count_max"], refs)
            elif fk.ref_table in done and e_name not in m["deferred"]:
                pn = len(done[fk.ref_table].frame)
                refs = rng.integers(0, pn, n) if pn else np.full(n, -1)
                self._set_refs(frame, fk, done[fk.ref_table].frame, refs)
        for fk, pframe, cap, refs in redraw.values():
            self._redraw_duplicates(frame, table, fk, pframe, cap, refs, fk_cols, rng)
        within = None if forced_root else self._cap_overlapping(frame, table, m, link, done, rng)
        frame = repair(frame, table, rng)
        keep = self._unique_mask(frame, table, fk_cols)
        if within is not None:
            keep = within if keep is None else keep & within
        if keep is not None and not keep.all():
            frame = frame[keep].reset_index(drop=True)
            ext = {k: v[keep] for k, v in ext.items()}
        return _Sampled(frame, ext)

    def _cap_overlapping(self, frame, table, m, link, done, rng) -> np.ndarray | None:
        """Keep children per parent within the observed maximum for foreign keys nested in a wider one.

        When a narrow key's columns are part of a wider key (lineitem's ``l_partkey -> part`` inside
        ``(l_partkey, l_suppkey) -> partsupp``), the wide key's values are written last and decide the narrow
        key too, so a part can collect more lines than any part had. Rows over a narrow key's cap are moved to
        wide-parent rows that have room under *every* cap (the wide key's and each nested key's), all at once;
        rows that find no room are returned as dropped.

        Returns:
            Rows to keep, or None when the table has no nested foreign keys.
        """
        t = table.name
        caps: dict[str, int] = {}
        for fk in table.foreign_keys:
            nm = fk.name or f"{t}({','.join(fk.columns)})"
            if link is not None and nm == link["edge"]:
                caps[nm] = max(int(link["count_max"]), 1)
            elif nm in m["others"]:
                caps[nm] = max(int(m["others"][nm]["count_max"]), 1)

        def fk_name(fk) -> str:
            return fk.name or f"{t}({','.join(fk.columns)})"

        keep: np.ndarray | None = None
        n = len(frame)
        for wide in table.foreign_keys:
            narrow = [
                fk for fk in table.foreign_keys
                if fk is not wide and set(fk.columns) < set(wide.columns) and fk_name(fk) in caps
            ]
            if not narrow or fk_name(wide) not in caps or wide.ref_table not in done or n == 0:
                continue
            keep = np.ones(n, dtype=bool) if keep is None else keep
            pframe = done[wide.ref_table].frame
            if len(pframe) == 0:
                continue
            refs = _positions(pframe, wide.ref_columns, frame, wide.columns)
            # each narrow key as codes shared by the wide parent's rows and the child's rows
            codes = []
            for fk in narrow:
                rcs = [wide.ref_columns[wide.columns.index(c)] for c in fk.columns]
                p_codes, uniques = pd.factorize(_key_tuples(pframe, rcs))
                c_codes = pd.Index(uniques).get_indexer(_key_tuples(frame, fk.columns))
                codes.append((caps[fk_name(fk)], p_codes, c_codes))
            over = np.zeros(n, dtype=bool)
            for cap, _, c_codes in codes:  # the later rows of a narrow key past its cap
                rank = pd.Series(c_codes).groupby(c_codes).cumcount().to_numpy()
                over |= (c_codes >= 0) & (rank >= cap)
            over &= refs >= 0
            if not over.any():
                continue
            stay = (refs >= 0) & ~over
            room = np.clip(caps[fk_name(wide)] - np.bincount(refs[stay], minlength=len(pframe)), 0, None)
            slots = rng.permutation(np.repeat(np.arange(len(pframe)), room))
            ok = np.ones(len(slots), dtype=bool)
            for cap, p_codes, c_codes in codes:
                used = np.bincount(c_codes[stay & (c_codes >= 0)], minlength=int(p_codes.max()) + 1)
                s_codes = p_codes[slots]
                # conservative: a slot dropped for another key still counts here, so no key overflows
                rank = pd.Series(s_codes).groupby(s_codes).cumcount().to_numpy()
                ok &= rank < np.clip(cap - used, 0, None)[s_codes]
            targets = slots[ok]
            rows = np.flatnonzero(over)
            moved, dropped = rows[: len(targets)], rows[len(targets):]
            for c, rc in zip(wide.columns, wide.ref_columns):
                col = frame[c].copy()
                col.iloc[moved] = pframe[rc].iloc[targets[: len(moved)]].to_numpy()
                frame[c] = col
            keep[dropped] = False
        return keep

    @staticmethod
    def _set_refs(frame: pd.DataFrame, fk, parent: pd.DataFrame, refs: np.ndarray) -> None:
        null = refs < 0
        safe = np.where(null, 0, refs)
        for c, rc in zip(fk.columns, fk.ref_columns):
            if len(parent) == 0:
                frame[c] = pd.Series([None] * len(frame), dtype="object")
                continue
            vals = parent[rc].iloc[safe].reset_index(drop=True)
            if null.any():
                vals = vals.astype("Int64") if pd.api.types.is_integer_dtype(vals) else vals.astype("object")
                vals[null] = None
            frame[c] = vals

    def _redraw_duplicates(self, frame, table, fk, pframe, cmax, refs, fk_cols, rng, rounds: int = 10) -> None:
        """Re-draw references of rows that would repeat a key made of references (bridge tables).

        Only the duplicated rows are re-drawn, among parents with room left under the observed maximum, for a
        few rounds; what is left is dropped afterwards.
        """
        if len(pframe) == 0:
            return
        for _ in range(rounds):
            keep = self._unique_mask(frame, table, fk_cols)
            if keep is None or keep.all():
                return
            dup = ~keep & (refs >= 0)
            if not dup.any():
                return
            used = np.bincount(refs[(refs >= 0) & ~dup], minlength=len(pframe))
            room = np.clip(max(cmax, 1) - used, 0, None)
            # each free slot once: redrawn rows never push a parent past the observed maximum
            pool = rng.permutation(np.repeat(np.arange(len(pframe)), room))
            rows = np.flatnonzero(dup)[: len(pool)]
            if len(rows) == 0:
                return
            refs[rows] = pool[: len(rows)]
            self._set_refs(frame, fk, pframe, refs)

    @staticmethod
    def _unique_mask(frame: pd.DataFrame, table: Table, fk_cols: set[str]) -> np.ndarray | None:
        """Rows to keep so that keys made of references (bridge tables, one-to-one) stay unique."""
        keys = []
        if table.primary_key and set(table.primary_key) & fk_cols:
            keys.append(table.primary_key)
        keys += [u.columns for u in table.unique_constraints if set(u.columns) <= fk_cols]
        if not keys:
            return None
        keep = np.ones(len(frame), dtype=bool)
        for cols in keys:
            sub = frame[cols]
            keep &= ~(sub.duplicated() & sub.notna().all(axis=1)).to_numpy()
        return keep

    def _fill_deferred(self, models, graph, done) -> None:
        """Deferred references: valid values in the frame (the writer sets them after insert), no cycles."""
        for d in graph.deferred:
            e = d.edge
            if e.child not in done or e.parent not in done:
                continue
            child = done[e.child].frame
            spec = models[e.child]["deferred"].get(e.name, {"null_share": 1.0})
            rng = self._rng("deferred", e.name)
            n = len(child)
            pn = len(done[e.parent].frame)
            self_ref = e.child == e.parent
            nonnull = _nonnull_mask(n, spec["null_share"], rng, first_null=self_ref)
            if self_ref and spec.get("tree") and n:
                # a forest grown level by level with the learned fan-out (rows in breadth-first order)
                refs = _sample_forest(n, spec["null_share"], spec["tree"], rng)
                nonnull = refs >= 0
            elif self_ref:
                # no learned shape (older model files): row i points to an earlier row, so following references
                # always ends at a root
                i = np.arange(n)
                refs = np.floor(rng.uniform(size=n) * i).astype(np.int64)
            else:
                refs = rng.integers(0, max(pn, 1), n)
                nonnull &= pn > 0
            refs[~nonnull] = -1
            self._set_refs(child, e.fk, done[e.parent].frame, refs)

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
