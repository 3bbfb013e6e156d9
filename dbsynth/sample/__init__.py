"""The sampling stage: the parent-first engine (:mod:`dbsynth.sample.engine`) and what it uses to make rows
the database accepts (:func:`repair`; references and keys in :mod:`dbsynth.sample.refs`).

The column generators are per-column models and live in :mod:`dbsynth.model.columns` and
:mod:`dbsynth.model.typed`; their public names are re-exported here for callers of the former layout
(``from dbsynth.sample import generator_for``).
"""

from ..model.columns import (
    ColumnGenerator,
    KeyGenerator,
    PIIGenerator,
    PlaceholderGenerator,
    TextGenerator,
    generator_for,
    placeholder,
    uuid_strings,
)
from .repair import repair

# the generators' names of the former layout, then the stage's own
__all__ = ["ColumnGenerator", "KeyGenerator", "PIIGenerator", "PlaceholderGenerator", "TextGenerator"]
__all__ += ["generator_for", "placeholder", "uuid_strings", "repair"]
