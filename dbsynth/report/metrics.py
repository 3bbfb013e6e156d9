"""Quality and privacy metrics of a synthetic database against the real one.

The definitions are the standard published ones, so that figures can be compared with other tools:

- column shapes: ``1 - KS`` statistic (numerical, datetime), ``1 - TVD`` (categorical, boolean);
- column pair trends: ``1 - |rho_real - rho_synth| / 2`` for numeric pairs, ``1 - 1/2 sum |p_real - p_synth|``
  over the contingency table otherwise (numeric columns binned on the real data's edges);
- cardinality: ``1 - KS`` on the number of children per parent, zeros included, per foreign key;
- inter-table trends: pair trends between a parent's and a child's columns over the join;
- validity: foreign-key integrity, key uniqueness, NOT NULL and enum adherence; CHECK constraints evaluated
  by the synthetic database when it is given as a URL (:mod:`dbsynth.report.checks`);
- privacy: share of synthetic rows identical to a real row, rare real labels that reappear;
- rules: per declared, discovered or user rule, the share of synthetic rows keeping it
  (:func:`dbsynth.rules.evaluate.score`; which rules: :mod:`dbsynth.report.rule_scores`).

Every score is in [0, 1], 1 meaning indistinguishable. All computations are vectorised pandas/numpy.

Apart from the properties, the report holds a detection score per table (:mod:`dbsynth.report.detection`):
the ROC AUC of a classifier telling real rows from synthetic ones, where 0.5 is best, so it is no property
and takes no part in ``overall``.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import BadInputError, QualityError
from ..metadata import sdtypes as st
from ..metadata.records import Column, ForeignKey, Metadata, Table

# The property names live in a neutral module: the config validates thresholds against them without importing
# the report. Re-exported here, where the report's callers have always found them.
from ..properties import PROPERTIES, QUALITY_PROPERTIES
from ..rules.records import RuleScore, RuleSet
from .rule_scores import SHOWN_FAILING, copies_of_generated, data_rules, failing, rules_property, score_rules

if TYPE_CHECKING:
    from .detection import DetectionScore
    from .plots import TablePlots

#: Labels seen fewer than this many times in the real data are "rare": seeing them again may identify someone.
RARE_K = 5
#: Bins used to discretise numeric columns in contingency tables.
NUM_BINS = 10
#: Join rows kept for inter-table trends (a uniform sample above this: the metric is a mean of frequencies).
MAX_JOIN_ROWS = 20_000
#: Rows sampled on each side for the distance-to-closest-record ratio.
DCR_SAMPLE = 5_000
#: Modelled columns per table considered for pair trends (pairs grow quadratically).
MAX_PAIR_COLUMNS = 20
_NULL = "\x00<NULL>"  # stands for NULL in categorical frequencies, so that missingness is compared too



def check_thresholds(thresholds: Mapping[str, float | str], where: str = "--fail-under-property") -> dict[str, float]:
    """Validate per-property thresholds (``{property: minimum score}``) before any work is done.

    Args:
        thresholds: minimum score in [0, 1] per property name of :data:`PROPERTIES` (a number or its text).
        where: the option or config key named in error messages.

    Returns:
        The thresholds as ``{name: float}``.

    Raises:
        BadInputError: an unknown property name, or a score that is not a number in [0, 1].
    """
    out = {}
    for name, value in thresholds.items():
        if name not in PROPERTIES:
            raise BadInputError(f"{where}: unknown property '{name}' (use one of {', '.join(PROPERTIES)})")
        try:
            score = float(value)
        except (TypeError, ValueError):
            score = float("nan")
        if not 0.0 <= score <= 1.0:
            raise BadInputError(f"{where}: {name}={value}: the score must be a number in 0..1")
        out[name] = score
    return out


def parse_thresholds(items: list[str], option: str = "--fail-under-property") -> dict[str, float]:
    """``["column_shapes=0.8", ...]`` (command-line form) as ``{"column_shapes": 0.8}``, validated.

    Raises:
        BadInputError: an item without ``=``, an unknown property, or a score outside [0, 1].
    """
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise BadInputError(f"{option} {item}: expected NAME=SCORE, e.g. column_shapes=0.8")
        pairs[name.strip()] = value.strip()
    return check_thresholds(pairs, option)


@dataclass
class Shortfall:
    """A threshold the report does not reach."""

    property: str
    """``overall`` or a name of :data:`PROPERTIES`."""
    score: float
    threshold: float
    failing: tuple[str, ...] = ()
    """For ``rules``: the names of the worst rules not kept (at most a few; names only, never row values)."""
    more: int = 0
    """Rules not kept beyond those named in :attr:`failing`."""

    def describe(self, option: str) -> str:
        """``column_shapes 70.0% is under --fail-under-property 80.0%`` (``option`` names the threshold), with
        ``(not kept: order:rental:rental_date,return_date and 2 more)`` for the rules."""
        text = f"{self.property} {self.score:.1%} is under {option} {self.threshold:.1%}"
        if self.failing:
            more = f" and {self.more} more" if self.more else ""
            text += f" (not kept: {', '.join(self.failing)}{more})"
        return text


@dataclass
class Score:
    """One metric value."""

    property: str
    """Which property it belongs to: column_shapes, column_pair_trends, cardinality, intertable_trends,
    generated_columns."""
    table: str
    """The table (the child table for cardinality and inter-table trends)."""
    columns: list[str]
    """The column(s) scored (the foreign key's columns for cardinality; ``parent.col`` for inter-table)."""
    metric: str
    """KSComplement, TVComplement, CorrelationSimilarity, ContingencySimilarity, CardinalityKS, LengthNulls."""
    score: float
    """In [0, 1]; 1 means the synthetic data matches the real data."""


@dataclass
class ValidityCheck:
    """One constraint checked on the synthetic data."""

    table: str
    kind: str
    """foreign_key, primary_key, not_null, enum, check."""
    target: str
    """The constraint or column checked."""
    rows: int
    """Rows checked."""
    violations: int
    """Rows that break it."""
    unchecked: str | None = None
    """Why the constraint could not be evaluated (a CHECK expression the target database cannot run); None
    when it was. Unchecked constraints do not count in the validity score."""

    @property
    def score(self) -> float:
        """Share of rows that satisfy the constraint."""
        return 1.0 if self.rows == 0 else 1.0 - self.violations / self.rows


@dataclass
class TablePrivacy:
    """Privacy findings of one table (counts only: a report never shows row values)."""

    table: str
    synthetic_rows: int
    identical_rows: int
    """Synthetic rows equal to some real row on every non-key column."""
    rare_labels: dict[str, int] = field(default_factory=dict)
    """Per categorical column, how many labels seen fewer than RARE_K times in the real data reappear."""
    dcr_ratio: float | None = None
    """Median distance from a synthetic row to its closest real row, over the median distance from a real row
    to its nearest other real row (numeric columns, standardised, on a sample). About 1: synthetic rows are no
    closer to real ones than real rows are to each other; near 0: they sit on top of real rows."""

    @property
    def identical_share(self) -> float:
        """Share of synthetic rows that copy a real row."""
        return 0.0 if self.synthetic_rows == 0 else self.identical_rows / self.synthetic_rows


@dataclass
class QualityReport:
    """Everything :func:`evaluate` measured, with the summary scores."""

    scores: list[Score] = field(default_factory=list)
    validity: list[ValidityCheck] = field(default_factory=list)
    privacy: list[TablePrivacy] = field(default_factory=list)
    plots: dict[str, TablePlots] = field(default_factory=dict, repr=False)
    """Per table, the summaries drawn in ``report.html`` (:mod:`dbsynth.report.plots`); not in the JSON."""
    rules: list[RuleScore] = field(default_factory=list)
    """Per rule (declared, discovered, user), the synthetic rows keeping it."""
    detection: list[DetectionScore] = field(default_factory=list)
    """Per table, how well a classifier tells real rows from synthetic ones (ROC AUC, 0.5 = indistinguishable;
    :mod:`dbsynth.report.detection`). Not a property: lower is better, and it stays out of :attr:`overall`."""

    @property
    def detection_auc(self) -> float | None:
        """Mean detection AUC over the tables scored (0.5 = indistinguishable); None when none was."""
        from .detection import detection_auc  # detection builds on this module's helpers

        return detection_auc(self.detection)

    def property_score(self, prop: str, table: str | None = None) -> float | None:
        """Mean score of ``prop`` (for ``table`` only when given); None when nothing was scored."""
        values = [s.score for s in self.scores if s.property == prop and (table is None or s.table == table)]
        return float(np.mean(values)) if values else None

    @property
    def properties(self) -> dict[str, float | None]:
        """Score of each modelling-quality property, plus ``generated_columns``, ``validity``, ``privacy`` and
        ``rules`` (the mean share of rows keeping each rule that could be scored)."""
        out: dict[str, float | None] = {p: self.property_score(p) for p in QUALITY_PROPERTIES}
        out["generated_columns"] = self.property_score("generated_columns")
        checked = [c.score for c in self.validity if c.unchecked is None]
        out["validity"] = float(np.mean(checked)) if checked else None
        rows = sum(p.synthetic_rows for p in self.privacy)
        # Privacy summary: share of synthetic rows that are NOT copies of real ones.
        out["privacy"] = 1.0 - sum(p.identical_rows for p in self.privacy) / rows if rows else None
        out["rules"] = rules_property(self.rules)
        return out

    @property
    def overall(self) -> float:
        """Mean of the modelling-quality properties that could be scored (1.0 when none could)."""
        props = self.properties
        values = [v for p in QUALITY_PROPERTIES if (v := props[p]) is not None]
        return float(np.mean(values)) if values else 1.0

    @property
    def tables(self) -> list[str]:
        """Tables that appear in the report, in first-seen order."""
        return list(dict.fromkeys([s.table for s in self.scores] + [p.table for p in self.privacy]))

    def shortfalls(
        self, fail_under: float | None = None, properties: Mapping[str, float] | None = None
    ) -> list[Shortfall]:
        """The thresholds this report does not reach (empty: every one is met).

        Args:
            fail_under: minimum :attr:`overall` score.
            properties: minimum score per property (names of :data:`PROPERTIES`). A property that could not be
                scored (no foreign key for cardinality, say) has no score to fall short with, so it passes.

        Returns:
            One :class:`Shortfall` per threshold missed, overall first.

        Raises:
            BadInputError: an unknown property name or a threshold outside [0, 1].
        """
        limits = check_thresholds(properties or {})
        out = []
        if fail_under is not None and self.overall < fail_under:
            out.append(Shortfall("overall", self.overall, fail_under))
        scores = self.properties
        for prop, limit in limits.items():
            score = scores[prop]
            if score is None or score >= limit:
                continue
            # the rules property names the rules behind it, so that the failed job says what to look at
            names = [f.rule.name for f in failing(self.rules)] if prop == "rules" else []
            out.append(Shortfall(prop, score, limit, tuple(names[:SHOWN_FAILING]),
                                 max(0, len(names) - SHOWN_FAILING)))
        return out

    def check(
        self,
        fail_under: float | None = None,
        properties: Mapping[str, float] | None = None,
        *,
        options: tuple[str, str] = ("fail_under", "fail_under_properties"),
    ) -> None:
        """Raise when a threshold is not reached (see :meth:`shortfalls`), to fail a nightly job.

        Args:
            fail_under: minimum :attr:`overall` score.
            properties: minimum score per property.
            options: how the overall and the per-property thresholds are named in the message.

        Raises:
            QualityError: one line listing every threshold missed (exit code 1).
            BadInputError: an unknown property name or a threshold outside [0, 1].
        """
        missed = self.shortfalls(fail_under, properties)
        if missed:
            raise QualityError(
                "quality: "
                + "; ".join(m.describe(options[0] if m.property == "overall" else options[1]) for m in missed)
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: overall, properties, per-table property scores and every detail."""
        return {
            "overall": self.overall,
            "properties": self.properties,
            "tables": {
                t: {p: self.property_score(p, t) for p in (*QUALITY_PROPERTIES, "generated_columns")}
                for t in self.tables
            },
            "scores": [asdict(s) for s in self.scores],
            "validity": [{**asdict(c), "score": c.score} for c in self.validity],
            "privacy": [{**asdict(p), "identical_share": p.identical_share} for p in self.privacy],
            "rules": [_rule_dict(s) for s in self.rules],
            "detection": {"auc": self.detection_auc, "tables": [asdict(d) for d in self.detection]},
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text (NaN-free: unscored values are null)."""
        import json

        return json.dumps(self.to_dict(), indent=indent)


def _rule_dict(s: RuleScore) -> dict[str, Any]:
    """One rule of ``report.json``: what it is (no parameters: a domain's values stay in the model) and its score
    (``share`` null and ``detail`` saying why when it could not be scored)."""
    r = s.rule
    return {"name": r.name, "kind": str(r.kind), "origin": str(r.origin), "table": r.table,
            "description": r.describe(), "kept": s.kept, "total": s.total,
            "share": None if s.detail else s.share, "detail": s.detail or None}


# ---- values of any type as text -------------------------------------------------------------------------
#: Type families whose values are not text or numbers (binary, JSON, geometry bytes...): scored on the length
#: of their values and their NULL share, never decoded as text (bytes are not UTF-8).
_ODD_FAMILIES = (st.BINARY, st.JSON, st.ARRAY, st.OTHER, st.INTERVAL)


def value_text(v: Any) -> str:
    """A value of any type as comparable text: bytes (blobs, geometry, BIT) as hex digits, dicts and lists
    as JSON with sorted keys, everything else by ``str`` (``str`` of bytes would decode them as UTF-8)."""
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, (dict, list, tuple)):
        try:
            return json.dumps(v, sort_keys=True, default=str)
        except (TypeError, ValueError):
            return str(v)
    return str(v)


def value_length(v: Any) -> int:
    """The length of a value as generated columns are compared: bytes for binary values, items for lists,
    the JSON text for objects, characters for the rest."""
    if isinstance(v, (bytes, bytearray, memoryview)):
        return len(bytes(v))
    if isinstance(v, (list, tuple)):
        return len(v)
    if isinstance(v, dict):
        return len(value_text(v))
    return len(str(v))


def as_text(s: pd.Series) -> pd.Series:
    """``s`` as a Series of ``str`` (object dtype, index kept), NULLs kept as NULL; see :func:`value_text`."""
    obj = s.astype(object)
    mask = _nulls(obj)
    values = obj.tolist()
    if not any(isinstance(v, (bytes, bytearray, memoryview, dict, list, tuple)) for v in values):
        text = obj.astype(str)  # plain values: one vectorised pass
        text[mask] = None
        return text.astype(object)
    return pd.Series([None if z else value_text(v) for v, z in zip(values, mask.tolist())], index=s.index,
                     dtype=object)


def _nulls(s: pd.Series) -> np.ndarray:
    # pd.isna broadcasts over list-valued cells: NULL is None/NaN/NaT/NA only
    return np.fromiter((v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) for v in s),
                       dtype=bool, count=len(s))


