"""Univariate marginal distributions fitted in closed form (no iterative scipy fits).

A marginal is a plain JSON-able dict ``{"family": ..., ...params}`` so that it can be stored in a model file.
Every function is vectorised over the values.
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
    lo, hi = (float(x.min()), float(x.max())) if len(x) else (0.0, 0.0)
    if family == "unit":  # latent already on [0, 1] with the right law (categorical frequency intervals)
        return {"family": "uniform", "low": 0.0, "high": 1.0}
    if family == "auto":
        return _fit_auto(x)
    if family not in FAMILIES:
        raise BadInputError(f"unknown distribution '{family}' (known: auto, {', '.join(FAMILIES)})")
    if hi <= lo:  # constant column: every family degenerates to a point
        return {"family": "constant", "value": lo}
    if family == "empirical":
        probs = np.linspace(0.0, 1.0, min(EMPIRICAL_POINTS, max(len(x), 2)))
        return {"family": "empirical", "probs": probs, "quantiles": np.quantile(x, probs)}
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
