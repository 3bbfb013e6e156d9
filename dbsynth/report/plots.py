"""Plots of the quality report: real against synthetic, drawn as PNG images embedded in ``report.html``.

Two halves, so that :func:`dbsynth.report.evaluate` stays cheap and the HTML needs no data frame:

- :func:`plot_data` (numpy/pandas only) reduces the frames to small summaries when the report is computed:
  per table, the shares of each histogram bin or label of its first modelled columns, the correlation matrices
  of its numeric columns, and the children-per-parent distribution of each foreign key to a parent;
- :func:`table_images` draws them with matplotlib's Agg canvas (no GUI, no pyplot global state) when the
  HTML is rendered, at most three images per table.

Bounds keep a 100-table schema fast and the page readable: :data:`MAX_PLOT_COLUMNS` columns per table,
:data:`MAX_HEATMAP_COLUMNS` columns per heat map, :data:`MAX_CATEGORIES` labels per bar chart. Labels seen
fewer than :data:`~dbsynth.report.metrics.RARE_K` times in the real data are folded into "(other)", so a plot
never shows a label that could identify someone. Generated columns (PII, text, keys) are not plotted: their
values are meant to differ.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..metadata import sdtypes as st
from ..metadata.records import Column, Metadata, Table
from . import metrics as m

#: Modelled columns per table drawn as histograms or bar charts (the first ones, in table order).
MAX_PLOT_COLUMNS = 8
#: Numeric columns per correlation heat map.
MAX_HEATMAP_COLUMNS = 12
#: Bars per bar chart; the other labels are summed into "(other)".
MAX_CATEGORIES = 10
#: Bins of a histogram.
HIST_BINS = 20
#: Foreign keys per table whose children-per-parent distribution is drawn.
MAX_RELATIONSHIP_PLOTS = 4
#: Largest children-per-parent count drawn one bar per count; above it, histogram bins.
MAX_COUNT_BARS = 30
_OTHER, _NULL_LABEL = "(other)", "(null)"
#: Seconds since the epoch of 0001-01-02 and 9999-12-30: what a date axis can draw (a day inside each end).
_FIRST_DATE_S, _LAST_DATE_S = -62135510400.0, 253402128000.0


@dataclass
class Distribution:
    """One panel: the shares of real and synthetic values per histogram bin or per label."""

    title: str
    """Column name, or the foreign key for a children-per-parent panel."""
    real: list[float]
    """Share of the real values in each bin / label (sums to 1, NULLs aside for histograms)."""
    synthetic: list[float]
    edges: list[float] = field(default_factory=list)
    """Histogram bin edges (``len(real) + 1``); empty for bar charts."""
    labels: list[str] = field(default_factory=list)
    """Bar labels; empty for histograms."""
    datetime: bool = False
    """Edges are seconds since the epoch, drawn as dates."""


@dataclass
class Correlations:
    """Pearson correlation matrices of a table's numeric columns (NaN where a column is constant)."""

    columns: list[str]
    real: list[list[float]]
    synthetic: list[list[float]]


@dataclass
class TablePlots:
    """Everything drawn for one table."""

    distributions: list[Distribution] = field(default_factory=list)
    correlations: Correlations | None = None
    children: list[Distribution] = field(default_factory=list)
    """Children per parent, one panel per foreign key of this (child) table."""
    omitted_columns: int = 0
    """Modelled columns left out by :data:`MAX_PLOT_COLUMNS`."""


# ---- summaries (computed by evaluate) -----------------------------------------------------------------------
def _shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return (counts / total).tolist() if total else [0.0] * len(counts)


