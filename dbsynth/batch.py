"""The record that crosses from the sampling engine to the writer: one table's rows, or updates closing a cycle.

The engine (:mod:`dbsynth.sample`) yields :class:`Batch` records parent-first; the pipeline reshapes them and
the writer (:mod:`dbsynth.write`) loads them. A batch says what it is in :attr:`Batch.kind` instead of a flag
hidden in ``DataFrame.attrs`` (which pandas drops or copies unpredictably through concat, slicing and copy).

This module sits beside :mod:`dbsynth.errors`: both ends import it, neither imports the other.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pandas as pd

__all__ = ["Batch", "BatchKind", "as_batch"]


class BatchKind(enum.Enum):
    """What the rows of a batch are."""

    ROWS = "rows"
    """New rows of the table, every column of the frame contract."""

    UPDATE = "update"
    """Values for rows sent earlier: the table's primary key plus the columns to set, one set of columns per
    batch. Foreign keys deferred to break a cycle, or a non-key column a rule derives once later tables are drawn
    (a parent's total of its children, :class:`~dbsynth.rules.records.Aggregate`). The writer fills them after
    every row of the run exists."""


@dataclass(frozen=True, slots=True)
class Batch:
    """One table's frame of synthetic rows (or of cycle updates), in the order the writer must take them.

    A batch unpacks as ``table, frame`` (``for table, frame in synthesizer.iter_sample()``), the shape the
    sampling API has always had; read :attr:`kind` to tell updates from rows.
    """

    table: str
    """The table the rows belong to (its metadata name)."""

    frame: pd.DataFrame
    """The rows (frame contract: one column per metadata column, in the table's order)."""

    kind: BatchKind = BatchKind.ROWS
    """Rows, or updates of deferred foreign keys."""

    @property
    def is_update(self) -> bool:
        """True for a batch of updates (:attr:`BatchKind.UPDATE`)."""
        return self.kind is BatchKind.UPDATE

    def with_frame(self, frame: pd.DataFrame) -> Batch:
        """The same batch (table, kind) holding ``frame``."""
        return replace(self, frame=frame)

    def __iter__(self) -> Iterator[str | pd.DataFrame]:
        # unpacking as ``table, frame``: the (table, frame) pairs iter_sample yielded before batches were typed
        yield self.table
        yield self.frame


def as_batch(item: Batch | tuple[str, pd.DataFrame]) -> Batch:
    """A :class:`Batch` from what a caller of the writer may pass: a batch, or a ``(table, frame)`` pair (rows)."""
    if isinstance(item, Batch):
        return item
    table, frame = item
    return Batch(table, frame)