def odd_column(col: Column) -> bool:
    """A column whose values are neither text nor numbers (binary, JSON, arrays, geometry, ranges...)."""
    return col.type in _ODD_FAMILIES and not col.is_modelled


# ---- single-column metrics ------------------------------------------------------------------------------
def _is_numeric_sdtype(col: Column) -> bool:
    return col.sdtype in (st.NUMERICAL, st.DATETIME)


def to_numbers(s: pd.Series, col: Column) -> pd.Series:
    """Numeric/datetime values as float64 (datetimes and times as seconds); NULLs dropped, index kept."""
    if col.sdtype == st.DATETIME:
        if col.type == st.TIME:
            values = pd.to_timedelta(s.dropna().astype(str), errors="coerce").dt.total_seconds()
        else:
            dt = s if pd.api.types.is_datetime64_any_dtype(s.dtype) else pd.to_datetime(s, errors="coerce", utc=True)
            if isinstance(dt.dtype, pd.DatetimeTZDtype):
                dt = dt.dt.tz_convert("UTC").dt.tz_localize(None)
            dt = dt.dropna()
            # Seconds since the epoch from microseconds (the frame contract's unit: years 1..9999 and the marker
            # stamps of infinity and zero dates, which nanoseconds cannot hold); keeps the index, which _binned
            # relies on to place NULLs.
            us = dt.astype("datetime64[us]").to_numpy().view("int64")
            values = pd.Series(us / 1e6, index=dt.index, dtype="float64")
    else:
        values = pd.to_numeric(s, errors="coerce").astype("float64")
    return values.dropna()


