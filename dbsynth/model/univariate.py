"""Univariate marginal distributions fitted in closed form (no iterative scipy fits).

A marginal is a plain JSON-able dict ``{"family": ..., ...params}`` so that it can be stored in a model file.
Every function is vectorised over the values.

Privacy of stored numbers: a model file must not hold a value of a single real row (the quantiles of an
8-row table would be its 8 birth dates). Every number a marginal stores that is taken from the data's order
statistics (empirical quantiles, the range ends of the parametric families, the clipping range and NULL fill
of a transform) is a *window mean*: the mean of :data:`MIN_ROWS_PER_VALUE` (k) consecutive order statistics
around the quantile's position (all rows when there are fewer). A value that k or more rows share is thus
kept exactly (a 1..5 rating keeps its levels); a stored number that still coincides with a value fewer than
k rows hold is moved 0.29 (1 - 1/sqrt 2) of the smallest gap between distinct values (bounded noise of a
fixed size, so it can land on no other value). Means of windows that span several values are moved by that
fraction of the gap divided by k as well: values on a grid (integers, cents, whole days) would otherwise give
means on the grid, often a value of another row. Moments (mean, standard deviation) are aggregates and are
kept as they are. On large columns the window is a few rows out of thousands: shapes are unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..errors import BadInputError

#: Families one can ask for; ``auto`` picks the parametric one with the smallest KS statistic.
FAMILIES = ("empirical", "norm", "truncnorm", "uniform", "beta", "gamma")
PARAMETRIC = ("norm", "truncnorm", "uniform", "beta", "gamma")

#: Number of quantiles kept by the empirical family (a summary, never the rows of a large table).
EMPIRICAL_POINTS = 101

#: k: every stored number derived from order statistics is the mean of at least this many rows, and no
#: stored number equals a value held by fewer rows (see the module docstring).
MIN_ROWS_PER_VALUE = 5


def private_quantiles(xs: np.ndarray, probs: np.ndarray, k: int = MIN_ROWS_PER_VALUE) -> np.ndarray:
    """Quantiles of sorted values ``xs`` at ``probs`` that hold no value of fewer than ``k`` rows.

    Each quantile is the mean of the ``k`` order statistics around its position (clamped at the ends; all
    of them when there are fewer than ``k``), then any result that still equals a value shared by fewer
    than ``k`` rows is moved off it (see :func:`avoid_rare`). Non-decreasing in ``probs``.

    Args:
        xs: the values, sorted ascending, no NaN (1-D, or 2-D with one column per variable).
        probs: probability levels in [0, 1].
        k: the least number of rows behind every stored number.

    Returns:
        The quantiles (``len(probs)`` rows, as many columns as ``xs``).
    """
    xs = np.asarray(xs, dtype=float)
    flat = xs.ndim == 1
    if flat:
        xs = xs[:, None]
    n = len(xs)
    probs = np.asarray(probs, dtype=float)
    if n == 0:
        out = np.zeros((len(probs), xs.shape[1]))
        return out[:, 0] if flat else out
    w = min(k, n)
    csum = np.vstack([np.zeros((1, xs.shape[1])), np.cumsum(xs, axis=0)])
    # window [s, s + w) centred on the quantile's position (n - 1) p
    start = np.clip(np.rint((n - 1) * probs - (w - 1) / 2.0).astype(np.intp), 0, n - w)
    out = (csum[start + w] - csum[start]) / w
    # Values on a grid (integers, cents, whole days) have window means on the grid's 1/w lattice, often on a
    # value of another row: an irrational fraction of the smallest gap keeps every mean off the grid.
    d = np.diff(xs, axis=0)
    gap = np.where(d > 0, d, np.inf).min(axis=0, initial=np.inf) if n > 1 else np.full(xs.shape[1], np.inf)
    out = out + np.where(np.isfinite(gap), _OFF_GRID * gap / w, 0.0)
    # a window inside a run of equal values gives that value exactly (the cumulative sum may be off by ulps)
    same = xs[start] == xs[start + w - 1]
    out = np.where(same, xs[start], out)
    out = np.maximum.accumulate(out, axis=0)
    for j in range(xs.shape[1]):
        out[:, j] = avoid_rare(out[:, j], xs[:, j], k)
    return out[:, 0] if flat else out


#: Fraction of the smallest gap between distinct values by which stored numbers are moved off values
#: (irrational: a multiple of a grid step moved by it lands on no grid value).
_OFF_GRID = 1.0 - 2.0**-0.5


def avoid_rare(values: np.ndarray, xs: np.ndarray, k: int = MIN_ROWS_PER_VALUE) -> np.ndarray:
    """``values`` with every entry that equals a value held by fewer than ``k`` rows of sorted ``xs`` moved
    up by 0.29 of the smallest gap between distinct values of ``xs`` (so it lands on no other value, nor on
    the grid the values lie on); a column of one distinct value moves by 1.2% of its magnitude (at least
    0.29). Order is kept.
    """
    values = np.array(values, dtype=float, copy=True)
    if not len(xs) or not len(values):
        return values
    xs = np.asarray(xs, dtype=float)
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])  # xs is sorted: runs of equal values
    uniq, counts = xs[starts], np.diff(np.r_[starts, len(xs)])
    rare = uniq[counts < k]
    if not len(rare):
        return values
    gaps = np.diff(uniq)
    gap = float(gaps.min()) if len(gaps) else max(abs(float(uniq[0])) * 0.04, 1.0)
    scale = np.maximum(np.abs(rare), 1.0)
    idx = np.clip(np.searchsorted(rare, values), 0, len(rare) - 1)
    near = np.zeros(len(values), dtype=bool)
    for cand in (idx, np.maximum(idx - 1, 0)):
        near |= np.abs(values - rare[cand]) <= 1e-9 * scale[cand]
    if near.any():
        values[near] += _OFF_GRID * gap
        values = np.maximum.accumulate(values)
    return values


def private_range(x: np.ndarray, k: int = MIN_ROWS_PER_VALUE) -> tuple[float, float]:
    """The ends of ``x``'s range as stored numbers: the means of its ``k`` smallest and ``k`` largest values
    (moved off values fewer than ``k`` rows hold), not the minimum and maximum, which are single rows."""
    xs = np.sort(np.asarray(x, dtype=float))
    lo, hi = private_quantiles(xs, np.array([0.0, 1.0]), k)
    return float(lo), float(hi)


def _stats():
    """scipy.stats, imported on first use: only the parametric families need it, and importing it costs half a
    second of every process's start-up."""
    from scipy import stats

    return stats


