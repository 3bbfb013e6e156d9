"""References and keys of sampled rows: which parent row each child row points to, so that every foreign key
is valid and every key unique, for every schema shape (several parents, two keys to one parent, composite and
nested keys, nullable keys, bridge tables). The engine (:mod:`dbsynth.sample.engine`) calls these batch by
batch and passes what spans batches (``seen`` keys, ``used`` counts, ``prior`` caps).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..batch import Batch, as_batch
from ..metadata import Metadata, Table
from ..metadata.records import ForeignKey
from ..model.fold import KeyIndex
from ..rules.records import RuleSet
from .repair import SeenKeys, tie_break_columns, unique_hashes
from .rules import rule_columns


def join_batches(metadata: Metadata, batches: Iterable[Batch | tuple[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Every table in memory from batches: a table's row batches joined in order, then its update batches
    (:attr:`~dbsynth.batch.BatchKind.UPDATE`, rows in the table's order) applied by position, each set of
    columns updated apart."""
    parts: dict[str, list[pd.DataFrame]] = {}
    # one table can get several updates (a cycle's keys, a rule's aggregate), each over all its rows in order,
    # cut into consecutive batches: told apart by the columns they set
    updates: dict[tuple[str, tuple[str, ...]], list[pd.DataFrame]] = {}
    for item in batches:
        b = as_batch(item)
        if b.is_update:
            updates.setdefault((b.table, tuple(b.frame.columns)), []).append(b.frame)
        else:
            parts.setdefault(b.table, []).append(b.frame)
    out = {t: f[0] if len(f) == 1 else pd.concat(f, ignore_index=True) for t, f in parts.items()}
    for (t, _), frames in updates.items():
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
    frame: pd.DataFrame, table: Table, fk_cols: set[str], seen: dict | None = None, driving: list[str] | tuple[()] = (),
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


def kept_columns(metadata: Metadata, graph, rules: RuleSet | None = None) -> dict[str, list[str]]:
    """Columns of each table that later tables refer to, and its primary key when a deferred reference of it
    is filled after the fact (what a batched sampler keeps of a table once its rows are out); with ``rules``,
    also what their cross-table kinds read of it (:func:`dbsynth.sample.rules.rule_columns`)."""
    cols: dict[str, list[str]] = {t: [] for t in metadata.tables}
    if rules is not None:
        for t, more in rule_columns(rules, metadata.tables).items():
            cols[t] += [c for c in more if c not in cols[t]]
    for table in metadata:
        for fk in table.foreign_keys:
            if fk.ref_table in cols:
                cols[fk.ref_table] += [c for c in fk.ref_columns if c not in cols[fk.ref_table]]
    for d in graph.deferred:
        child = metadata.tables[d.edge.child]
        cols[child.name] += [c for c in child.primary_key if c not in cols[child.name]]
        back = graph.back_edge(d.edge)
        if d.not_null and back is not None:  # the parent's reference back, to close the cycle (see close_refs)
            cols[back.child] += [c for c in back.fk.columns if c not in cols[back.child]]
    return cols
