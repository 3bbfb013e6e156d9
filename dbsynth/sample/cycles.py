"""Deferred foreign keys: self-references grown as forests with the learned shape, and the keys of cycles,
filled once their parent's rows exist (closing the learned share of two-table cycles).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.links import positions
from ..model.records import DeferredSpec


def sample_forest(n: int, root_share: float, tree: dict, rng: np.random.Generator) -> np.ndarray:
    """Parent position of each of ``n`` rows (-1: root) forming a forest with the learned shape.

    Roots come first, then each level's nodes draw their number of children from that level's learned
    fan-out, so every reference points to an earlier row (no cycle) and the depth never exceeds the learned
    one. Rows left when the levels run out join nodes above the deepest level where the learned maximum
    fan-out leaves room; rows that find no room stay roots (the key is nullable, while a node with more
    children, or a deeper tree, than the source ever had would not be a shape the source has).
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
        cap = max((max(fo["values"]) for fo in tree["fanout"]), default=1)
        used = np.bincount(refs[:nxt][refs[:nxt] >= 0], minlength=n)[eligible]
        pool = rng.permutation(np.repeat(eligible, np.clip(cap - used, 0, None)))
        need = n - nxt
        take = min(need, len(pool))
        refs[nxt: nxt + take] = pool[:take]  # the rest (no room under the learned maximum) stay roots
    return refs


def close_refs(refs: np.ndarray, e, back, spec: DeferredSpec, child: pd.DataFrame, parent: pd.DataFrame,
               rng: np.random.Generator) -> np.ndarray:
    """Point the learned ``spec.closed_share`` of ``child``'s references along ``e`` at parent rows that refer
    back to the same child row (the manager works at the store), where such a row exists. Rows that learned at
    most one child per parent (a unique manager) keep distinct parents."""
    share = float(spec.closed_share) if spec.closed_share is not None else 0.0
    n, pn = len(child), len(parent)
    if back is None or share <= 0 or not n or not pn:
        return refs
    if not all(c in parent.columns for c in back.fk.columns):
        return refs
    owner = positions(child, back.fk.ref_columns, parent, back.fk.columns)  # parent row -> child row it is in
    perm = rng.permutation(pn)
    cand = np.full(n, -1, dtype=np.int64)
    hit = owner[perm] >= 0
    rows, first = np.unique(owner[perm][hit], return_index=True)
    cand[rows] = perm[hit][first]
    close = (rng.uniform(size=n) < share) & (cand >= 0)
    refs = refs.copy()
    refs[close] = cand[close]
    if spec.count_max == 1:  # keep one child per parent: others that now collide take unused parents
        used = np.zeros(pn, dtype=bool)
        used[refs[close]] = True
        free = iter(np.flatnonzero(~used & ~np.isin(np.arange(pn), refs[~close & (refs >= 0)])))
        seen = used.copy()
        for i in np.flatnonzero(~close & (refs >= 0)):
            if seen[refs[i]]:
                refs[i] = next(free, -1)
            if refs[i] >= 0:
                seen[refs[i]] = True
    return refs