def histogram(
    title: str, real: pd.Series, synthetic: pd.Series, *, integer: bool = False, datetime: bool = False
) -> Distribution:
    """Shares of two numeric samples on common bins spanning both (NULLs already dropped).

    ``integer``: one bar per value when the values are small counts (children per parent).
    """
    r, s = real.to_numpy(dtype=float), synthetic.to_numpy(dtype=float)
    r, s = r[np.isfinite(r)], s[np.isfinite(s)]  # +-Infinity (floats) has no bin to fall in
    if datetime:  # matplotlib draws years 1..9999: marker stamps (infinity, zero dates) are not drawn
        r, s = (x[(x >= _FIRST_DATE_S) & (x <= _LAST_DATE_S)] for x in (r, s))
    both = np.concatenate([r, s])
    if integer and len(both) and both.max() <= MAX_COUNT_BARS:
        values = np.arange(int(both.max()) + 1)
        counts = [np.bincount(x.astype(int), minlength=len(values)) for x in (r, s)]
        return Distribution(title, _shares(counts[0]), _shares(counts[1]), labels=[str(v) for v in values])
    lo, hi = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
    with np.errstate(over="ignore"):
        span = hi - lo
    if not np.isfinite(span) or span > 1e300:
        # values at both ends of the float range (+-1.8e308) leave no finite bin width: the central 98% is drawn
        lo, hi = (float(v) for v in np.quantile(both, [0.01, 0.99], method="inverted_cdf"))
        with np.errstate(over="ignore"):
            span = hi - lo
        if not np.isfinite(span) or span > 1e300:  # most values sit at the float limits: one bar per value
            return bars(title, pd.Series(r).map(repr), pd.Series(s).map(repr))
        r, s = r[(r >= lo) & (r <= hi)], s[(s >= lo) & (s <= hi)]
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, HIST_BINS + 1)
    counts = [np.histogram(x, bins=edges)[0] for x in (r, s)]
    return Distribution(title, _shares(counts[0]), _shares(counts[1]), edges=edges.tolist(), datetime=datetime)


def bars(title: str, real: pd.Series, synthetic: pd.Series) -> Distribution:
    """Shares of the most frequent real labels; rare, unseen and further labels summed into "(other)"."""
    r = m.as_text(real).where(lambda t: t.notna(), _NULL_LABEL).astype(str)
    s = m.as_text(synthetic).where(lambda t: t.notna(), _NULL_LABEL).astype(str)
    counts = r.value_counts()
    shown = [label for label, n in counts.items() if n >= m.RARE_K or label == _NULL_LABEL][:MAX_CATEGORIES]
    labels = shown + ([_OTHER] if len(shown) < len(counts) or not s.isin(shown).all() else [])
    shares = []
    for side in (r, s):
        folded = side.where(side.isin(shown), _OTHER)
        shares.append(folded.value_counts(normalize=True).reindex(labels, fill_value=0.0).tolist())
    return Distribution(title, shares[0], shares[1], labels=[label[:18] for label in labels])


def column_distribution(real: pd.Series, synthetic: pd.Series, col: Column) -> Distribution:
    """The panel of one modelled column: a histogram (numeric, datetime) or a bar chart (the others)."""
    if col.sdtype in (st.NUMERICAL, st.DATETIME):
        datetime = col.sdtype == st.DATETIME and col.type != st.TIME
        return histogram(col.name, m.to_numbers(real, col), m.to_numbers(synthetic, col), datetime=datetime)
    return bars(col.name, real, synthetic)


def _correlations(real: pd.DataFrame, synthetic: pd.DataFrame, cols: list[Column]) -> Correlations | None:
    numeric = [c for c in cols if c.sdtype in (st.NUMERICAL, st.DATETIME)][:MAX_HEATMAP_COLUMNS]
    if len(numeric) < 2:
        return None
    mats = []
    for frame in (real, synthetic):
        values = pd.DataFrame({c.name: m.to_numbers(frame[c.name], c) for c in numeric}, index=frame.index)
        with np.errstate(invalid="ignore", divide="ignore"):
            mats.append(values.corr().to_numpy().tolist())
    return Correlations([c.name for c in numeric], mats[0], mats[1])


def table_plot_data(table: Table, real: pd.DataFrame, synthetic: pd.DataFrame) -> TablePlots:
    """Distributions and correlations of one table's modelled columns."""
    cols = [c for c in table.columns if c.is_modelled and c.name in real.columns and c.name in synthetic.columns]
    shown = cols[:MAX_PLOT_COLUMNS]
    return TablePlots(
        distributions=[column_distribution(real[c.name], synthetic[c.name], c) for c in shown],
        correlations=_correlations(real, synthetic, cols),
        omitted_columns=len(cols) - len(shown),
    )


def plot_data(
    metadata: Metadata, real: Mapping[str, pd.DataFrame], synthetic: Mapping[str, pd.DataFrame]
) -> dict[str, TablePlots]:
    """The summaries drawn by :func:`table_images`, per table present on both sides."""
    out = {
        t.name: table_plot_data(t, real[t.name], synthetic[t.name])
        for t in metadata
        if t.name in real and t.name in synthetic
    }
    for child, fk in metadata.relationships():
        parent = fk.ref_table
        if child.name not in out or parent not in out or len(out[child.name].children) >= MAX_RELATIONSHIP_PLOTS:
            continue
        sides = (real, synthetic)
        if not all(
            set(fk.columns) <= set(d[child.name].columns) and set(fk.ref_columns) <= set(d[parent].columns)
            for d in sides
        ):
            continue
        counts = [m.children_per_parent(d[parent], d[child.name], fk) for d in sides]
        title = f"{', '.join(fk.columns)} -> {parent}"
        out[child.name].children.append(histogram(title, *counts, integer=True))
    return out


