"""Keys and references shared by the multi-table synthesizers (HMA, HSA, Independent).

These are the pieces every multi-table synthesizer needs once the rows of a table exist: which parent row each
child row points to, so that every foreign key is valid and every key unique, for every schema shape
(several parents, two keys to one parent, composite and nested keys, nullable keys, self-references and
cycles). HMA samples in batches and passes what spans batches (``used`` counts, ``seen`` keys, ``prior``
caps); the segment-based synthesizers draw a table at once and leave those out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SchemaMismatchError
from ..metadata import Metadata, Table
from ..metadata.records import ForeignKey
from ..sample.repair import SeenKeys, tie_break_columns, unique_hashes
from .fold import KeyIndex, count_histogram, stable_seed, tree_shape  # noqa: F401 (count_histogram: shared from here)

#: Rows per batch of the synthesizers' ``iter_sample`` when not told otherwise.
DEFAULT_BATCH_ROWS = 50_000

#: ``frame.attrs`` flag of a batch that fills deferred foreign keys of rows sent earlier (the writer's flag).
UPDATE_FLAG = "dbsynth_update"


def join_batches(metadata: Metadata, batches) -> dict[str, pd.DataFrame]:
    """Every table in memory from ``(table, frame)`` batches: a table's batches joined in order, then its update
    frames (:data:`UPDATE_FLAG`, rows in the table's order) applied by position."""
    parts: dict[str, list[pd.DataFrame]] = {}
    updates: dict[str, list[pd.DataFrame]] = {}
    for t, frame in batches:
        (updates if frame.attrs.get(UPDATE_FLAG) else parts).setdefault(t, []).append(frame)
    out = {t: f[0] if len(f) == 1 else pd.concat(f, ignore_index=True) for t, f in parts.items()}
    for t, frames in updates.items():
        upd = pd.concat(frames, ignore_index=True)
        for c in upd.columns:
            if c not in metadata.tables[t].primary_key:
                out[t][c] = upd[c].to_numpy()
    return out


def root_rows(n_source: int, scale: float) -> int:
    """Rows of a table drawn without a parent, at ``scale``: the source's rows scaled, and at least one at a
    positive scale when the source has any (a five-row lookup table at scale 0.1 would otherwise vanish, and
    with it every table that needs a reference to it)."""
    n = int(round(n_source * scale))
    return max(n, 1) if scale > 0 and n_source > 0 else n


def fk_name(table: Table, fk: ForeignKey) -> str:
    """The name of ``fk`` as the FK graph spells it (constraint name, or ``table(cols)``)."""
    return fk.name or f"{table.name}({','.join(fk.columns)})"


def check_data(metadata: Metadata, data: dict[str, pd.DataFrame]) -> None:
    """Refuse data that lacks a table or a (non-computed) column of the metadata.

    Raises:
        SchemaMismatchError: naming every missing table and column.
    """
    problems = [f"table '{t}' missing" for t in metadata.tables if t not in data]
    for t, table in metadata.tables.items():
        if t in data:
            problems += [
                f"column '{t}.{c.name}' missing" for c in table.columns if not c.computed and c.name not in data[t]
            ]
    if problems:
        raise SchemaMismatchError("data does not match the metadata: " + "; ".join(problems))


def key_tuples(df: pd.DataFrame, cols: list[str]) -> pd.Index:
    """The values of ``cols`` as an index (a MultiIndex for composite keys), compared as Python objects."""
    if len(cols) == 1:
        return pd.Index(df[cols[0]].astype("object").to_numpy())
    return pd.MultiIndex.from_arrays([df[c].astype("object").to_numpy() for c in cols])


#: Combined key codes are renumbered before they could pass this (int64 holds them with room to spare).
_CODE_LIMIT = 2**62


def key_codes(frame: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """One int64 code per row for its values of ``cols`` (equal codes: equal values, NULLs equal to each
    other), and whether the row has no NULL in them.

    Columns are factorised one by one and their codes combined, instead of ``DataFrame.duplicated`` on a
    sub-frame: this runs for every key of every batch, a few times when references are re-drawn.
    """
    codes = np.zeros(len(frame), dtype=np.int64)
    full = np.ones(len(frame), dtype=bool)
    size = 1
    for c in cols:
        found, uniques = pd.factorize(frame[c], use_na_sentinel=True)
        full &= found >= 0
        width = len(uniques) + 1  # NULL is code 0
        if size * width >= _CODE_LIMIT:  # keep the combined codes inside int64
            codes = pd.factorize(codes)[0].astype(np.int64)
            size = int(codes.max(initial=0)) + 1
        codes = codes * width + (found + 1)
        size *= width
    return codes, full


def duplicated(codes: np.ndarray) -> np.ndarray:
    """True for every row whose code an earlier row already has."""
    out = np.ones(len(codes), dtype=bool)
    out[np.unique(codes, return_index=True)[1]] = False
    return out


def positions(parent_df: pd.DataFrame, ref_cols: list[str], child_df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Row position in the parent of each child row's reference (-1 for NULL or dangling)."""
    return KeyIndex(parent_df, ref_cols).lookup(child_df, cols)


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


def rank_matched_counts(raw: np.ndarray, hist: dict, rng: np.random.Generator) -> np.ndarray:
    """Children per parent that follow the learned distribution ``hist`` exactly (stratified), handed out in
    the order of ``raw``: the parent with the largest ``raw`` gets the largest count, ties in random order.

    ``raw`` is what the model drew for each parent (HMA: the count column of the parent's copula, which carries
    its dependence on the parent's other columns); its values are interpolated quantiles, which smear a
    skewed distribution over few parents (eight employees, three of whom serve every customer, come back as
    1, 2, 11 and 21 customers each). Keeping only its ranks keeps the dependence and the exact shape.
    """
    m = len(raw)
    per = stratified(hist["weights"], m, rng)
    pool = np.repeat(np.asarray(hist["values"], dtype=float), per)  # ascending, m values
    out = np.empty(m)
    out[np.lexsort((rng.random(m), np.asarray(raw, dtype=float)))] = pool
    return out


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


def set_refs(frame: pd.DataFrame, fk: ForeignKey, parent: pd.DataFrame, refs: np.ndarray) -> None:
    """Write into ``frame`` the key values of the parent rows at ``refs`` (-1: NULL)."""
    null = refs < 0
    safe = np.where(null, 0, refs)
    for c, rc in zip(fk.columns, fk.ref_columns):
        if len(parent) == 0:
            frame[c] = pd.Series([None] * len(frame), dtype="object")
            continue
        col = parent[rc]
        vals = pd.Series(col.array.take(safe), dtype=col.dtype)  # positions, not labels: no index built
        if null.any():
            vals = vals.astype("Int64") if pd.api.types.is_integer_dtype(vals) else vals.astype("object")
            vals[null] = None
        frame[c] = vals


def unique_mask(
    frame: pd.DataFrame, table: Table, fk_cols: set[str], seen: dict | None = None, driving: list[str] = (),
    exempt: frozenset[str] = frozenset(),
) -> np.ndarray | None:
    """Rows to keep so that keys made of references (bridge tables, one-to-one) stay unique, and unique
    constraints whose columns cannot be changed to tell rows apart (references, booleans).

    With ``seen`` (hashes of earlier batches' keys, updated here), those keys are also kept unique across
    batches, unless they contain the ``driving`` reference (a batch holds whole driving parents, so such keys
    cannot repeat from one batch to the next) or a column of ``exempt`` (distinct over the table by
    construction).

    Returns:
        A boolean mask, or None when no key of the table is made of references.
    """
    keys = _reference_keys(table, fk_cols)
    if not keys:
        return None
    keep = np.ones(len(frame), dtype=bool)
    for cols in keys:
        codes, full = key_codes(frame, cols)
        keep &= ~(duplicated(codes) & full)
        if seen is not None and not (driving and set(driving) <= set(cols)) and not set(cols) & exempt:
            h, _ = unique_hashes(frame, cols)
            before = seen.setdefault(tuple(cols), SeenKeys())
            keep &= ~(before.contains(h) & full)
            before.add(h[keep & full])
    return keep


def required_refs_mask(frame: pd.DataFrame, table: Table, parents, skip=()) -> np.ndarray | None:
    """Rows to keep: those with no NULL in a NOT NULL foreign-key column whose parent table is in ``parents``.

    A reference is NULL when its parent table has no row to offer (a small scale can leave a parent empty,
    or drop its rows): such a child row cannot exist, so it is dropped before its own children are drawn.
    References to tables not in ``parents`` (not sampled, or filled later) and keys named in ``skip`` (deferred
    ones, filled once every table exists) are left alone.

    Returns:
        A boolean mask, or None when every row may stay.
    """
    keep = None
    for fk in table.foreign_keys:
        if fk.ref_table == table.name or fk.ref_table not in parents or fk_name(table, fk) in skip:
            continue
        for c in fk.columns:
            if c in frame and not table.column(c).nullable:
                null = frame[c].isna().to_numpy()
                if null.any():
                    keep = ~null if keep is None else keep & ~null
    return keep


def match_by_capacity(
    n: int, capacity: np.ndarray, null_share: float, rng: np.random.Generator
) -> np.ndarray:
    """Parent positions for ``n`` child rows along a non-driving key, each parent used up to its capacity.

    ``capacity`` is each parent's sampled number of children along this key; the slots are shuffled and dealt
    out, so no child x parent matrix is ever built. Rows past the total capacity go to random parents.

    Returns:
        Parent position per row, -1 for the ``null_share`` of rows left NULL.
    """
    refs = np.full(n, -1, dtype=np.int64)
    n_parent = len(capacity)
    nonnull = nonnull_mask(n, null_share, rng)
    want = int(nonnull.sum())
    if n_parent == 0 or want == 0:
        return refs
    pool = rng.permutation(np.repeat(np.arange(n_parent), capacity))
    if len(pool) < want:  # capacities could not reach the row count: the rest go anywhere
        pool = np.r_[pool, rng.integers(0, n_parent, want - len(pool))]
    refs[nonnull] = pool[:want]
    return refs


def redraw_duplicates(frame, table, fk, pframe, cmax, refs, fk_cols, rng, used=None, rounds: int = 10) -> None:
    """Re-draw references of rows that would repeat a key made of references (bridge tables).

    Duplicated rows first trade references with other rows (:func:`_swap_duplicates`: every parent keeps the
    children it was given); those left are re-drawn among parents with room under the observed maximum
    ``cmax``, for a few rounds; what is left is dropped afterwards by :func:`unique_mask`. ``used`` counts the children
    each parent already has along ``fk`` (this frame's ``refs`` included: earlier batches too when sampling in
    batches) and is kept up to date; None counts this frame's ``refs``.
    """
    if len(pframe) == 0:
        return
    _swap_duplicates(frame, table, fk, pframe, refs, fk_cols, rng, rounds)
    if used is None:
        used = np.bincount(refs[refs >= 0], minlength=len(pframe))
    for _ in range(rounds):
        keep = unique_mask(frame, table, fk_cols)
        if keep is None or keep.all():
            return
        dup = ~keep & (refs >= 0)
        if not dup.any():
            return
        room = np.clip(max(cmax, 1) - used + np.bincount(refs[dup], minlength=len(pframe)), 0, None)
        # each free slot once: redrawn rows never push a parent past the observed maximum
        pool = room_slots(room, int(dup.sum()), rng)
        rows = np.flatnonzero(dup)[: len(pool)]
        if len(rows) == 0:
            return
        np.subtract.at(used, refs[rows], 1)
        refs[rows] = pool[: len(rows)]
        np.add.at(used, refs[rows], 1)
        set_refs(frame, fk, pframe, refs)


def _swap_duplicates(frame, table, fk, pframe, refs, fk_cols, rng, rounds: int, tries: int = 32) -> None:
    """Let rows that repeat a key made of references trade their reference along ``fk`` with other rows.

    A swap keeps every parent's number of children along ``fk`` and every row's other columns, so the counts
    drawn for both ends of a bridge table survive. Re-drawing alone moves duplicates to parents with room,
    which flattens skewed counts: two of Chinook's playlists hold 3,290 of 3,503 tracks, and re-drawn rows
    poured out of them into the small playlists (cardinality 0.28). Each round offers every duplicated row
    ``tries`` random clean rows and makes the first swap that creates no key already present.
    """
    keys = [cols for cols in _reference_keys(table, fk_cols) if set(fk.columns) <= set(cols)]
    if not keys:
        return
    width = len(pframe) + 1
    # each key as (the code of its other columns, the parent position along fk): swaps change only the second
    others = []
    for cols in keys:
        rest = [c for c in cols if c not in fk.columns]
        codes, full = key_codes(frame, rest) if rest else (np.zeros(len(frame), np.int64), np.ones(len(frame), bool))
        others.append((pd.factorize(codes)[0].astype(np.int64) * width, full))
    swapped = False
    for _ in range(rounds):
        dupmask = np.zeros(len(frame), dtype=bool)
        for other, full in others:
            dupmask |= duplicated(other + refs) & full
        dupmask &= refs >= 0
        dup = np.flatnonzero(dupmask)
        clean = np.flatnonzero(~dupmask & (refs >= 0))
        if not len(dup) or not len(clean):
            break
        # many candidate partners per row (a parent nearly full refuses most), about a million at most
        mine = np.repeat(dup, max(2, min(tries, (1 << 20) // len(dup))))
        partner = clean[rng.integers(0, len(clean), len(mine))]
        ok = refs[mine] != refs[partner]
        for other, _ in others:
            taken = _member_of(other + refs)
            mine_new, partner_new = other[mine] + refs[partner], other[partner] + refs[mine]
            ok &= ~taken(mine_new) & ~taken(partner_new) & (mine_new != partner_new)
        if not ok.any():
            break
        # the first acceptable candidate of each row, each partner row used once
        mine, partner = mine[ok], partner[ok]
        first = np.unique(mine, return_index=True)[1]
        mine, partner = mine[first], partner[first]
        once = np.unique(partner, return_index=True)[1]
        a, b = mine[once], partner[once]
        refs[a], refs[b] = refs[b], refs[a].copy()
        swapped = True
    if swapped:
        set_refs(frame, fk, pframe, refs)


def _member_of(codes: np.ndarray):
    """A test of membership in ``codes`` (non-negative ints): a lookup table when their range is moderate
    (np.isin sorts both sides on every call), np.isin otherwise."""
    top = int(codes.max(initial=0)) + 1
    if top > 1 << 24:
        return lambda x: np.isin(x, codes)
    table = np.zeros(top + 1, dtype=bool)
    table[codes] = True
    return lambda x: table[np.minimum(x, top)]


def _reference_keys(table: Table, fk_cols: set[str]) -> list[list[str]]:
    """The keys :func:`unique_mask` keeps unique by dropping rows: the primary key if it holds a reference,
    unique constraints of which :func:`~dbsynth.sample.repair.repair` can change no column (references only,
    or types with no room for new values such as booleans)."""
    keys = []
    if table.primary_key and set(table.primary_key) & fk_cols:
        keys.append(list(table.primary_key))
    keys += [
        list(u.columns) for u in table.unique_constraints
        if list(u.columns) != list(table.primary_key) and all(c in table.column_names for c in u.columns)
        and not any(table.column(c).computed for c in u.columns)  # the database computes those: not ours
        and (set(u.columns) <= fk_cols or not tie_break_columns(table, u))
    ]
    return keys


def cap_overlapping(
    frame: pd.DataFrame, table: Table, caps: dict[str, int], done: dict[str, pd.DataFrame], rng: np.random.Generator,
    prior: dict | None = None,
) -> np.ndarray | None:
    """Keep children per parent within the observed maximum for foreign keys nested in a wider one.

    When a narrow key's columns are part of a wider key (lineitem's ``l_partkey -> part`` inside
    ``(l_partkey, l_suppkey) -> partsupp``), the wide key's values are written last and decide the narrow
    key too, so a part can collect more lines than any part had. Rows over a narrow key's cap are moved to
    wide-parent rows that have room under *every* cap (the wide key's and each nested key's), all at once;
    rows that find no room are returned as dropped. ``prior`` carries the counts of earlier batches of the
    same table (updated here), so caps hold across batches.

    Returns:
        Rows to keep, or None when the table has no nested foreign keys.
    """
    prior = {} if prior is None else prior
    keep: np.ndarray | None = None
    n = len(frame)
    for wide in table.foreign_keys:
        narrow = [
            fk for fk in table.foreign_keys
            if fk is not wide and set(fk.columns) < set(wide.columns) and fk_name(table, fk) in caps
        ]
        if not narrow or fk_name(table, wide) not in caps or wide.ref_table not in done or n == 0:
            continue
        keep = np.ones(n, dtype=bool) if keep is None else keep
        pframe = done[wide.ref_table]
        if len(pframe) == 0:
            continue
        wide_key = fk_name(table, wide)
        if ("index", wide_key) not in prior:  # the parent's keys do not change between batches: index once
            prior[("index", wide_key)] = KeyIndex(pframe, wide.ref_columns)
            for fk in narrow:
                rcs = [wide.ref_columns[wide.columns.index(c)] for c in fk.columns]
                p_codes, uniques = pd.factorize(key_tuples(pframe, rcs))
                prior[("codes", wide_key, fk_name(table, fk))] = (p_codes, pd.Index(uniques))
        windex = prior[("index", wide_key)]
        refs = windex.lookup(frame, wide.columns)
        w_prior = prior.setdefault(wide_key, np.zeros(len(pframe), dtype=np.int64))
        # each narrow key as codes shared by the wide parent's rows and the child's rows
        codes = []
        for fk in narrow:
            p_codes, uniques = prior[("codes", wide_key, fk_name(table, fk))]
            key = (wide_key, fk_name(table, fk))
            n_prior = prior.setdefault(key, np.zeros(len(uniques), dtype=np.int64))
            codes.append((caps[fk_name(table, fk)], p_codes, uniques, fk, n_prior))
        over = np.zeros(n, dtype=bool)
        for cap, _, uniques, fk, n_prior in codes:  # the later rows of a narrow key past its cap
            c_codes = uniques.get_indexer(key_tuples(frame, fk.columns))
            rank = pd.Series(c_codes).groupby(c_codes).cumcount().to_numpy() + n_prior[np.maximum(c_codes, 0)]
            over |= (c_codes >= 0) & (rank >= cap)
        over &= refs >= 0
        if over.any():
            stay = (refs >= 0) & ~over
            room = np.clip(caps[wide_key] - w_prior - np.bincount(refs[stay], minlength=len(pframe)), 0, None)
            slots = room_slots(room, int(over.sum()), rng)
            ok = np.ones(len(slots), dtype=bool)
            for cap, p_codes, uniques, fk, n_prior in codes:
                c_codes = uniques.get_indexer(key_tuples(frame, fk.columns))
                used = n_prior + np.bincount(c_codes[stay & (c_codes >= 0)], minlength=len(n_prior))
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
            refs = windex.lookup(frame, wide.columns)
        # what this batch used, for the next one
        live = keep & (refs >= 0)
        w_prior += np.bincount(refs[live], minlength=len(pframe))
        for _, _, uniques, fk, n_prior in codes:
            c_codes = uniques.get_indexer(key_tuples(frame, fk.columns))
            n_prior += np.bincount(c_codes[live & (c_codes >= 0)], minlength=len(n_prior))
    return keep


def room_slots(room: np.ndarray, need: int, rng: np.random.Generator) -> np.ndarray:
    """Parent positions in random order, each at most ``room`` times: enough candidates for ``need`` rows.

    Every free place is listed when there are few; otherwise about four candidates per row are drawn in
    proportion to the room, so memory follows the rows to place, not the parent table's total room.
    """
    total = int(room.sum())
    want = 4 * need + 1024
    if total <= want:
        return rng.permutation(np.repeat(np.arange(len(room)), room))
    slots = rng.choice(len(room), size=want, p=room / total)
    # each slot's rank among the earlier draws of its parent (a groupby cumcount, by one stable sort)
    order = np.argsort(slots, kind="stable")
    run = np.r_[0, np.flatnonzero(np.diff(slots[order])) + 1]
    rank = np.empty(len(slots), dtype=np.int64)
    rank[order] = np.arange(len(slots)) - np.repeat(run, np.diff(np.r_[run, len(slots)]))
    return slots[rank < room[slots]]


def fill_deferred_edge(e, spec: dict, child: pd.DataFrame, parent: pd.DataFrame, seed: int, back=None) -> None:
    """Write into ``child`` the references of one deferred foreign key ``e`` (a cycle or a self-reference),
    once its parent's rows exist; the writer sets them after insert.

    A self-reference with a learned tree shape (``spec["tree"]``) is grown as a forest; without one, each row
    points to an earlier row, so there is never a cycle; ``spec["null_share"]`` of the rows stay NULL.
    ``parent`` holds at least the referenced columns (``child`` itself for a self-reference). The randomness
    is the edge's own, so edges can be filled in any order. ``back``: the key from the parent back to the child
    (:func:`back_edge`), to close the learned share of the cycle (:func:`close_refs`).
    """
    rng = np.random.default_rng(stable_seed(seed, "deferred", e.name))
    n = len(child)
    pn = len(parent)
    self_ref = e.child == e.parent
    nonnull = nonnull_mask(n, spec["null_share"], rng, first_null=self_ref)
    if self_ref and spec.get("tree") and n:
        refs = sample_forest(n, spec["null_share"], spec["tree"], rng)
        nonnull = refs >= 0
    elif self_ref:
        i = np.arange(n)
        refs = np.floor(rng.uniform(size=n) * i).astype(np.int64)
    else:
        refs = capped_refs(n, pn, spec["null_share"], spec.get("count_max"), rng)
        refs = close_refs(refs, e, back, spec, child, parent, rng)
        nonnull = refs >= 0
    refs[~nonnull] = -1
    set_refs(child, e.fk, parent, refs)


def kept_columns(metadata: Metadata, graph) -> dict[str, list[str]]:
    """Columns of each table that later tables refer to, and its primary key when a deferred reference of it
    is filled after the fact (what a batched sampler keeps of a table once its rows are out)."""
    cols: dict[str, list[str]] = {t: [] for t in metadata.tables}
    for table in metadata:
        for fk in table.foreign_keys:
            if fk.ref_table in cols:
                cols[fk.ref_table] += [c for c in fk.ref_columns if c not in cols[fk.ref_table]]
    for d in graph.deferred:
        child = metadata.tables[d.edge.child]
        cols[child.name] += [c for c in child.primary_key if c not in cols[child.name]]
        back = back_edge(graph, d.edge)
        if d.not_null and back is not None:  # the parent's reference back, to close the cycle (see close_refs)
            cols[back.child] += [c for c in back.fk.columns if c not in cols[back.child]]
    return cols


def back_edge(graph, e):
    """:meth:`dbsynth.metadata.graph.FKGraph.back_edge` (the key closing a two-table cycle), or None."""
    return graph.back_edge(e)


def closed_share(e, back, child: pd.DataFrame, child_pos_of_parent: np.ndarray, ref_pos: np.ndarray,
                 own_pos: np.ndarray) -> float:
    """Share of ``child``'s references along ``e`` whose parent row refers back to that very row (a store's
    manager works at that store). ``ref_pos``: parent position of each child row's reference; ``own_pos``: each
    child row's own position; ``child_pos_of_parent``: for each parent row, the child position it refers to."""
    ok = ref_pos >= 0
    if not ok.any():
        return 0.0
    back_of = np.full(len(ref_pos), -2, dtype=np.int64)
    back_of[ok] = child_pos_of_parent[ref_pos[ok]]
    return float(((back_of == own_pos) & ok).sum() / ok.sum())


def close_refs(refs: np.ndarray, e, back, spec: dict, child: pd.DataFrame, parent: pd.DataFrame,
               rng: np.random.Generator) -> np.ndarray:
    """Point the learned ``spec["closed_share"]`` of ``child``'s references along ``e`` at parent rows that refer
    back to the same child row (the manager works at the store), where such a row exists. Rows that learned at
    most one child per parent (a unique manager) keep distinct parents."""
    share = float(spec.get("closed_share", 0.0))
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
    if spec.get("count_max") == 1:  # keep one child per parent: others that now collide take unused parents
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


def deferred_spec(graph, table: Table, df: pd.DataFrame, data: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """What :func:`fill_deferred_edge` needs of ``table``'s deferred keys: NULL share and, for a self-reference,
    the learned tree shape."""
    out: dict[str, dict] = {}
    n = len(df)
    for d in graph.deferred_for(table.name):
        e = d.edge
        pos = positions(data[e.parent], e.fk.ref_columns, df, e.fk.columns) if n else np.zeros(0, int)
        out[e.name] = {"parent": e.parent, "null_share": float((pos < 0).mean()) if n else 0.0}
        if e.parent != table.name:  # children per parent along a cycle's key, at most as many as seen
            out[e.name]["count_max"] = int(np.bincount(pos[pos >= 0]).max(initial=0)) if (pos >= 0).any() else 0
            back = back_edge(graph, e)
            if d.not_null and back is not None and n:
                owner = positions(df, back.fk.ref_columns, data[e.parent], back.fk.columns)
                out[e.name]["closed_share"] = closed_share(e, back, df, owner, pos, np.arange(n))
        if e.parent == table.name and n:
            tree = tree_shape(pos)
            if tree is not None:
                out[e.name]["tree"] = tree
    return out
