"""Rules kept within one table's sampled rows (issue 17). STUB: the signature is the contract; the body lands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..metadata.records import Table
from .records import Rule

__all__ = ["KeepState", "keep"]


@dataclass
class KeepState:
    """What one table's batches share for its rules (first value per determinant, running sums per parent)."""

    memory: dict[str, Any] = field(default_factory=dict)


def keep(frame: pd.DataFrame, table: Table, rules: Sequence[Rule], rng: np.random.Generator,
         state: KeepState | None = None) -> pd.DataFrame:
    """``frame`` changed so that it keeps the within-table ``rules`` of ``table`` (others are ignored)."""
    return frame
