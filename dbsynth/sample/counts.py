"""How many rows each parent gets: children per driving parent under the learned caps, second parents'
capacities drawn from batch by batch, NULL shares, and the batch plan that cuts a table at whole parents.
"""

from __future__ import annotations

import numpy as np

from ..model.draws import round_to_total
from .refs import room_slots

#: Row positions drawn for a whole table (children's parents, second parents): 4 bytes each, so a table
#: may hold up to 2**31 rows.
POS = np.int32


def capped_counts(raw: np.ndarray, total: int, cmin: int, cmax: int, rng: np.random.Generator) -> np.ndarray:
    """Children per parent: proportional to ``raw``, within [cmin, cmax], summing to ``total`` when it fits.

    Parents over the cap hand their excess to parents with room, in proportion to the room (water filling),
    so the table size follows ``scale`` without breaking the observed range.
    """
    n = len(raw)
    cmax = max(cmax, 1)
    total = int(min(max(total, cmin * n), cmax * n))
    counts = np.clip(round_to_total(raw, total, rng), cmin, cmax)
    for _ in range(50):
        diff = total - int(counts.sum())
        if diff == 0:
            break
        room = (cmax - counts) if diff > 0 else (counts - cmin)
        if room.sum() <= 0:
            break
        step = round_to_total(room.astype(float), min(abs(diff), int(room.sum())), rng)
        counts = np.clip(counts + np.sign(diff) * np.minimum(step, room), cmin, cmax)
    return counts


def nonnull_mask(n: int, null_share: float, rng: np.random.Generator, first_null: bool = False) -> np.ndarray:
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


def capped_refs(
    n: int, n_parent: int, null_share: float, cmax: int | None, rng: np.random.Generator,
    used: np.ndarray | None = None,
) -> np.ndarray:
    """Parent positions of ``n`` rows along a nullable key (-1: NULL), no parent past ``cmax`` children.

    The deferred keys of cycles are filled this way: ``null_share`` of the rows stay NULL, the others take
    parents at random among the free places (each parent at most ``cmax`` children, counting ``used``, the
    children earlier batches gave it, updated here); rows that find no free place stay NULL, which the key
    allows. ``cmax`` None (model files without it): parents drawn uniformly, without a cap.
    """
    refs = np.full(n, -1, dtype=np.int64)
    nonnull = nonnull_mask(n, null_share, rng) & (n_parent > 0)
    want = int(nonnull.sum())
    if not want:
        return refs
    if cmax is None:
        refs[nonnull] = rng.integers(0, n_parent, want)
        return refs
    room = np.clip(max(int(cmax), 1) - (used if used is not None else 0), 0, None)
    room = np.broadcast_to(room, (n_parent,)).astype(np.int64)
    slots = room_slots(room, want, rng)[:want]
    rows = np.flatnonzero(nonnull)[: len(slots)]
    refs[rows] = slots
    if used is not None:
        np.add.at(used, slots, 1)
    return refs


class Capacity:
    """A second parent's room for children, drawn from batch by batch without replacement.

    Each parent's room is its (capped) sampled number of children along the key, so the counts drawn for it
    hold whatever the batch cuts; rows past the total room go to random parents.

    Args:
        cap: children each parent row may take (learned range, summing to the rows expected to refer to it).
        null_share: share of rows whose reference is NULL.
    """

    def __init__(self, cap: np.ndarray, null_share: float) -> None:
        self.left = cap.astype(np.int64)
        """Room left per parent row."""
        self.used = np.zeros(len(cap), dtype=np.int64)
        """Children given to each parent row so far (re-draws of duplicates keep it up to date)."""
        self.null_share = null_share
        """Share of rows whose reference is NULL."""

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Parent positions of ``n`` rows (-1: NULL), taken from the room left (anywhere once it runs out)."""
        refs = np.full(n, -1, dtype=POS)
        pn = len(self.left)
        if pn == 0:
            return refs
        nonnull = nonnull_mask(n, self.null_share, rng)
        want = int(nonnull.sum())
        room = int(self.left.sum())
        if room:
            take = rng.multivariate_hypergeometric(self.left, min(want, room), method="marginals")
        else:
            take = np.zeros(pn, np.int64)
        self.left -= take
        picked = rng.permutation(np.repeat(np.arange(pn, dtype=POS), take))
        if len(picked) < want:  # the capacities could not reach the row count: the rest go anywhere
            picked = np.r_[picked, rng.integers(0, pn, want - len(picked)).astype(POS)]
        refs[nonnull] = picked
        self.used += np.bincount(picked, minlength=pn)
        return refs


def plan_batches(counts: np.ndarray | None, n_free: int, batch_rows: int | None) -> list[tuple[int, int, int, int]]:
    """Batches ``(row_lo, row_hi, parent_lo, parent_hi)``: whole parents' children, then rows with no parent.

    ``counts`` are the children of each driving parent (None for a table without one); ``n_free`` rows follow
    with no parent (roots, or orphans), cut every ``batch_rows``. A batch holds whole parents, at least one,
    so no array the size of the child table is ever needed to cut it.
    """
    out: list[tuple[int, int, int, int]] = []
    step = batch_rows or max(int(counts.sum()) if counts is not None else 0, n_free, 1)
    rows = 0
    if counts is not None and len(counts):
        ends = np.cumsum(counts)
        p = 0
        while p < len(counts):
            start = int(ends[p - 1]) if p else 0
            q = max(int(np.searchsorted(ends, start + step, side="right")), p + 1)
            out.append((start, int(ends[q - 1]), p, q))
            p = q
        rows = int(ends[-1])
    for lo in range(0, n_free, step):
        out.append((rows + lo, rows + min(lo + step, n_free), -1, -1))
    return out or [(0, 0, -1, -1)]
