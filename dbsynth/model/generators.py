"""Bridge to :mod:`dbsynth.sample` for columns the copula does not model (keys, PII, text, unsupported).

The sample package is built alongside this one; until it is importable a small placeholder generator keeps the
engine usable (sequential keys, type-valid placeholders), with the same fit/generate/to_dict interface.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metadata import Column, Table
from ..metadata import sdtypes as st

try:  # pragma: no cover - depends on whether dbsynth.sample has landed
    from ..sample import ColumnGenerator, generator_for  # type: ignore
    from ..sample import repair as _repair  # type: ignore
except ImportError:  # pragma: no cover
    ColumnGenerator = None
    generator_for = None
    _repair = None


class PlaceholderGenerator:
    """Type-valid values for a column: sequential integers/strings, NULL where allowed for unsupported."""

    def __init__(self, column: Column) -> None:
        self.column = column

    def fit(self, series: pd.Series) -> "PlaceholderGenerator":
        return self

    def generate(self, n: int, rng: np.random.Generator, start: int = 0) -> pd.Series:
        c = self.column
        seq = np.arange(start + 1, start + n + 1)
        if c.nullable and c.sdtype == st.UNSUPPORTED:
            return pd.Series([None] * n, dtype="object")
        if c.type == st.INTEGER:
            return pd.Series(seq, dtype="int64")
        if c.type in (st.FLOAT, st.DECIMAL):
            return pd.Series(np.zeros(n))
        if c.type == st.BOOL:
            return pd.Series(np.zeros(n, dtype=bool))
        if c.type in (st.DATE, st.TIMESTAMP):
            ts = pd.Series(pd.to_datetime(np.full(n, "2000-01-01")))
            return ts.dt.tz_localize("UTC") if c.timezone else ts
        if c.type == st.UUID:
            raw = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
            return pd.Series([f"{a:016x}{b:016x}"[:32] for a, b in raw]).map(
                lambda h: f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"
            )
        if c.type in (st.STRING, st.ENUM):
            if c.enum_values:
                return pd.Series(np.array(c.enum_values, dtype=object)[np.zeros(n, dtype=int)], dtype="object")
            s = pd.Series(seq).astype(str).astype("object")
            return s.str.slice(0, c.length) if c.length else s
        return pd.Series([None] * n, dtype="object")

    def to_dict(self) -> dict:
        return {"placeholder": True}


def make_generator(column: Column, table: Table, locales: list[str]):
    """A fitted-able generator for a non-modelled column (from dbsynth.sample when available)."""
    if generator_for is not None:
        gen = generator_for(column, table=table, locales=locales)
        if gen is not None:
            return gen
    return PlaceholderGenerator(column)


def generator_from_dict(d: dict, column: Column):
    """Rebuild a generator saved with ``to_dict``."""
    if d.get("placeholder") or ColumnGenerator is None:
        return PlaceholderGenerator(column)
    return ColumnGenerator.from_dict(d)


def repair(df: pd.DataFrame, table: Table, rng: np.random.Generator) -> pd.DataFrame:
    """Make ``df`` satisfy ``table``'s constraints (dbsynth.sample.repair when available)."""
    if _repair is not None:
        return _repair(df, table, rng)
    for c in table.columns:  # minimal stand-in: string lengths
        if c.length and c.name in df and c.type in (st.STRING,):
            df[c.name] = df[c.name].where(df[c.name].isna(), df[c.name].astype("object").str.slice(0, c.length))
    return df
