"""Former home of the column generators, now :mod:`dbsynth.model.columns` (per-column models); the names
callers import from here are re-exported."""

from ..model.columns import (
    ColumnGenerator,
    KeyGenerator,
    PIIGenerator,
    PlaceholderGenerator,
    TextGenerator,
    fit_set,
    generate_set,
    generator_for,
    is_unique,
    placeholder,
    uuid_strings,
)

__all__ = [
    "ColumnGenerator", "KeyGenerator", "PIIGenerator", "PlaceholderGenerator", "TextGenerator", "fit_set",
    "generate_set", "generator_for", "is_unique", "placeholder", "uuid_strings",
]
