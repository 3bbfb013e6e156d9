"""Detection score: how well a classifier tells real rows from synthetic ones, per table.

As SyntheRela's discriminative detection with aggregation (DDA): per table, a gradient-boosted classifier
(scikit-learn's ``HistGradientBoostingClassifier``) learns to tell a real row from a synthetic one, on bounded
uniform samples of both sides, and is scored by the ROC AUC of its out-of-fold predictions (stratified
k-fold cross-validation). 0.5 means the classifier cannot tell them apart; 1.0 means every row gives itself
away.

The features are the table's modelled columns (no keys, PII, free text or generated columns: those are meant
to differ) and, for a parent table, what its children say about each parent row: the number of children
through each foreign key to it and the mean of each numeric child column. A clone whose columns are right
one by one but whose children-per-parent are wrong is caught through the parent.

This module only computes; :mod:`dbsynth.report.metrics` stores the scores in the report and
:mod:`dbsynth.report.render` shows them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..metadata import sdtypes as st
from ..metadata.records import Column, ForeignKey, Metadata, Table
from .metrics import as_text, key_text, to_numbers

__all__ = ["DetectionScore", "Features", "detection_auc", "detection_scores", "table_features"]

#: Rows sampled on each side per table (uniformly, seeded).
MAX_ROWS = 5_000
#: Cross-validation folds.
FOLDS = 3
#: Boosting iterations of the classifier at most: enough to find a shifted column or a broken pair.
MAX_ITER = 100
#: Training rows from which the classifier stops early (after 10 iterations without progress on a held-out
#: tenth): rows that cannot be told apart then cost a few iterations, not a hundred. Smaller samples train
#: every iteration (they are fast, and a tenth of them is too few rows to judge progress on).
EARLY_STOPPING_ROWS = 1_000
#: Labels of a categorical column kept as their own category (the most frequent over both sides); the others
#: share one more code. HistGradientBoosting takes at most 255 categories (its max_bins).
MAX_LABELS = 254
#: Numbers are clipped into this range: the classifier's bin edges are midpoints of values, which overflow
#: near the float limit, and it does not take infinities (a marker date or a float column holding Infinity).
_LIMIT = 1e300
_TRUE = {"true", "t", "1", "1.0", "yes", "y"}
_FALSE = {"false", "f", "0", "0.0", "no", "n"}


@dataclass(frozen=True)
class DetectionScore:
    """How well a classifier tells the real rows of one table from the synthetic ones."""

    table: str
    auc: float | None
    """ROC AUC of the out-of-fold predictions, in [0.5, 1]: 0.5 means indistinguishable, 1.0 fully told apart.
    A measured AUC below 0.5 is noise around 0.5 (the classifier is no better than chance) and is shown as 0.5.
    None when the table could not be scored (see :attr:`detail`)."""
    rows: int
    """Rows per side the classifier saw (both sides are sampled to the same count)."""
    features: int
    """Features per row: the modelled columns plus the child counts and means of a parent table."""
    detail: str = ""
    """Why the table was not scored; empty when it was."""


@dataclass(frozen=True)
class Features:
    """The classifier's input for one table: the same features on both sides, sampled."""

    real: pd.DataFrame
    """One row per sampled real row, one float column per feature (NULL as NaN, categories as codes)."""
    synthetic: pd.DataFrame
    """The same for the synthetic rows."""
    categorical: tuple[bool, ...]
    """Per feature, whether it holds category codes (the classifier splits them as categories)."""