def _moments(x: np.ndarray) -> tuple[float, float]:
    mu = float(np.mean(x))
    sd = float(np.std(x))
    return mu, sd if sd > 0 else 1e-9


def fit_marginal(x: np.ndarray, family: str = "empirical") -> dict:
    """Fit one marginal to ``x`` (float values, no NaN).

    Args:
        x: the values.
        family: one of :data:`FAMILIES` or ``auto``.

    Returns:
        The marginal as a JSON-able dict.

    Raises:
        BadInputError: for an unknown family.
    """
    x = np.asarray(x, dtype=float)
    lo, hi = private_range(x) if len(x) else (0.0, 0.0)
    if family == "unit":  # latent already on [0, 1] with the right law (categorical frequency intervals)
        return {"family": "uniform", "low": 0.0, "high": 1.0}
    if family == "auto":
        return _fit_auto(x)
    if family not in FAMILIES:
        raise BadInputError(f"unknown distribution '{family}' (known: auto, {', '.join(FAMILIES)})")
    if hi <= lo:  # constant column (or fewer than k rows): every family degenerates to a point
        return {"family": "constant", "value": lo}
    if family == "empirical":
        probs = np.linspace(0.0, 1.0, min(EMPIRICAL_POINTS, max(len(x), 2)))
        return {"family": "empirical", "probs": probs, "quantiles": private_quantiles(np.sort(x), probs)}
    mu, sd = _moments(x)
    if family == "norm":
        return {"family": "norm", "loc": mu, "scale": sd}
    if family == "truncnorm":
        return {"family": "truncnorm", "loc": mu, "scale": sd, "low": lo, "high": hi}
    if family == "uniform":
        return {"family": "uniform", "low": lo, "high": hi}
    if family == "beta":  # method of moments on [lo, hi] widened a hair so the ends have density
        pad = (hi - lo) * 1e-3
        a0, b0 = lo - pad, hi + pad
        m = (mu - a0) / (b0 - a0)
        v = (sd / (b0 - a0)) ** 2
        common = max(m * (1 - m) / max(v, 1e-12) - 1.0, 1e-3)
        return {"family": "beta", "a": max(m * common, 1e-3), "b": max((1 - m) * common, 1e-3), "low": a0, "high": b0}
    # gamma: method of moments on the shift above the minimum
    loc = lo - (hi - lo) * 1e-3
    m = mu - loc
    var = sd**2
    return {"family": "gamma", "a": max(m * m / var, 1e-3), "scale": max(var / m, 1e-12), "loc": loc}