# ---- drawing (at render time) ---------------------------------------------------------------------------------
#: Colours of the real and the synthetic side in every plot.
REAL_COLOR, SYNTHETIC_COLOR = "#4477aa", "#ee7733"


def _png(fig) -> str:
    """The figure as base64 PNG text (no 'Software' tag: the page has no external reference at all)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _panel(ax, d: Distribution) -> None:
    if d.labels:
        x = np.arange(len(d.labels))
        ax.bar(x - 0.2, d.real, width=0.4, color=REAL_COLOR, label="real")
        ax.bar(x + 0.2, d.synthetic, width=0.4, color=SYNTHETIC_COLOR, label="synthetic")
        step = -(-len(d.labels) // 12)  # at most 12 tick labels (children-per-parent counts run to 30)
        slanted = step == 1 and len(d.labels) > 4 and max(len(label) for label in d.labels) > 3
        ax.set_xticks(
            x[::step], d.labels[::step], rotation=60 if slanted else 0, ha="right" if slanted else "center", fontsize=7
        )
    else:
        edges = np.asarray(d.edges) / 86400.0 if d.datetime else np.asarray(d.edges)  # matplotlib dates: days
        ax.stairs(d.real, edges, fill=True, color=REAL_COLOR, alpha=0.45, label="real")
        ax.stairs(d.synthetic, edges, color=SYNTHETIC_COLOR, linewidth=1.8, label="synthetic")
        ax.set_xlim(edges[0], edges[-1])  # no margin: past year 1 or 9999 a date axis cannot draw
        if d.datetime:
            import matplotlib.dates as mdates

            locator = mdates.AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.tick_params(labelsize=7)
    ax.set_title(d.title, fontsize=9)
    ax.tick_params(axis="y", labelsize=7)


def _grid(panels: list[Distribution], ylabel: str) -> str:
    from matplotlib.figure import Figure

    ncols = min(4, len(panels))
    nrows = -(-len(panels) // ncols)
    fig = Figure(figsize=(3.3 * ncols, 2.6 * nrows), layout="tight")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, d in zip(axes, panels):
        _panel(ax, d)
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    axes[0].set_ylabel(ylabel, fontsize=8)
    axes[0].legend(fontsize=7, frameon=False)
    return _png(fig)


def _heatmaps(c: Correlations) -> str:
    from matplotlib.figure import Figure

    k = len(c.columns)
    side = max(3.0, 0.38 * k + 1.2)
    fig = Figure(figsize=(2 * side + 0.8, side), layout="constrained")
    axes = fig.subplots(1, 2)
    images = []
    for ax, matrix, name in zip(axes, (c.real, c.synthetic), ("real", "synthetic")):
        images.append(ax.imshow(np.asarray(matrix, dtype=float), vmin=-1, vmax=1, cmap="RdBu_r"))
        ax.set_xticks(range(k), c.columns, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(k), c.columns if name == "real" else [""] * k, fontsize=7)
        ax.set_title(f"{name} correlations", fontsize=9)
    fig.colorbar(images[-1], ax=axes, shrink=0.8, label="Pearson r")
    return _png(fig)


def table_images(plots: TablePlots | None) -> list[tuple[str, str]]:
    """The images of one table as ``(caption, base64 PNG)``: distributions, correlations, children per parent."""
    if plots is None:
        return []
    out = []
    if plots.distributions:
        shown, omitted = len(plots.distributions), plots.omitted_columns
        more = f" (first {shown}; {omitted} more not drawn)" if omitted else ""
        caption = f"Real vs synthetic distributions of the modelled columns{more}"
        out.append((caption, _grid(plots.distributions, "share of rows")))
    if plots.correlations is not None:
        out.append(("Correlation heat maps of the numeric columns (real, synthetic)", _heatmaps(plots.correlations)))
    if plots.children:
        caption = "Children per parent, per foreign key (share of parent rows)"
        out.append((caption, _grid(plots.children, "share of parents")))
    return out
