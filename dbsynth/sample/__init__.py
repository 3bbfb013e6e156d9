"""The sampling stage: the parent-first engine (:mod:`dbsynth.sample.engine`), the plan it executes beyond the
model (:mod:`dbsynth.sample.plan`: copy/empty modes, column overrides), and what makes rows the database
accepts (:func:`repair`; references and keys in :mod:`dbsynth.sample.refs`, counts in
:mod:`dbsynth.sample.counts`, cycles and self-references in :mod:`dbsynth.sample.cycles`).

The column generators are per-column models: :mod:`dbsynth.model.columns` and :mod:`dbsynth.model.typed`.
"""

from .repair import repair

__all__ = ["repair"]