def ks_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """``1 - KS`` statistic between two numeric samples (1.0 when both are empty, 0.0 when one is)."""
    if len(real) == 0 and len(synthetic) == 0:
        return 1.0
    if len(real) == 0 or len(synthetic) == 0:
        return 0.0
    # SDMetrics' KSComplement: 1 - the two-sample Kolmogorov-Smirnov statistic (the largest gap between the two
    # empirical CDFs). Only the statistic is used: the asymptotic p-value is the cheap one (the exact one costs
    # seconds on samples of a few thousand rows). Imported here: scipy.stats takes a second to import, and
    # parsing a threshold (the CLI does it before any work) must not pay for it.
    from scipy import stats

    result = stats.ks_2samp(real.to_numpy(dtype=float), synthetic.to_numpy(dtype=float), method="asymp")
    return float(1.0 - result.statistic)


def _labels(s: pd.Series) -> pd.Series:
    """Categorical values as strings, NULL as its own label (bool True and 'True' are the same label)."""
    text = as_text(s)
    return text.where(text.notna(), _NULL).astype(str)


def tv_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """``1 - total variation distance`` between the label frequencies of two samples."""
    if len(real) == 0 and len(synthetic) == 0:
        return 1.0
    if len(real) == 0 or len(synthetic) == 0:
        return 0.0
    p = _labels(real).value_counts(normalize=True)
    q = _labels(synthetic).value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def column_shape(real: pd.Series, synthetic: pd.Series, col: Column) -> Score:
    """Score of one modelled column's marginal distribution."""
    if _is_numeric_sdtype(col):
        value = ks_complement(to_numbers(real, col), to_numbers(synthetic, col))
        return Score("column_shapes", "", [col.name], "KSComplement", value)
    return Score("column_shapes", "", [col.name], "TVComplement", tv_complement(real, synthetic))


