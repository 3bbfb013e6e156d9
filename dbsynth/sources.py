"""What a fit reads a table through: the :class:`TableSource` protocol, shared by the model and the reader.

The fit (:mod:`dbsynth.model`) asks a table for a row count, a bounded uniform sample and full passes in chunks;
:class:`dbsynth.model.source.FrameSource` serves a DataFrame in memory and :class:`dbsynth.read.DbTableSource` a
database table. Both ends import this module and neither imports the other (the stages' import direction).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_CHUNK_ROWS", "DEFAULT_SAMPLE_ROWS", "TableSource", "bottom_k"]

#: Rows of each table the marginals and the copula are learned from (every row of smaller tables).
DEFAULT_SAMPLE_ROWS = 200_000

#: Rows per chunk of a streamed pass (database reads and frames alike).
DEFAULT_CHUNK_ROWS = 50_000


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