def _ks(x_sorted: np.ndarray, marginal: dict) -> float:
    n = len(x_sorted)
    f = cdf(marginal, x_sorted)
    upper = np.arange(1, n + 1) / n
    return float(np.max(np.maximum(upper - f, f - (upper - 1.0 / n))))


def _fit_auto(x: np.ndarray) -> dict:
    xs = np.sort(x)
    best, best_ks = None, np.inf
    for fam in PARAMETRIC:
        m = fit_marginal(x, fam)
        if m["family"] == "constant":
            return m
        ks = _ks(xs, m)
        if ks < best_ks:  # strict: ties keep the earlier (simpler) family, deterministically
            best, best_ks = m, ks
    assert best is not None  # FAMILIES is never empty
    return best


def cdf(m: dict, x: np.ndarray) -> np.ndarray:
    """Cumulative probability of ``x`` under marginal ``m``."""
    x = np.asarray(x, dtype=float)
    fam = m["family"]
    if fam == "constant":
        return np.full(x.shape, 0.5)
    if fam == "empirical":
        return np.interp(x, np.asarray(m["quantiles"]), np.asarray(m["probs"]))
    if fam == "norm":
        return special.ndtr((x - m["loc"]) / m["scale"])
    if fam == "truncnorm":
        a, b = (m["low"] - m["loc"]) / m["scale"], (m["high"] - m["loc"]) / m["scale"]
        return _stats().truncnorm.cdf(x, a, b, loc=m["loc"], scale=m["scale"])
    if fam == "uniform":
        return np.clip((x - m["low"]) / (m["high"] - m["low"]), 0.0, 1.0)
    if fam == "beta":
        return _stats().beta.cdf(x, m["a"], m["b"], loc=m["low"], scale=m["high"] - m["low"])
    if fam == "gamma":
        return _stats().gamma.cdf(x, m["a"], loc=m["loc"], scale=m["scale"])
    raise BadInputError(f"unknown distribution '{fam}'")


def ppf(m: dict, u: np.ndarray) -> np.ndarray:
    """Inverse of :func:`cdf`: values at probabilities ``u``."""
    u = np.asarray(u, dtype=float)
    fam = m["family"]
    if fam == "constant":
        return np.full(u.shape, m["value"])
    if fam == "empirical":
        return np.interp(u, np.asarray(m["probs"]), np.asarray(m["quantiles"]))
    if fam == "norm":
        return m["loc"] + m["scale"] * special.ndtri(u)
    if fam == "truncnorm":
        a, b = (m["low"] - m["loc"]) / m["scale"], (m["high"] - m["loc"]) / m["scale"]
        return _stats().truncnorm.ppf(u, a, b, loc=m["loc"], scale=m["scale"])
    if fam == "uniform":
        return m["low"] + u * (m["high"] - m["low"])
    if fam == "beta":
        return _stats().beta.ppf(u, m["a"], m["b"], loc=m["low"], scale=m["high"] - m["low"])
    if fam == "gamma":
        return _stats().gamma.ppf(u, m["a"], loc=m["loc"], scale=m["scale"])
    raise BadInputError(f"unknown distribution '{fam}'")
