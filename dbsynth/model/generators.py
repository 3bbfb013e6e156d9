"""The generators of columns the copula does not fit (keys, PII, text, unsupported), as the fit makes them and
the engine rebuilds them from a model file. The generator classes are per-column models:
:mod:`dbsynth.model.columns` and :mod:`dbsynth.model.typed`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metadata import Column, Table
from .columns import ColumnGenerator, KeyGenerator, PlaceholderGenerator, generator_for

__all__ = ["distinct_columns", "generate", "generator_from_dict", "make_generator"]


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


def generate(gen: ColumnGenerator, n: int, rng: np.random.Generator, start: int = 0) -> pd.Series:
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
