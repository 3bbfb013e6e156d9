"""Generators for the columns the model does not learn, and repair of sampled frames.

* :func:`generator_for` picks the :class:`ColumnGenerator` of a column: :class:`KeyGenerator` for keys,
  Faker-backed PII, lorem-like free text, placeholders for unsupported types; None for modelled and
  foreign-key columns (the HMA engine fills those).
* :func:`repair` makes a sampled frame acceptable to the database (lengths, precision, integer widths,
  enums, NOT NULL, unique constraints).
"""

from .generators import (
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

__all__ = [
    "ColumnGenerator",
    "KeyGenerator",
    "PIIGenerator",
    "PlaceholderGenerator",
    "TextGenerator",
    "generator_for",
    "placeholder",
    "repair",
    "uuid_strings",
]
