"""HSA: segment-based multi-table synthesis, fast for any number of tables.

Each table is split into segments (k-means in its latent normal-score space), each segment is modelled by a
single-table synthesizer, and every parent -> child relation is learned as the distribution of child counts
and of child segments given the parent's segment. No extension columns travel up the graph, so fit and
sample cost grow linearly with the number of tables and rows. See :mod:`dbsynth.model.segmented` for the
algorithm.
"""

from __future__ import annotations

from ..metadata import Metadata
from .segmented import SegmentedFit

__all__ = ["HSAFit"]


class HSAFit(SegmentedFit):
    """The HSA's fit: segments per table, parent-child relations learned segment to segment (the public
    :class:`~dbsynth.synthesizers.HSASynthesizer` is this fit plus the sampling engine).

    Args: those of :class:`~dbsynth.model.base.FittedModel` (``metadata``, ``locales``, ``seed``, ``verbose``,
    ``min_category_count``), and ``default_num_clusters``: segments per table (fewer when a table has no
    modelled column or too few rows: at most one per :data:`~dbsynth.model.segmented.MIN_SEGMENT_ROWS` rows).

    Raises:
        BadInputError: when ``default_num_clusters`` is below 1.
    """

    def __init__(
        self,
        metadata: Metadata,
        locales: list[str] | None = None,
        default_num_clusters: int = 3,
        seed: int | None = None,
        verbose: bool = True,
        min_category_count: int = 5,
    ) -> None:
        super().__init__(metadata, locales=locales, verbose=verbose, seed=seed,
                         min_category_count=min_category_count, default_num_clusters=default_num_clusters)
