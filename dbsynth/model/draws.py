"""Stratified draws the strategies and the sampling engine share: counts that sum to a total, each value of a
learned distribution on its share of the draws.

Independent draws lose rare values and heavy tails by chance (two staff members out of 1,500 who serve every
rental come back as nobody one time in seven); systematic sampling keeps each value at its rate.
"""

from __future__ import annotations

import numpy as np

from .records import CountHistogram

__all__ = ["categorical_draw", "draw_counts", "rank_matched_counts", "round_to_total", "stratified"]


def round_to_total(raw: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Non-negative integers proportional to ``raw`` that sum to ``total`` (largest remainder, random ties)."""
    raw = np.clip(np.nan_to_num(np.asarray(raw, dtype=float)), 0.0, None)
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


def stratified(weights: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """How many of ``m`` draws take each value of a distribution, by systematic sampling: each count is the floor
    or the ceiling of its expectation, with the expectation exact (one random offset), so rare values are kept
    at their rate instead of being lost or doubled by chance as independent draws do."""
    w = np.clip(np.nan_to_num(np.asarray(weights, dtype=float)), 0.0, None)
    if m <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    edges = np.floor(np.cumsum(w) / w.sum() * m + rng.random()).astype(np.int64)
    edges[-1] = m
    return np.diff(edges, prepend=0)


def rank_matched_counts(raw: np.ndarray, hist: CountHistogram, rng: np.random.Generator) -> np.ndarray:
    """Children per parent that follow the learned distribution ``hist`` exactly (stratified), handed out in
    the order of ``raw``: the parent with the largest ``raw`` gets the largest count, ties in random order.

    ``raw`` is what the model drew for each parent (HMA: the count column of the parent's copula, which carries
    its dependence on the parent's other columns); its values are interpolated quantiles, which smear a
    skewed distribution over few parents (eight employees, three of whom serve every customer, come back as
    1, 2, 11 and 21 customers each). Keeping only its ranks keeps the dependence and the exact shape.
    """
    m = len(raw)
    per = stratified(np.asarray(hist.weights), m, rng)
    pool = np.repeat(np.asarray(hist.values, dtype=float), per)  # ascending, m values
    out = np.empty(m)
    out[np.lexsort((rng.random(m), np.asarray(raw, dtype=float)))] = pool
    return out


def categorical_draw(probs: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A category per entry of ``rows`` from the distribution ``probs[rows]``, stratified like
    :func:`draw_counts`: the entries of each row of ``probs`` take each category on its share
    (:func:`stratified`), in random order, so a rare segment (the two staff members who serve every rental) is
    neither lost nor doubled by chance."""
    out = np.zeros(len(rows), dtype=np.int64)
    for r in np.unique(rows):  # a loop over a handful of parent segments
        idx = np.flatnonzero(rows == r)
        per = stratified(probs[r], len(idx), rng)
        out[idx] = rng.permutation(np.repeat(np.arange(probs.shape[1]), per))
    return out


def draw_counts(hist: list[CountHistogram], seg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Children per parent following the count distribution of each parent's segment.

    Stratified, not independent draws: a segment of m parents gets each count value on its share of the m
    parents (:func:`stratified`), in random order. Independent draws lose heavy tails: when two staff out of
    1,500 serve every rental, 1,500 draws give no such staff member one time in seven, and the rentals end up
    spread over everyone.
    """
    out = np.zeros(len(seg), dtype=np.int64)
    for s, h in enumerate(hist):
        rows = np.flatnonzero(seg == s)
        if len(rows):
            per_value = stratified(np.asarray(h.weights), len(rows), rng)
            out[rows] = rng.permutation(np.repeat(np.asarray(h.values, dtype=np.int64), per_value))
    return out
