"""The one thing a multi-table synthesizer adds to the sampling engine: how one table's rows are drawn.

The engine (``sample/engine.py``) walks the foreign-key graph parent-first and does everything that is
the same for every synthesizer: batches, keys, references, unique constraints, cycles, self-references,
column generators and repair. A :class:`TableStrategy` answers the two questions that differ:

* how many children each parent row wants along a key (HMA: the parent's sampled count column, rank-matched to
  the learned distribution; segment-based: stratified draws from the parent segment's count distribution);
* the table's own modelled columns for a batch of rows, given which parent row drives each of them, and the
  per-row state the table's children will need (HMA: the extension columns; segment-based: the segment).

Adding a synthesizer means writing a fit procedure and one class with these methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import numpy as np
import pandas as pd

from .records import DrivingLink, OtherLink, TableModel

__all__ = ["Drawn", "FittedStrategy", "TableStrategy"]

#: Per-row state a table's draw leaves for its children, by name (arrays aligned with the table's rows).
RowState = Mapping[str, np.ndarray]

M = TypeVar("M", bound=TableModel)


@dataclass
class Drawn:
    """What a strategy draws for a batch of rows."""

    columns: dict[str, pd.Series]
    """The table's modelled columns (RangeIndex, one value per row); the engine fills every other column."""

    state: dict[str, np.ndarray] = field(default_factory=dict)
    """Per-row state its children are drawn from (one array per name, one value per row)."""


class TableStrategy(Protocol):
    """How one synthesizer family draws tables (see the module docstring)."""

    def table_model(self, table: str) -> TableModel:
        """The fitted model of ``table`` (see :class:`~dbsynth.model.records.TableModel`: ``n_rows``,
        ``generators``, the driving ``link``, the ``others`` keys and the ``deferred`` ones)."""
        ...

    def modelled_columns(self, table: str) -> set[str]:
        """The columns :meth:`draw` returns."""
        ...

    def child_counts(self, table: str, edge: str, parent: RowState, n_parent: int,
                     rng: np.random.Generator) -> np.ndarray:
        """Raw children per parent row along ``edge`` (a key of ``table``), before the engine caps them to the
        learned range and the requested total.

        Args:
            table: the child table.
            edge: the key's name (the driving key or another one).
            parent: the state the parent table's draw left, for all its ``n_parent`` rows.
            n_parent: rows of the parent table.
            rng: the table's random stream.
        """
        ...

    def draw(self, table: str, parent: RowState | None, pidx: np.ndarray, rng: np.random.Generator) -> Drawn:
        """The modelled columns of a batch of rows.

        Args:
            table: the table.
            parent: the state of the driving parent's rows, or None when the table is drawn without its driving
                key (a root, or a table sized by the caller).
            pidx: driving-parent position of each row (-1: an orphan, or no driving key).
            rng: the batch's random stream.
        """
        ...


class FittedStrategy(Generic[M]):
    """What the shipped strategies share: the fitted per-table models and how the engine reads them.

    Args:
        models: the fitted per-table models (of the strategy's family).
    """

    def __init__(self, models: Mapping[str, M]) -> None:
        self.models = models

    def table_model(self, table: str) -> M:
        """See :meth:`TableStrategy.table_model`."""
        return self.models[table]

    def edge_spec(self, table: str, edge: str) -> DrivingLink | OtherLink:
        """What the fit learned of ``table``'s key ``edge``: its link when it drives, else its entry in
        ``others``."""
        link = self.models[table].link
        return link if link is not None and link.edge == edge else self.models[table].others[edge]