def generated_column(real: pd.Series, synthetic: pd.Series, col: Column) -> Score:
    """Score of a generated column (PII, text, key, placeholder, a type the model does not learn): values are
    meant to differ, so compare the form instead: mean of ``1 - KS`` on value lengths (bytes of binary and
    geometry values, items of arrays, characters of the rest: :func:`value_length`) and
    ``1 - |null share difference|``."""
    masks = [_nulls(s.astype(object)) for s in (real, synthetic)]
    lengths = [pd.Series([value_length(v) for v, z in zip(s.astype(object).tolist(), m.tolist()) if not z],
                         dtype="float64") for s, m in zip((real, synthetic), masks)]
    nulls = [float(m.mean()) if len(m) else 0.0 for m in masks]
    value = 0.5 * (ks_complement(*lengths) + 1.0 - abs(nulls[0] - nulls[1]))
    return Score("generated_columns", "", [col.name], "LengthNulls", value)


# ---- pair metrics ---------------------------------------------------------------------------------------
def correlation_similarity(real: pd.DataFrame, synthetic: pd.DataFrame) -> float | None:
    """``1 - |rho_real - rho_synth| / 2`` (Pearson) for a two-column numeric frame; None when undefined."""
    rhos = []
    for frame in (real, synthetic):
        both = frame.dropna()
        if len(both) < 2:
            return None
        with np.errstate(invalid="ignore", divide="ignore"):  # constant column: NaN, handled below
            rho = np.corrcoef(both.iloc[:, 0].to_numpy(float), both.iloc[:, 1].to_numpy(float))[0, 1]
        if not np.isfinite(rho):  # a constant column has no correlation
            return None
        rhos.append(rho)
    return float(1.0 - abs(rhos[0] - rhos[1]) / 2.0)


