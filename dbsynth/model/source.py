"""What the fit reads a table through: a row count, a bounded uniform sample, and full passes in chunks.

The HMA fit never needs a whole table in memory. It learns marginals and the copula from a bounded sample of
rows and folds children into parents from streamed passes (counts and sums per parent key). A
:class:`TableSource` is the one thing it asks of the data; :class:`FrameSource` serves a DataFrame already in
memory (``fit(data)`` with frames), and :mod:`dbsynth.read` serves database tables through server-side cursors
in one snapshot (:func:`dbsynth.read.open_sources`). Both follow the frame contract of
``docs/architecture.md``.
"""

from __future__ import annotations

from typing import Iterator, Protocol, runtime_checkable

import numpy as np
import pandas as pd

__all__ = ["TableSource", "FrameSource", "bottom_k", "DEFAULT_SAMPLE_ROWS", "DEFAULT_CHUNK_ROWS"]

#: Rows of each table the marginals and the copula are learned from (every row of smaller tables).
DEFAULT_SAMPLE_ROWS = 200_000

#: Rows per chunk of a streamed pass.
DEFAULT_CHUNK_ROWS = 100_000


@runtime_checkable
class TableSource(Protocol):
    """One table as the fit reads it.

    Every call to :meth:`chunks` must return the rows in the same order (by primary key for a database), so
    that positions learned in one pass are valid in the next.
    """

    n_rows: int
    """Rows of the table."""

    def sample(self, max_rows: int, seed: int) -> pd.DataFrame:
        """A uniform sample of at most ``max_rows`` rows (every row when the table is not larger), all columns."""
        ...

    def chunks(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Every row, in frames of bounded size, in a stable order; only ``columns`` when given."""
        ...


def bottom_k(keys: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` smallest ``keys`` (all when fewer), in ascending position order.

    Giving every row a random key and keeping the k smallest is a uniform sample without replacement that can
    be taken chunk by chunk (keep the k smallest of the kept ones and the new chunk), in one pass.
    """
    if len(keys) <= k:
        return np.arange(len(keys))
    return np.sort(np.argpartition(keys, k - 1)[:k])


class FrameSource:
    """A :class:`TableSource` over a DataFrame in memory.

    Args:
        frame: the table's rows (frame contract).
        chunk_rows: rows per chunk of :meth:`chunks`.
    """

    def __init__(self, frame: pd.DataFrame, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> None:
        self.frame = frame.reset_index(drop=True)
        self.chunk_rows = max(1, int(chunk_rows))
        self.n_rows = len(self.frame)

    def sample(self, max_rows: int, seed: int) -> pd.DataFrame:
        """A uniform sample of at most ``max_rows`` rows, in row order (the frame itself when it fits)."""
        if self.n_rows <= max_rows:
            return self.frame
        keys = np.random.default_rng(seed).random(self.n_rows)
        return self.frame.iloc[bottom_k(keys, max_rows)].reset_index(drop=True)

    def chunks(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """Slices of the frame, in row order."""
        frame = self.frame if columns is None else self.frame[columns]
        for start in range(0, max(self.n_rows, 1), self.chunk_rows):
            yield frame.iloc[start : start + self.chunk_rows]