# ---- features ---------------------------------------------------------------------------------------------
def _sample(frame: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` rows of ``frame`` drawn uniformly without replacement (all of them, in order, when it has ``n``)."""
    if len(frame) > n:
        frame = frame.iloc[np.sort(rng.choice(len(frame), n, replace=False))]
    return frame.reset_index(drop=True)


def _number(s: pd.Series, col: Column) -> np.ndarray:
    """A numeric, date or boolean column as float64 (dates as seconds, booleans 0/1, NULL as NaN)."""
    if col.sdtype == st.BOOLEAN:
        if pd.api.types.is_bool_dtype(s.dtype):
            return s.astype("float64").to_numpy()
        text = as_text(s).str.strip().str.lower()
        return np.where(text.isin(_TRUE), 1.0, np.where(text.isin(_FALSE), 0.0, np.nan))
    # to_numbers drops NULLs and keeps the index: reindexing puts them back as NaN
    values = to_numbers(s, col).reindex(s.index).to_numpy(dtype=float)
    return np.clip(values, -_LIMIT, _LIMIT)


def _label_text(s: pd.Series) -> pd.Series:
    """Category labels as text, comparable across sides whose dtypes differ (3, 3.0 and Int64 3 alike)."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("float64")
    return as_text(s)


def _codes(real: pd.Series, synthetic: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Category codes over the labels of both sides: the :data:`MAX_LABELS` most frequent labels get their own
    code, the rest one shared code, NULL is NaN (the classifier gives missing values their own branch)."""
    texts = [_label_text(real), _label_text(synthetic)]
    counts = pd.concat(texts, ignore_index=True).dropna().value_counts()
    # most frequent first, ties by label, so that the codes do not depend on the order rows come in
    order = pd.DataFrame({"label": counts.index.astype(str), "n": counts.to_numpy()})
    top = order.sort_values(["n", "label"], ascending=[False, True], kind="stable")["label"].head(MAX_LABELS)
    out = []
    for text in texts:
        codes = pd.Index(top).get_indexer(text.to_numpy()).astype("float64")
        codes[codes < 0] = len(top)  # a label past the most frequent ones (NULLs too, set back just below)
        codes[text.isna().to_numpy()] = np.nan
        out.append(codes)
    return out[0], out[1]


def _modelled(table: Table, real: pd.DataFrame, synthetic: pd.DataFrame) -> list[Column]:
    """Modelled columns of ``table`` present on both sides."""
    return [c for c in table.columns if c.is_modelled and c.name in real.columns and c.name in synthetic.columns]


def _is_number(col: Column) -> bool:
    return col.sdtype in (st.NUMERICAL, st.DATETIME, st.BOOLEAN)


def _children(metadata: Metadata, table: str, real: Mapping[str, pd.DataFrame],
              synthetic: Mapping[str, pd.DataFrame]) -> list[tuple[Table, ForeignKey]]:
    """Every (child table, foreign key to ``table``) whose child is on both sides with its key columns."""
    out = []
    for child, fk in metadata.relationships():
        if fk.ref_table != table or child.name not in real or child.name not in synthetic:
            continue
        frames = (real[child.name], synthetic[child.name], real[table], synthetic[table])
        if all(c in f.columns for f in frames[:2] for c in fk.columns) and all(
                c in f.columns for f in frames[2:] for c in fk.ref_columns):
            out.append((child, fk))
    return out


def _keys(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    """One comparable key per row over ``cols``, fast on the millions of rows of a child table: numeric
    columns as float64 (3, 3.0 and Int64 3 alike), several of them hashed into one 64-bit value per row;
    anything else as the text of :func:`key_text`."""
    if all(pd.api.types.is_numeric_dtype(frame[c].dtype) and not pd.api.types.is_bool_dtype(frame[c].dtype)
           for c in cols):
        numbers = frame[cols].astype("float64").reset_index(drop=True)
        if len(cols) == 1:
            return numbers[cols[0]]
        return pd.util.hash_pandas_object(numbers, index=False)
    return key_text(frame, cols).reset_index(drop=True)


def _child_aggregates(parent: pd.DataFrame, child: pd.DataFrame, fk: ForeignKey,
                      columns: Sequence[Column]) -> dict[str, np.ndarray]:
    """Per row of ``parent``: its number of ``child`` rows through ``fk`` (0 when none) and the mean of each of
    ``columns`` over them (NaN when none)."""
    child = child.dropna(subset=fk.columns)
    keys, parent_keys = _keys(child, fk.columns), _keys(parent, fk.ref_columns)
    if keys.dtype != parent_keys.dtype:  # a numeric key on one side only (an odd frame): compare as text
        keys, parent_keys = key_text(child, fk.columns), key_text(parent, fk.ref_columns)
    keys = keys.reset_index(drop=True)
    out = {"count": parent_keys.map(keys.value_counts()).fillna(0.0).to_numpy(dtype=float)}
    if columns:
        values = pd.DataFrame({c.name: _number(child[c.name], c) for c in columns})
        means = values.groupby(keys.to_numpy()).mean()
        for c in columns:
            out[f"mean:{c.name}"] = parent_keys.map(means[c.name]).to_numpy(dtype=float)
    return out


def table_features(metadata: Metadata, table: str, real: Mapping[str, pd.DataFrame],
                   synthetic: Mapping[str, pd.DataFrame], *, max_rows: int = MAX_ROWS, seed: int = 0,
                   children: bool = True) -> Features:
    """The classifier's features for ``table``, on the same number of rows per side (at most ``max_rows``,
    drawn uniformly with ``seed``).

    Args:
        metadata: the tables (which columns are modelled, the foreign keys to ``table``).
        table: the table, present in both ``real`` and ``synthetic``.
        real: the real rows, per table (the child tables whole: a parent row's children are all counted).
        synthetic: the synthetic rows, per table.
        max_rows: rows sampled per side.
        seed: seed of the samples.
        children: enrich a parent's rows with their children's counts and numeric means (False: the table's
            own columns only, to see what the enrichment adds).

    Returns:
        The :class:`Features`, in the same column order on both sides.
    """
    spec = metadata.table(table)
    rng = np.random.default_rng(seed)
    n = min(len(real[table]), len(synthetic[table]), max_rows)
    sides = [_sample(real[table], n, rng), _sample(synthetic[table], n, rng)]
    columns: list[dict[str, np.ndarray]] = [{}, {}]
    categorical: list[bool] = []
    for col in _modelled(spec, *sides):
        if _is_number(col):
            parts = (_number(sides[0][col.name], col), _number(sides[1][col.name], col))
        else:
            parts = _codes(sides[0][col.name], sides[1][col.name])
        for out, part in zip(columns, parts):
            out[col.name] = part
        categorical.append(not _is_number(col))
    if children:
        for child, fk in _children(metadata, table, real, synthetic):
            numeric = [c for c in _modelled(child, real[child.name], synthetic[child.name]) if _is_number(c)]
            prefix = f"{child.name}({','.join(fk.columns)})"
            for out, side, data in zip(columns, sides, (real, synthetic)):
                for name, values in _child_aggregates(side, data[child.name], fk, numeric).items():
                    out[f"{prefix}:{name}"] = values
            categorical.extend([False] * (1 + len(numeric)))
    frames = [pd.DataFrame(c, index=pd.RangeIndex(n), dtype="float64") for c in columns]
    # a feature NULL in every row of both sides says nothing (and the classifier cannot bin it)
    informative = (frames[0].notna().any() | frames[1].notna().any()).to_numpy(dtype=bool)
    return Features(frames[0].loc[:, informative], frames[1].loc[:, informative],
                    tuple(c for c, keep in zip(categorical, informative) if keep))


# ---- classifier -------------------------------------------------------------------------------------------
def classifier_auc(features: Features, *, folds: int = FOLDS, seed: int = 0) -> float:
    """ROC AUC of a gradient-boosted classifier telling ``features.real`` from ``features.synthetic``, on
    out-of-fold predictions of a stratified ``folds``-fold cross-validation (the raw value: below 0.5 is
    possible, by chance)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    x = np.vstack([features.real.to_numpy(dtype=float), features.synthetic.to_numpy(dtype=float)])
    y = np.r_[np.zeros(len(features.real)), np.ones(len(features.synthetic))]
    predicted = np.zeros(len(y))
    mask = np.array(features.categorical, dtype=bool)
    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y)
    # One thread: on samples this small, OpenMP's threads cost more than they save (ten times slower on a
    # busy two-core machine), and a report must not compete with the run for every core.
    with threadpool_limits(limits=1, user_api="openmp"):
        for train, test in splits:
            # a feature NULL in every training row cannot be binned: left out of this fold
            used = ~np.isnan(x[train]).all(axis=0)
            if not used.any():
                predicted[test] = 0.5
                continue
            model = HistGradientBoostingClassifier(
                max_iter=MAX_ITER, early_stopping=len(train) >= EARLY_STOPPING_ROWS,
                categorical_features=mask[used] if mask[used].any() else None, random_state=seed)
            model.fit(x[train][:, used], y[train])
            predicted[test] = model.predict_proba(x[test][:, used])[:, 1]
    return float(roc_auc_score(y, predicted))


def detection_scores(metadata: Metadata, real: Mapping[str, pd.DataFrame], synthetic: Mapping[str, pd.DataFrame],
                     *, max_rows: int = MAX_ROWS, folds: int = FOLDS, seed: int = 0,
                     children: bool = True) -> list[DetectionScore]:
    """The detection score of every table of ``metadata`` present in both ``real`` and ``synthetic``.

    Args:
        metadata: the tables; only modelled columns are features (keys, PII, free text and generated columns
            are meant to differ).
        real: the real rows, per table.
        synthetic: the synthetic rows, per table.
        max_rows: rows sampled per side and table (uniformly, with ``seed``); both sides get the same count.
        folds: cross-validation folds (stratified).
        seed: seed of the samples, the folds and the classifier: the same seed gives the same scores.
        children: enrich parent tables with their children's counts and means (see :func:`table_features`).

    Returns:
        One :class:`DetectionScore` per table, in metadata order. Its ``auc`` is clipped at 0.5 (a value under
        it is chance); a table without any feature, or with fewer than ``2 * folds`` rows on a side, has
        ``auc`` None and a ``detail`` saying why.
    """
    out = []
    for table in metadata:
        name = table.name
        if name not in real or name not in synthetic:
            continue
        features = table_features(metadata, name, real, synthetic, max_rows=max_rows, seed=seed, children=children)
        rows, width = len(features.real), features.real.shape[1]
        if width == 0:
            detail = "no modelled column and no child table to classify rows on"
        elif rows < 2 * folds:
            detail = f"fewer than {2 * folds} rows on a side ({folds} folds need 2 rows per side each)"
        else:
            auc = classifier_auc(features, folds=folds, seed=seed)
            out.append(DetectionScore(name, max(auc, 0.5), rows, width))
            continue
        out.append(DetectionScore(name, None, rows, width, detail))
    return out


def detection_auc(scores: Sequence[DetectionScore]) -> float | None:
    """Mean AUC over the tables that could be scored; None when none could."""
    values = [s.auc for s in scores if s.auc is not None]
    return float(np.mean(values)) if values else None
