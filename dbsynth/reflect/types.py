"""SQL types as SQLAlchemy reflects them -> the portable fields of :class:`~dbsynth.metadata.Column`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.engine import Dialect

from ..dialects import capabilities, family_types
from ..metadata import sdtypes as st

__all__ = ["TypeInfo", "map_type", "MAX_DECIMAL_PRECISION", "MAX_DECIMAL_SCALE"]

log = logging.getLogger("dbsynth")

#: Widest DECIMAL kept as declared: MariaDB's limits (65 digits, 38 after the point). PostgreSQL allows up to
#: NUMERIC(1000, 1000); such columns are read as unconstrained decimals (see :func:`map_type`).
MAX_DECIMAL_PRECISION = 65
MAX_DECIMAL_SCALE = 38


@dataclass
class TypeInfo:
    """What a SQL type says about a column's storage."""

    type: str
    native_type: str | None = None
    bits: int | None = None
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    timezone: bool = False
    enum_name: str | None = None
    enum_values: list[str] | None = None
    item_type: str | None = None
    note: str | None = None
    """Why the type was read differently from its declaration, when it was."""


def _native(sqltype: sa.types.TypeEngine, dialect: Dialect) -> str | None:
    try:
        return str(sqltype.compile(dialect=dialect))
    except Exception:  # types a dialect cannot render (NullType for unknown types)
        return None


def _int_bits(sqltype: sa.types.TypeEngine) -> int:
    name = type(sqltype).__name__.upper()
    if "TINY" in name:
        return 8
    if "SMALL" in name:
        return 16
    if "MEDIUM" in name:
        return 24
    if "BIG" in name:
        return 64
    return 32


class _Spatial(sa.types.UserDefinedType):
    """A MariaDB/MySQL spatial type SQLAlchemy does not know (it reflects them as NullType, losing the name)."""

    cache_ok = True
    name = "GEOMETRY"

    def get_col_spec(self, **kw) -> str:
        return self.name


def _register_spatial() -> None:
    from sqlalchemy.dialects.mysql import base as mysql_base

    for spelling in ("geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
                     "multipolygon", "geometrycollection"):
        if spelling not in mysql_base.ischema_names:
            mysql_base.ischema_names[spelling] = type(spelling.upper(), (_Spatial,), {"name": spelling.upper()})


_register_spatial()


def _family(sqltype: sa.types.TypeEngine) -> TypeInfo:
    """The family of ``sqltype`` without dialect rendering: the dialects' own spellings first, then SQLAlchemy's
    generic classes (:func:`dbsynth.dialects.family_types`, the table the writer reads the other way)."""
    if isinstance(sqltype, pg.DOMAIN):
        base = sqltype.data_type
        base = base() if isinstance(base, type) else base
        return _family(base)
    if type(sqltype).__name__ == "TINYINT" and getattr(sqltype, "display_width", None) == 1:
        return TypeInfo(st.BOOL)  # MySQL/MariaDB spell BOOLEAN as TINYINT(1)
    if type(sqltype).__name__ == "YEAR":
        return TypeInfo(st.INTEGER, bits=16)  # MariaDB YEAR: 1901..2155 and 0 (written back as a SMALLINT)
    if isinstance(sqltype, mysql.SET):
        # SQLAlchemy gives a SET the length of its longest member; a value may hold every member at once, and
        # a cut to the longest member makes values the type refuses
        return TypeInfo(st.STRING, length=st.set_length([str(m) for m in sqltype.values]))
    family = next((row.family for row in family_types() if isinstance(sqltype, row.reads)), st.OTHER)
    details = _DETAILS.get(family)
    # tsvector, money, geometry, inet, NullType for types SQLAlchemy does not know... are "other"
    return details(sqltype) if details is not None else TypeInfo(family)


def _enum(sqltype: Any) -> TypeInfo:
    return TypeInfo(st.ENUM, enum_name=getattr(sqltype, "name", None), enum_values=list(sqltype.enums))


def _integer(sqltype: Any) -> TypeInfo:
    return TypeInfo(st.INTEGER, bits=_int_bits(sqltype))


def _float(sqltype: Any) -> TypeInfo:
    name = type(sqltype).__name__.upper()
    bits = 32 if name in ("REAL", "FLOAT4") or getattr(sqltype, "precision", None) in range(1, 25) else 64
    return TypeInfo(st.FLOAT, bits=bits)


def _decimal(sqltype: Any) -> TypeInfo:
    precision, scale = sqltype.precision, sqltype.scale
    if (precision or 0) > MAX_DECIMAL_PRECISION or (scale or 0) > MAX_DECIMAL_SCALE:
        # Values are modelled as float64 (about 15 significant digits); rounding to 500 places or clipping
        # at 10**1000 overflows it. The column is a decimal without precision: the values fit the
        # declared type, and a target of the same dialect gets an unconstrained NUMERIC.
        return TypeInfo(
            st.DECIMAL,
            note=f"NUMERIC({precision}, {scale or 0}) is wider than float64 carries: read as an unconstrained "
            "decimal, its values modelled as floats (about 15 significant digits)",
        )
    return TypeInfo(st.DECIMAL, precision=precision, scale=scale)


#: What a family's reflected type says beyond the family (widths, lengths, zones, values).
_DETAILS: dict[str, Callable[[Any], TypeInfo]] = {
    st.ENUM: _enum,
    st.INTEGER: _integer,
    st.FLOAT: _float,
    st.DECIMAL: _decimal,
    st.TIMESTAMP: lambda t: TypeInfo(st.TIMESTAMP, timezone=bool(t.timezone)),
    st.TIME: lambda t: TypeInfo(st.TIME, timezone=bool(t.timezone)),
    st.ARRAY: lambda t: TypeInfo(st.ARRAY, item_type=_family(t.item_type).type),
    st.BINARY: lambda t: TypeInfo(st.BINARY, length=getattr(t, "length", None)),
    st.STRING: lambda t: TypeInfo(st.STRING, length=t.length),
}


def map_type(sqltype: sa.types.TypeEngine, dialect: Dialect) -> TypeInfo:
    """Map a reflected SQLAlchemy type to dbsynth's portable type fields.

    Args:
        sqltype: the type from ``Inspector.get_multi_columns``.
        dialect: the source dialect, used to spell ``native_type``.

    Returns:
        The type family and its details; ``native_type`` as the dialect spells it (the domain or enum
        name for PostgreSQL domains and enums).
    """
    info = _family(sqltype)
    caps = capabilities(dialect)
    if caps.affinity and info.type in (st.INTEGER, st.FLOAT):
        # SQLite's INTEGER affinity stores any int64 and REAL is an 8-byte float, whatever the declared
        # spelling (INT, SMALLINT, REAL, FLOAT): a narrower target type would refuse or round its values
        info.bits = 64
    if caps.float_is_single and type(sqltype).__name__ == "FLOAT" and info.type == st.FLOAT:
        # MariaDB's FLOAT without a precision (or up to 24) is 4 bytes: a DOUBLE target would change the values
        info.bits = 32 if (getattr(sqltype, "precision", None) or 0) <= 24 else 64
    if isinstance(sqltype, (pg.DOMAIN, pg.ENUM)) and getattr(sqltype, "name", None):
        info.native_type = sqltype.name
    else:
        info.native_type = _native(sqltype, dialect)
    if info.note:
        log.info("note: %s", info.note)
    return info
