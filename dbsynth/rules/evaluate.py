"""How well frames keep rules (issue 17). STUB: the signature is the contract; the body lands."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from ..metadata.records import Metadata
from .records import Rule, RuleScore

__all__ = ["score"]


def score(metadata: Metadata, rules: Iterable[Rule], frames: Mapping[str, pd.DataFrame]) -> list[RuleScore]:
    """Per rule, the rows of ``frames`` that keep it (a rule whose tables are missing: total 0 and a detail)."""
    return [RuleScore(r, 0, 0, "not scored yet") for r in rules]
