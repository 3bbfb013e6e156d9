"""What the fit reads a table through: a row count, a bounded uniform sample, and full passes in chunks.

The HMA fit never needs a whole table in memory. It learns marginals and the copula from a bounded sample of
rows and folds children into parents from streamed passes (counts and sums per parent key). A
:class:`TableSource` is the one thing it asks of the data; :class:`FrameSource` serves a DataFrame already in
memory (``fit(data)`` with frames), and :mod:`dbsynth.read` serves database tables through server-side cursors
in one snapshot (:func:`dbsynth.read.open_sources`). Both follow the frame contract of
``docs/architecture.md``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

# the protocol and its helpers live in dbsynth.sources (the reader implements them too); re-exported here
from ..sources import DEFAULT_CHUNK_ROWS, DEFAULT_SAMPLE_ROWS, TableSource, bottom_k

__all__ = ["DEFAULT_CHUNK_ROWS", "DEFAULT_SAMPLE_ROWS", "FrameSource", "TableSource", "bottom_k"]


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
