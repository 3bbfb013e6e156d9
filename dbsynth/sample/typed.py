"""Former home of the generators of types the model does not learn, now :mod:`dbsynth.model.typed`; the names
callers import from here are re-exported."""

from ..model.typed import ValueGenerator, take_notes

__all__ = ["ValueGenerator", "take_notes"]