def _binned(real: pd.Series, synthetic: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """Numeric columns cut on bins of the real data (same edges for both sides), as labels."""
    r, s = to_numbers(real, col), to_numbers(synthetic, col)
    finite = r[np.isfinite(r.to_numpy())]  # +-Infinity (floats, marker dates) fall in the end bins
    if len(finite) == 0:
        return _labels(real), _labels(synthetic)
    x = finite.to_numpy()
    with np.errstate(over="ignore"):
        span = float(x.max()) - float(x.min())
    if np.isfinite(span) and span < 1e300:
        edges = np.unique(np.histogram_bin_edges(x, bins=NUM_BINS))
    else:  # values at both ends of the float range: equal-width bins would be infinitely wide, use quantiles
        edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, NUM_BINS + 1), method="inverted_cdf"))
    if len(edges) < 2:
        edges = np.array([r.min() - 0.5, r.min() + 0.5])

    def cut(values: pd.Series, original: pd.Series) -> pd.Series:
        idx = np.clip(np.searchsorted(edges, values.to_numpy(), side="right") - 1, 0, len(edges) - 2)
        out = pd.Series(_NULL, index=original.index, dtype=object)
        out.loc[values.index] = idx.astype(str)
        return out

    # to_numbers drops NULLs and keeps the index, so a NULL stays the NULL label.
    return cut(r, real), cut(s, synthetic)


