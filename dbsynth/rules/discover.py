"""Rules the real rows keep, found at fit time (issue 17). STUB: the signature is the contract; the body lands."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ..metadata.records import Metadata
from .records import RuleSet

__all__ = ["DiscoverySettings", "discover"]


@dataclass(frozen=True)
class DiscoverySettings:
    """How much support a pattern needs before it is a rule."""

    min_rows: int = 20
    """Rows (parents, for per-parent kinds) a rule must hold in."""
    min_category_count: int = 5
    """Values a rule stores (domains, pairs, combinations) seen at least this often (the model's k rule)."""


def discover(metadata: Metadata, frames: Mapping[str, pd.DataFrame], settings: DiscoverySettings | None = None,
             complete: frozenset[str] | None = None) -> RuleSet:
    """The rules every row of ``frames`` keeps.

    Args:
        metadata: the tables.
        frames: per table, its rows (all of them, or a uniform sample).
        settings: support thresholds.
        complete: tables given whole (cross-table and per-parent kinds need both sides whole); None: all.
    """
    return RuleSet()
