"""Independent: each table modelled alone; children attached with the learned children-per-parent law only.

The fastest multi-table synthesizer and the baseline the others are measured against: within-table
statistics are kept, but nothing of a parent's values reaches its children (a big customer gets as many
orders as a small one). It is the segment engine of :mod:`dbsynth.model.segmented` with one segment per table.
"""

from __future__ import annotations

from typing import Any

from ..metadata import Metadata
from .segmented import SegmentedFit

__all__ = ["IndependentFit"]


class IndependentFit(SegmentedFit):
    """The Independent fit: each table modelled on its own (the public
    :class:`~dbsynth.synthesizers.IndependentSynthesizer` is this fit plus the sampling engine).

    Args: those of :class:`~dbsynth.model.base.FittedModel` (``metadata``, ``locales``, ``seed``, ``verbose``,
    ``min_category_count``); one segment per table is what this fit is, not a setting.
    """

    def __init__(
        self,
        metadata: Metadata,
        locales: list[str] | None = None,
        seed: int | None = None,
        verbose: bool = True,
        min_category_count: int = 5,
    ) -> None:
        super().__init__(metadata, locales=locales, verbose=verbose, seed=seed,
                         min_category_count=min_category_count, default_num_clusters=1)

    def _settings(self) -> dict[str, Any]:
        # one segment per table is what this synthesizer is, not a setting
        out = super()._settings()
        del out["default_num_clusters"]
        return out
