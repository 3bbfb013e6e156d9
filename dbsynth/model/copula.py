"""The Gaussian copula of one table: marginals per latent column, one correlation matrix of normal scores.

Stored marginals hold no value of a single real row: empirical quantiles are window means of k order
statistics (see :mod:`dbsynth.model.univariate`); normal scores still come from the rows' mid-ranks, so the
correlation is what the rows say.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from . import univariate


def normal_scores(x: np.ndarray, marginal: dict) -> np.ndarray:
    """Normal scores of ``x`` under ``marginal``.

    The empirical family uses mid-ranks (ties share one score), so a column of few distinct values does not
    get spurious spread; parametric families use their CDF.
    """
    n = len(x)
    if n == 0:
        return np.zeros(0)
    if marginal["family"] == "empirical":
        u = (mid_ranks(np.asarray(x, dtype=float)[:, None])[:, 0] + 0.5) / n
    else:
        u = univariate.cdf(marginal, x)
    eps = 0.5 / max(n, 1)
    return special.ndtri(np.clip(u, eps, 1 - eps))


def scores_against(x: np.ndarray, ref_sorted: np.ndarray, marginal: dict) -> np.ndarray:
    """Normal scores of new values ``x`` on the scale :func:`normal_scores` gave the fitted values.

    For the empirical family a value's score is its mid-rank among the sorted fitted values ``ref_sorted``, so
    scoring the fitted values themselves gives exactly :func:`normal_scores`, and rows read in later chunks
    land where they would have had they been fitted. Parametric families use their CDF, as there.
    """
    n = len(ref_sorted)
    if n == 0 or len(x) == 0:
        return np.zeros(len(x))
    if marginal["family"] == "empirical":
        left = np.searchsorted(ref_sorted, x, side="left")
        right = np.searchsorted(ref_sorted, x, side="right")
        u = (left + right) / (2.0 * n)
    else:
        u = univariate.cdf(marginal, x)
    eps = 0.5 / n
    return special.ndtri(np.clip(u, eps, 1 - eps))


def from_normal(z: np.ndarray, marginal: dict) -> np.ndarray:
    """Values of normal scores ``z`` under ``marginal``."""
    return univariate.ppf(marginal, special.ndtr(z))


def correlation(z: np.ndarray) -> np.ndarray:
    """Correlation of the columns of ``z`` (rows x columns); constant columns get 0 off the diagonal."""
    k = z.shape[1]
    if k == 0 or len(z) < 2:
        return np.eye(k)
    zc = z - z.mean(axis=0)
    sd = zc.std(axis=0)
    ok = sd > 1e-12
    zc[:, ok] /= sd[ok]
    zc[:, ~ok] = 0.0
    r = zc.T @ zc / len(z)
    np.fill_diagonal(r, 1.0)
    return np.clip(r, -1.0, 1.0)


def sqrt_psd(cov: np.ndarray) -> np.ndarray:
    """A matrix ``L`` with ``L @ L.T == cov`` for a (possibly singular) symmetric PSD ``cov``."""
    if cov.size == 0:
        return cov
    w, v = np.linalg.eigh((cov + cov.T) / 2)
    return v * np.sqrt(np.clip(w, 0.0, None))


def sorted_quantiles(xs: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``np.quantile(xs, probs, axis=0)`` (linear method, the same values) of columns already sorted along
    axis 0: np.quantile partitions the data again, which costs more than the sort on the small tables."""
    n = len(xs)
    v = (n - 1) * np.asarray(probs, dtype=float)
    lo = np.floor(v).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    t = (v - lo).reshape((-1,) + (1,) * (xs.ndim - 1))
    a, b = xs[lo], xs[hi]
    d = b - a
    out = a + d * t
    np.subtract(b, d * (1 - t), out=out, where=t >= 0.5)  # numpy's lerp: exact at both ends
    return out


def _empirical_fit(x: np.ndarray) -> tuple[list[dict], np.ndarray]:
    """Empirical marginals and mid-rank normal scores of every column of ``x`` at once (one sort per table,
    not per column): the same values as :func:`univariate.fit_marginal` and :func:`normal_scores`."""
    n, d = x.shape
    order, xs, mid = _sorted_mid_ranks(x)
    probs = np.linspace(0.0, 1.0, min(univariate.EMPIRICAL_POINTS, max(n, 2)))
    # window means of k order statistics, never a value of fewer than k rows (see dbsynth.model.univariate)
    quantiles = univariate.private_quantiles(xs, probs)
    marginals = [
        {"family": "constant", "value": float(quantiles[0, j])} if quantiles[-1, j] <= quantiles[0, j]
        else {"family": "empirical", "probs": probs, "quantiles": np.ascontiguousarray(quantiles[:, j])}
        for j in range(d)
    ]
    u = np.empty((n, d))
    np.put_along_axis(u, order, (mid + 0.5) / n, axis=0)
    eps = 0.5 / n
    return marginals, special.ndtri(np.clip(u, eps, 1 - eps))


def _sorted_mid_ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of ``x`` (rows x columns): the sorting order, the sorted values and each sorted value's
    0-based mid-rank (ties share the middle of their run)."""
    n, d = x.shape
    order = np.argsort(x, axis=0, kind="stable")
    xs = np.take_along_axis(x, order, axis=0)
    # a run's first and last row by running max / min
    rows = np.arange(n)[:, None]
    new = np.ones((n, d), dtype=bool)
    new[1:] = xs[1:] != xs[:-1]
    last = np.ones((n, d), dtype=bool)
    last[:-1] = new[1:]
    start = np.maximum.accumulate(np.where(new, rows, 0), axis=0)
    end = np.minimum.accumulate(np.where(last, rows, n - 1)[::-1], axis=0)[::-1]
    return order, xs, (start + end) / 2.0


def mid_ranks(x: np.ndarray) -> np.ndarray:
    """0-based average ranks of each column of ``x`` (``scipy.stats.rankdata(x, "average", axis=0) - 1``,
    without importing scipy.stats, which costs half a second at start-up)."""
    order, _, mid = _sorted_mid_ranks(x)
    out = np.empty(x.shape)
    np.put_along_axis(out, order, mid, axis=0)
    return out


def fit(x: np.ndarray, families: list[str]) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """Fit marginals and the correlation of normal scores.

    Args:
        x: rows x latent columns, no NaN.
        families: marginal family of each column.

    Returns:
        (marginals, correlation, normal scores of ``x``).
    """
    d = x.shape[1]
    marginals: list[dict] = [{}] * d
    z = np.zeros((len(x), d))
    emp = [j for j in range(d) if families[j] == "empirical"]
    if emp and len(x):
        emp_marginals, z[:, emp] = _empirical_fit(x[:, emp])
        for j, m in zip(emp, emp_marginals):
            marginals[j] = m
    for j in range(d):
        if not (emp and len(x)) or families[j] != "empirical":
            marginals[j] = univariate.fit_marginal(x[:, j], families[j])
            z[:, j] = normal_scores(x[:, j], marginals[j])
    return marginals, correlation(z), z