def _as_labels(real: pd.Series, synthetic: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """Both sides as labels: numeric columns binned, the others as they are."""
    if _is_numeric_sdtype(col):
        return _binned(real, synthetic, col)
    return _labels(real), _labels(synthetic)


def contingency_similarity(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """``1 - 1/2 sum |p_real - p_synth|`` over the joint frequencies of two label columns."""
    if len(real) == 0 or len(synthetic) == 0:
        return 1.0 if len(real) == len(synthetic) else 0.0
    p = real.value_counts(normalize=True)
    q = synthetic.value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def pair_trend(real: pd.DataFrame, synthetic: pd.DataFrame, a: Column, b: Column) -> Score | None:
    """Score of the relationship between columns ``a`` and ``b`` (named as in the two frames)."""
    if _is_numeric_sdtype(a) and _is_numeric_sdtype(b):
        frames = []
        for f in (real, synthetic):
            frames.append(pd.DataFrame({"a": to_numbers(f[a.name], a), "b": to_numbers(f[b.name], b)}))
        value = correlation_similarity(*frames)
        if value is None:
            return None
        return Score("column_pair_trends", "", [a.name, b.name], "CorrelationSimilarity", value)
    ra, sa = _as_labels(real[a.name], synthetic[a.name], a)
    rb, sb = _as_labels(real[b.name], synthetic[b.name], b)
    value = contingency_similarity(
        pd.DataFrame({"a": ra.to_numpy(), "b": rb.to_numpy()}), pd.DataFrame({"a": sa.to_numpy(), "b": sb.to_numpy()})
    )
    return Score("column_pair_trends", "", [a.name, b.name], "ContingencySimilarity", value)


# ---- per table and per relationship ---------------------------------------------------------------------
def _present(table: Table, real: pd.DataFrame, synthetic: pd.DataFrame) -> list[Column]:
    """Columns of ``table`` present in both frames (computed columns may be absent)."""
    return [c for c in table.columns if c.name in real.columns and c.name in synthetic.columns]


def _with_table(score: Score, table: str) -> Score:
    score.table = table
    return score


def table_scores(table: Table, real: pd.DataFrame, synthetic: pd.DataFrame) -> list[Score]:
    """Column shapes, generated-column and pair-trend scores of one table."""
    cols = _present(table, real, synthetic)
    out = []
    for col in cols:
        scorer = column_shape if col.is_modelled else generated_column
        out.append(_with_table(scorer(real[col.name], synthetic[col.name], col), table.name))
    modelled = [c for c in cols if c.is_modelled][:MAX_PAIR_COLUMNS]
    for a, b in itertools.combinations(modelled, 2):
        score = pair_trend(real, synthetic, a, b)
        if score is not None:
            out.append(_with_table(score, table.name))
    return out


def key_text(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    """One text key per row over ``cols``, comparable across sides whose dtypes differ (int64 vs Int64 vs
    float): numeric columns are cast to float first, so 3, 3.0 and Int64 3 give the same key."""
    parts = []
    for c in cols:
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            s = s.astype("float64")
        parts.append(as_text(s).astype(str))
    key = parts[0]
    for part in parts[1:]:
        key = key + "\x1f" + part
    return key


def children_per_parent(parent: pd.DataFrame, child: pd.DataFrame, fk: ForeignKey) -> pd.Series:
    """Number of ``child`` rows referencing each ``parent`` row (zeros included), as float64."""
    counts = key_text(child.dropna(subset=fk.columns), fk.columns).value_counts()
    return key_text(parent, fk.ref_columns).map(counts).fillna(0).astype("float64")


def _join(parent: pd.DataFrame, child: pd.DataFrame, fk: ForeignKey, seed: int) -> pd.DataFrame:
    """Child rows joined with their parent's columns (``parent.`` prefixed), sampled when large."""
    child = child.dropna(subset=fk.columns)
    if len(child) > MAX_JOIN_ROWS:
        child = child.sample(MAX_JOIN_ROWS, random_state=seed)
    renamed = parent.rename(columns={c: f"parent.{c}" for c in parent.columns})
    left = child.assign(__key=key_text(child, fk.columns).to_numpy())
    right = renamed.assign(__key=key_text(parent, fk.ref_columns).to_numpy()).drop_duplicates("__key")
    return left.merge(right, on="__key", how="inner")


def relationship_scores(
    metadata: Metadata, real: Mapping[str, pd.DataFrame], synthetic: Mapping[str, pd.DataFrame], seed: int = 0
) -> list[Score]:
    """Cardinality and inter-table trend scores of every foreign key whose tables are in both datasets."""
    out = []
    for child, fk in metadata.relationships():
        pair = (child.name, fk.ref_table)
        if fk.ref_table not in metadata.tables or any(t not in real or t not in synthetic for t in pair):
            continue
        parent = metadata.table(fk.ref_table)
        cols = fk.columns + fk.ref_columns
        if not all(c in real[child.name] and c in synthetic[child.name] for c in fk.columns) or not all(
            c in real[parent.name] and c in synthetic[parent.name] for c in fk.ref_columns
        ):
            continue
        label = f"{fk.name or ','.join(cols)} -> {parent.name}"
        value = ks_complement(
            children_per_parent(real[parent.name], real[child.name], fk),
            children_per_parent(synthetic[parent.name], synthetic[child.name], fk),
        )
        out.append(Score("cardinality", child.name, [label], "CardinalityKS", value))
        joined = [_join(d[parent.name], d[child.name], fk, seed) for d in (real, synthetic)]
        pcols = [c for c in _present(parent, real[parent.name], synthetic[parent.name]) if c.is_modelled]
        pcols = pcols[:MAX_PAIR_COLUMNS]
        ccols = [c for c in _present(child, real[child.name], synthetic[child.name]) if c.is_modelled]
        ccols = ccols[:MAX_PAIR_COLUMNS]
        for pc, cc in itertools.product(pcols, ccols):
            prefixed = Column(**{**asdict(pc), "name": f"parent.{pc.name}"})
            score = pair_trend(joined[0], joined[1], prefixed, cc)
            if score is not None:
                score.property = "intertable_trends"
                out.append(_with_table(score, child.name))
    return out


# ---- validity ---------------------------------------------------------------------------------------------
def validity_checks(metadata: Metadata, synthetic: Mapping[str, pd.DataFrame]) -> list[ValidityCheck]:
    """Primary-key uniqueness, NOT NULL, enum adherence and foreign-key integrity of the synthetic data."""
    out = []
    for table in metadata:
        frame = synthetic.get(table.name)
        if frame is None:
            continue
        n = len(frame)
        pk = [c for c in table.primary_key if c in frame.columns]
        if pk:
            bad = int((frame.duplicated(subset=pk, keep="first") | frame[pk].isna().any(axis=1)).sum())
            out.append(ValidityCheck(table.name, "primary_key", ",".join(pk), n, bad))
        for col in table.columns:
            if col.name not in frame.columns:
                continue
            if not col.nullable and col.name not in table.primary_key:
                out.append(ValidityCheck(table.name, "not_null", col.name, n, int(frame[col.name].isna().sum())))
            if col.enum_values:
                s = frame[col.name]
                bad = int((s.notna() & ~as_text(s).isin(col.enum_values)).sum())
                out.append(ValidityCheck(table.name, "enum", col.name, n, bad))
        for fk in table.foreign_keys:
            parent = synthetic.get(fk.ref_table)
            if parent is None or not all(c in frame.columns for c in fk.columns):
                continue
            refs = frame.dropna(subset=fk.columns)
            found = key_text(refs, fk.columns).isin(set(key_text(parent, fk.ref_columns)))
            name = fk.name or f"{','.join(fk.columns)} -> {fk.ref_table}"
            out.append(ValidityCheck(table.name, "foreign_key", name, len(refs), int((~found).sum())))
    return out


# ---- privacy ----------------------------------------------------------------------------------------------
def _row_hashes(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    """One hash per row over ``cols``, on a text form so that dtypes that differ between sides still match."""
    text = pd.DataFrame({c: as_text(frame[c]).where(lambda t: t.notna(), _NULL) for c in cols}, index=frame.index)
    return pd.util.hash_pandas_object(text.astype(str), index=False)


def table_privacy(table: Table, real: pd.DataFrame, synthetic: pd.DataFrame) -> TablePrivacy | None:
    """Identical rows and rare labels of one table; None for a table of keys only (nothing to leak).

    Key columns are left out of the row comparison: they are regenerated, so including them would hide copies.
    """
    cols = [c.name for c in _present(table, real, synthetic) if c.sdtype != st.ID]
    if not cols:
        return None
    identical = 0
    if len(synthetic) and len(real):
        identical = int(_row_hashes(synthetic, cols).isin(set(_row_hashes(real, cols))).sum())
    rare = {}
    for col in _present(table, real, synthetic):
        if col.sdtype not in (st.CATEGORICAL, st.BOOLEAN, st.TEXT):
            continue  # text too: a lookup's names are text, generated, and must not come back
        counts = as_text(real[col.name]).dropna().value_counts()
        rare_labels = counts.index[counts < RARE_K]
        if len(rare_labels):
            seen = as_text(synthetic[col.name]).dropna()
            hits = int(pd.Index(rare_labels).isin(seen.unique()).sum())
            if hits:
                rare[col.name] = hits
    numeric = [c for c in _present(table, real, synthetic) if c.is_modelled and _is_numeric_sdtype(c)]
    return TablePrivacy(table.name, len(synthetic), identical, rare, dcr_ratio(real, synthetic, numeric))


def _matrix(frame: pd.DataFrame, cols: list[Column]) -> np.ndarray:
    """Numeric columns as a float matrix, rows with any NULL dropped."""
    parts = {c.name: to_numbers(frame[c.name], c) for c in cols}
    values = pd.DataFrame(parts, index=frame.index).to_numpy(dtype=float)
    # no distance to an infinite or NULL value, nor to one near the float limit (standardising overflows)
    return values[(np.isfinite(values) & (np.abs(values) < 1e300)).all(axis=1)]


def dcr_ratio(real: pd.DataFrame, synthetic: pd.DataFrame, cols: list[Column], seed: int = 0) -> float | None:
    """Distance-to-closest-record ratio (see :attr:`TablePrivacy.dcr_ratio`); None without numeric columns
    or with fewer than two complete real rows."""
    from scipy.spatial import cKDTree

    if not cols:
        return None
    rng = np.random.default_rng(seed)
    r, s = _matrix(real, cols), _matrix(synthetic, cols)
    if len(r) < 2 or len(s) == 0:
        return None
    r = r[rng.permutation(len(r))[:DCR_SAMPLE]]
    s = s[rng.permutation(len(s))[:DCR_SAMPLE]]
    center, scale = r.mean(axis=0), r.std(axis=0)
    scale[scale == 0] = 1.0  # a constant column adds no distance
    r, s = (r - center) / scale, (s - center) / scale
    tree = cKDTree(r)
    synth_dist = tree.query(s, k=1)[0]
    real_dist = tree.query(r, k=2)[0][:, 1]  # k=2: the nearest neighbour other than the row itself
    base = float(np.median(real_dist))
    if base == 0.0:  # the real data is mostly duplicates: no scale to compare with
        return None
    return float(np.median(synth_dist) / base)



# ---- entry point ------------------------------------------------------------------------------------------
def evaluate_frames(
    metadata: Metadata,
    real: Mapping[str, pd.DataFrame],
    synthetic: Mapping[str, pd.DataFrame],
    seed: int = 0,
    *,
    rules: RuleSet | None = None,
    complete: frozenset[str] | None = None,
    detection: bool = True,
) -> QualityReport:
    """Every metric of :func:`dbsynth.report.evaluate` on frames already loaded.

    Args:
        metadata: the tables.
        real: the real rows, per table.
        synthetic: the synthetic rows, per table (tables missing from it are skipped).
        seed: seed of the samples drawn for large joins.
        rules: the rules to score (a fitted model's, user constraints included); None: the declared CHECKs and
            the rules discovered in ``real``.
        complete: the tables of ``real`` read whole, for discovery (None: all).
        detection: compute the detection scores (:func:`dbsynth.report.detection.detection_scores`, seeded
            with ``seed``); False leaves :attr:`QualityReport.detection` empty (it trains a classifier per
            table: one to two seconds on Chinook, four on TPC-H SF 0.1).
    """
    report = QualityReport()
    if rules is None:
        rules = data_rules(metadata, real, complete)
    report.rules = score_rules(metadata, rules, synthetic)
    metadata = copies_of_generated(metadata, rules)
    for table in metadata:
        if table.name in real and table.name in synthetic:
            report.scores.extend(table_scores(table, real[table.name], synthetic[table.name]))
            privacy = table_privacy(table, real[table.name], synthetic[table.name])
            if privacy is not None:
                report.privacy.append(privacy)
    report.scores.extend(relationship_scores(metadata, real, synthetic, seed=seed))
    report.validity.extend(validity_checks(metadata, synthetic))
    if detection:
        from .detection import detection_scores  # detection builds on this module's helpers

        # on the metadata as scored above: a copy of a generated column is generated, not a feature
        report.detection = detection_scores(metadata, real, synthetic, seed=seed)
    from .plots import plot_data  # plots builds on this module's helpers

    report.plots = plot_data(metadata, real, synthetic)
    return report
