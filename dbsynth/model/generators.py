"""The model's use of :mod:`dbsynth.sample` for columns the copula does not fit (keys, PII, text, unsupported)."""

from __future__ import annotations

from ..metadata import Column, Table
from ..sample import (
    ColumnGenerator,
    KeyGenerator,
    PlaceholderGenerator,
    generator_for,
    repair,
)
from ..sample.repair import UniqueState

__all__ = ["UniqueState", "distinct_columns", "generate", "generator_from_dict", "make_generator", "repair"]


def make_generator(column: Column, table: Table, locales: list[str]) -> ColumnGenerator:
    """The generator of a column the copula does not model.

    ``generator_for`` covers keys, PII, text and unsupported columns. A column of a modelled sdtype lands here
    only when it cannot be modelled (part of a primary key, or its table has no rows): key columns still need
    unique values, others a valid placeholder.
    """
    gen = generator_for(column, table=table, locales=locales)
    if gen is not None:
        return gen
    if column.name in table.primary_key:
        return KeyGenerator(column, table.name)
    return PlaceholderGenerator(column, table.name)


def generator_from_dict(d: dict) -> ColumnGenerator:
    """Rebuild a generator saved with ``to_dict``."""
    return ColumnGenerator.from_dict(d)


def generate(gen: ColumnGenerator, n: int, rng, start: int = 0):
    """``n`` values of ``gen`` (see :meth:`ColumnGenerator.generate`); for a table with no rows, one value drawn
    and dropped, so that the empty column has the generator's dtype and no generator is asked for zero values
    (zero-padded patterned keys could not build an empty array)."""
    if n == 0:
        return gen.generate(1, rng, start=start).iloc[:0]
    return gen.generate(n, rng, start=start)


def distinct_columns(generators: dict[str, dict]) -> frozenset[str]:
    """Columns whose saved generator (``to_dict`` form) makes values distinct over the whole table, given
    the ``start`` of each batch: keys, and PII or text generated unique (a numeric suffix per row). A unique
    constraint holding one of them needs no tracking across batches."""
    return frozenset(
        name for name, d in generators.items()
        if d.get("kind") == "key" or (d.get("kind") in ("pii", "text") and d.get("unique"))
    )
