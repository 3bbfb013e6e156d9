"""Describe data that has no database behind it (CSV files, DataFrames) as :class:`Metadata`.

Types come from dtypes (and, for text columns, from what the values look like); primary keys from names
(``id``, ``<table>_id``) checked for uniqueness; foreign keys from a column named like another table's
primary key whose values all exist in it. A string column whose values are all distinct is text, never a
category (a lookup table's names: each label once, none reaches the k rows the model may keep).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ..errors import MetadataError
from . import sdtypes as st
from .infer import normalise_name, sdtype_for
from .records import Column, ForeignKey, Metadata, Table

__all__ = ["detect_from_dataframes"]

_DATE_LIKE = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?$"
_UUID_LIKE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_BOOL_WORDS = {"true", "false", "t", "f", "yes", "no"}


@dataclass(frozen=True)
class _Stats:
    distinct: int
    non_null: int

    @property
    def distinct_ratio(self) -> float:
        return self.distinct / self.non_null if self.non_null else 0.0


def detect_from_dataframes(
    frames: Mapping[str, pd.DataFrame],
    *,
    primary_keys: Mapping[str, str | list[str]] | None = None,
) -> Metadata:
    """Build metadata from a dict of DataFrames.

    Args:
        frames: ``{table name: DataFrame}``.
        primary_keys: primary keys to use instead of detecting them (``{table: column or [columns]}``).

    Returns:
        Validated metadata with types, sdtypes, primary keys and foreign keys.

    Raises:
        MetadataError: no frames, a frame that is not a DataFrame, or a given primary key column that does
            not exist.
    """
    if not frames:
        raise MetadataError("no DataFrames to detect metadata from")
    primary_keys = dict(primary_keys or {})
    unknown = sorted(set(primary_keys) - set(frames))
    if unknown:
        raise MetadataError(f"primary_keys names unknown tables: {', '.join(unknown)}")
    md = Metadata()
    for name, frame in frames.items():
        if not isinstance(frame, pd.DataFrame):
            raise MetadataError(f"expected a DataFrame, got {type(frame).__name__}", table=name)
        table = Table(name=name, columns=[_column(str(c), frame[c]) for c in frame.columns], row_count=len(frame))
        given = primary_keys.get(name)
        if given is not None:
            pk = [given] if isinstance(given, str) else list(given)
            for c in pk:
                if c not in frame.columns:
                    raise MetadataError("primary key column does not exist", table=name, column=c)
            table.primary_key = pk
        else:
            table.primary_key = _detect_pk(name, frame)
        md.add_table(table)
    for name, frame in frames.items():
        md.tables[name].foreign_keys = _detect_fks(name, frame, md, frames)
    for name, frame in frames.items():
        table = md.tables[name]
        keys = set(table.primary_key) | {c for fk in table.foreign_keys for c in fk.columns}
        for col in table.columns:
            s = frame[col.name]
            stat = _Stats(int(s.nunique(dropna=True)), int(s.notna().sum())) if col.type == st.STRING else None
            col.sdtype = sdtype_for(col, col.name in keys, stat)
            if col.sdtype == st.CATEGORICAL and stat is not None and _each_value_once(stat):
                # a lookup table's names (every value once): no label reaches the k rows a category needs, so
                # there is nothing to model; generated as text of the kind they are (dbsynth.model.text),
                # distinct like the source
                col.sdtype = st.TEXT
    return md.validate()


def _each_value_once(stat: _Stats) -> bool:
    """Whether every non-NULL value of a column is distinct (and there are at least two)."""
    return stat.non_null > 1 and stat.distinct == stat.non_null


def _column(name: str, s: pd.Series) -> Column:
    nullable = bool(s.isna().any())
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return Column(name=name, type=st.BOOL, nullable=nullable)
    if pd.api.types.is_integer_dtype(dtype):
        return Column(name=name, type=st.INTEGER, bits=64, nullable=nullable)
    if pd.api.types.is_float_dtype(dtype):
        # floats that are all whole numbers with NULLs are integer columns pandas widened (CSV with blanks)
        values = s.dropna()
        if nullable and len(values) and bool((values == values.round()).all()) and name.lower().endswith("id"):
            return Column(name=name, type=st.INTEGER, bits=64, nullable=True)
        return Column(name=name, type=st.FLOAT, bits=64, nullable=nullable)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return Column(name=name, type=st.TIMESTAMP, timezone=True, nullable=nullable)
    if pd.api.types.is_datetime64_dtype(dtype):
        values = s.dropna()
        is_date = len(values) > 0 and bool((values == values.dt.normalize()).all())
        return Column(name=name, type=st.DATE if is_date else st.TIMESTAMP, nullable=nullable)
    if pd.api.types.is_timedelta64_dtype(dtype):
        return Column(name=name, type=st.INTERVAL, nullable=nullable)
    return _object_column(name, s, nullable)


def _object_column(name: str, s: pd.Series, nullable: bool) -> Column:
    values = s.dropna()
    if values.empty:
        return Column(name=name, type=st.STRING, nullable=True)
    first = values.iloc[0]
    if isinstance(first, (dict, list)):
        return Column(name=name, type=st.JSON if isinstance(first, dict) else st.ARRAY, nullable=nullable)
    if isinstance(first, (bytes, bytearray, memoryview)):
        return Column(name=name, type=st.BINARY, nullable=nullable)
    text = values.astype(str)
    if bool(text.str.match(_UUID_LIKE).all()):
        return Column(name=name, type=st.UUID, nullable=nullable)
    if bool(text.str.match(_DATE_LIKE).all()):
        has_time = bool(text.str.len().gt(10).any())
        return Column(name=name, type=st.TIMESTAMP if has_time else st.DATE, nullable=nullable)
    if set(text.str.lower().unique()) <= _BOOL_WORDS:
        return Column(name=name, type=st.BOOL, nullable=nullable)
    return Column(name=name, type=st.STRING, length=None, nullable=nullable)


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith("ses") or name.endswith("xes"):
        return name[:-2]
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _is_key(s: pd.Series) -> bool:
    return len(s) > 0 and not s.isna().any() and s.is_unique


def _detect_pk(table: str, frame: pd.DataFrame) -> list[str]:
    norm = {normalise_name(str(c)): c for c in frame.columns}
    base = normalise_name(table)
    for candidate in ("id", f"{base}_id", f"{_singular(base)}_id", f"{base}id", f"{_singular(base)}id"):
        col = norm.get(candidate)
        if col is not None and _is_key(frame[col]):
            return [str(col)]
    return []


def _detect_fks(name: str, frame: pd.DataFrame, md: Metadata, frames: Mapping[str, pd.DataFrame]) -> list[ForeignKey]:
    own_pk = md.tables[name].primary_key
    fks: list[ForeignKey] = []
    for col in frame.columns:
        col = str(col)
        if own_pk == [col]:
            continue
        ncol = normalise_name(col)
        for parent_name, parent in md.tables.items():
            if parent_name == name or len(parent.primary_key) != 1:
                continue
            pk = parent.primary_key[0]
            npk = normalise_name(pk)
            # "user_id" refers to users.user_id, or to users.id
            named = ncol == npk or (npk == "id" and ncol == f"{_singular(normalise_name(parent_name))}_id")
            if not named:
                continue
            values = frame[col].dropna()
            if values.empty or not bool(values.isin(frames[parent_name][pk]).all()):
                continue
            fks.append(ForeignKey(columns=[col], ref_table=parent_name, ref_columns=[pk]))
            break
    return fks
