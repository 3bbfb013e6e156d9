"""Baselines a synthesizer's fidelity is measured against (issue 18).

:func:`column_shuffle` is the floor of the joint scores: the real rows with each column permuted on its own.
Its marginals are the real ones exactly and every child keeps its parent, so it scores 1.0 on column shapes
and on cardinality; every relation between two columns (within a table or across a foreign key) is destroyed,
so what it scores on column pair trends and inter-table trends is what those metrics give for nothing. Issue 18
asks the synthesizers' joint structure to beat it by at least 0.25 on both (``benchmarks/bench_fidelity.py``
measures the margin; the tests never assert it).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..metadata.records import Metadata, Table


def key_columns(table: Table) -> set[str]:
    """The columns of ``table`` a column shuffle leaves in place: its primary key and every foreign key's
    columns (to tables of the schema or outside it)."""
    keys = set(table.primary_key)
    for fk in (*table.foreign_keys, *table.outside_foreign_keys):
        keys.update(fk.columns)
    return keys


def _blocks(table: Table, columns: list[str]) -> list[list[str]]:
    """``columns`` as groups permuted together: the columns of one multi-column UNIQUE constraint (merged when
    constraints share a column) move as one block, so the permuted tuples stay distinct; every other column is
    a block of its own."""
    groups: list[set[str]] = [{c} for c in columns]
    present = set(columns)
    for u in table.unique_constraints:
        cols = [c for c in u.columns if c in present]
        if len(cols) < 2:
            continue
        merged = [g for g in groups if g & set(cols)]
        groups = [g for g in groups if not g & set(cols)] + [set().union(*merged)]
    order = {c: i for i, c in enumerate(columns)}
    return sorted((sorted(g, key=order.__getitem__) for g in groups), key=lambda g: order[g[0]])


def _rng(seed: int, *names: str) -> np.random.Generator:
    """A generator fixed by ``seed`` and the names (crc32: the same in every process, unlike ``hash``), so a
    table's shuffle does not depend on which other tables are given or in what order."""
    return np.random.default_rng([seed, *(zlib.crc32(n.encode("utf-8")) for n in names)])


def column_shuffle(metadata: Metadata, real: Mapping[str, pd.DataFrame], seed: int = 0) -> dict[str, pd.DataFrame]:
    """The real rows of each table with every non-key column permuted on its own: the floor of the joint scores.

    What it keeps: each column's multiset of values (NULLs included), so the marginals are exact; the primary
    and foreign keys as they are (:func:`key_columns`), so every row keeps its parent and the number of children
    per parent is exact. What it destroys: every relation between two columns of a table and between a child's
    columns and its parent's (each non-key column is moved by a permutation of its own, independent of the
    keys'). The columns of a multi-column UNIQUE constraint that are not keys move together, so the constraint
    still holds (the relation inside that tuple survives, the only one that does).

    Generated columns (personal data, free text, non-key ids) are permuted too, although the four quality
    properties read modelled columns only and a permutation leaves their lengths and NULL share (what the
    generated-column score compares) unchanged either way: permuting them makes the baseline the literal "each
    column permuted on its own", so that no row-level link survives for the detection classifier or the rules
    (a name and its e-mail, a city and its country).

    Args:
        metadata: the tables; a table of ``real`` not in it is returned as it is (a copy), and so is a column
            not in its table's metadata (nothing says whether it is a key).
        real: the real rows, per table (not modified).
        seed: the permutations are fixed by it: the same seed gives the same frames.

    Returns:
        ``{table: DataFrame}`` with the columns, dtypes and index of ``real``.
    """
    out: dict[str, pd.DataFrame] = {}
    for name, frame in real.items():
        table = metadata.tables.get(name)
        if table is None:
            out[name] = frame.copy()
            continue
        keys = key_columns(table)
        movable = [c.name for c in table.columns if c.name in frame.columns and c.name not in keys]
        shuffled = frame.copy()
        n = len(frame)
        for block in _blocks(table, movable):
            perm = _rng(seed, name, *block).permutation(n)
            for col in block:
                # take on the array keeps extension dtypes (Int64, string, tz-aware datetimes) as they are
                shuffled[col] = pd.Series(frame[col].array.take(perm), index=frame.index, name=col)
        out[name] = shuffled
    return out
