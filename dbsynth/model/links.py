"""What the fit learns of the links between tables, shared by HMA and the segment-based synthesizers: where
each child row points, and the shape of deferred keys (cycles and self-references) that the sampling engine
fills after the fact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SchemaMismatchError
from ..metadata import Metadata, Table
from .fold import KeyIndex, tree_shape
from .records import DeferredSpec

__all__ = ["check_data", "closed_share", "deferred_spec", "positions"]


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


def positions(parent_df: pd.DataFrame, ref_cols: list[str], child_df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Row position in the parent of each child row's reference (-1 for NULL or dangling)."""
    return KeyIndex(parent_df, ref_cols).lookup(child_df, cols)


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


def deferred_spec(graph, table: Table, df: pd.DataFrame, data: dict[str, pd.DataFrame]) -> dict[str, DeferredSpec]:
    """What the sampling engine needs of ``table``'s deferred keys: NULL share and, for a self-reference,
    the learned tree shape."""
    out: dict[str, DeferredSpec] = {}
    n = len(df)
    for d in graph.deferred_for(table.name):
        e = d.edge
        pos = positions(data[e.parent], e.fk.ref_columns, df, e.fk.columns) if n else np.zeros(0, int)
        spec = out[e.name] = DeferredSpec(parent=e.parent, null_share=float((pos < 0).mean()) if n else 0.0)
        if e.parent != table.name:  # children per parent along a cycle's key, at most as many as seen
            spec.count_max = int(np.bincount(pos[pos >= 0]).max(initial=0)) if (pos >= 0).any() else 0
            back = graph.back_edge(e)
            if d.not_null and back is not None and n:
                owner = positions(df, back.fk.ref_columns, data[e.parent], back.fk.columns)
                spec.closed_share = closed_share(e, back, df, owner, pos, np.arange(n))
        if e.parent == table.name and n:
            spec.tree = tree_shape(pos)
    return out
