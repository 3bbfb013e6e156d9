"""Describe a database: typed records, JSON round trip, validation and the foreign-key graph."""

from . import sdtypes
from .graph import DeferredEdge, Edge, FKGraph
from .records import CheckConstraint, Column, ForeignKey, Metadata, Table, UniqueConstraint

__all__ = [
    "CheckConstraint",
    "Column",
    "DeferredEdge",
    "Edge",
    "FKGraph",
    "ForeignKey",
    "Metadata",
    "Table",
    "UniqueConstraint",
    "detect_from_dataframes",
    "sdtypes",
]


def detect_from_dataframes(frames, **kwargs):
    """Build :class:`Metadata` from a dict of DataFrames.

    See :func:`dbsynth.metadata.detect.detect_from_dataframes`.
    """
    from .detect import detect_from_dataframes as _detect

    return _detect(frames, **kwargs)
