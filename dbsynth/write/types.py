"""Map a metadata column (portable type family) to the closest SQLAlchemy type of a target dialect.

The source's exact spelling travels in ``Column.native_type``; it is reused only when the target is the
same dialect (a ``tsvector`` stays a ``tsvector`` PostgreSQL -> PostgreSQL), otherwise the family decides.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ..dialects import Dialect, EnumKind, capabilities, same_dialect
from ..metadata import sdtypes as st
from ..metadata.records import Column, Metadata, Table
from ..read import set_members

__all__ = ["sa_type", "align_foreign_keys", "text_fallbacks"]


def _enum_name(table: Table, col: Column) -> str:
    return col.enum_name or f"{table.name.split('.')[-1]}_{col.name}_enum"[:63]


def sa_type(table: Table, col: Column, dialect: str | Dialect, source_dialect: str | None,
            keyed: bool) -> sa.types.TypeEngine:
    """The SQLAlchemy type to declare ``col`` with in ``dialect``.

    The dialect's :class:`~dbsynth.dialects.TypeTable` gives the type of each family; what stays here is what
    the column's own fields decide (widths, lengths, precision, the source's spelling in a same-dialect clone).

    Args:
        table: the table owning the column (names enum types).
        col: the column.
        dialect: target dialect (a name, ``postgresql``, ``mysql``/``mariadb``, ``sqlite``, or its record).
        source_dialect: the dialect the metadata was read from (``Metadata.dialect``), if known.
        keyed: the column is part of a primary/unique/foreign key (MariaDB needs bounded strings there).

    Returns:
        A type object rendered by SQLAlchemy for the target.
    """
    target, source = capabilities(dialect), capabilities(source_dialect)
    same = same_dialect(source_dialect, dialect)
    native = (col.native_type or "").strip()
    if same and (native or col.type == st.OTHER) and (target.declared_types_verbatim and col.type != st.ENUM
                                                       or _verbatim(col, native, target)):
        # the source's spelling, where nothing portable says it better: SQLite's declared types (their
        # affinity decides what the values become; a column declared without a type stays without one),
        # a MariaDB YEAR or SET, a tsvector, money or geometry
        return _Native(native)
    build = _BY_FAMILY.get(col.type)
    if build is not None:
        return build(table, col, target, source, keyed)
    if col.type == st.OTHER and source.bit_is_number and not same and native.upper().startswith("BIT"):
        return sa.BigInteger()  # MariaDB BIT(n <= 64): its value as a number (the writer turns the bytes into it)
    types = target.types
    if col.type in types.families:
        return types.families[col.type](col)
    return types.key_text(col) if keyed else types.text(col)


def _verbatim(col: Column, native: str, target: Dialect) -> bool:
    """A type of the source no family describes exactly, kept as spelled in a same-dialect clone."""
    if col.type == st.OTHER:
        return bool(native)
    return native.upper().startswith(target.verbatim_spellings.get(col.type, ()))


def _integer(table: Table, col: Column, target: Dialect, source: Dialect, keyed: bool) -> sa.types.TypeEngine:
    types = target.types
    native = (col.native_type or "").strip()
    if col.autoincrement and types.autoincrement_integer is not None:
        return types.autoincrement_integer(col)
    if native.upper().startswith("YEAR"):
        return sa.SmallInteger()  # a MariaDB YEAR elsewhere (1901..2155, and 0)
    if "unsigned" in native.lower():
        unsigned = types.unsigned.get(col.bits or 32, types.unsigned[64])(col)
        if col.autoincrement and not isinstance(unsigned, sa.Integer):
            return sa.BigInteger()  # an identity must be an integer type; keys past 2**63-1 do not happen
        return unsigned
    make = types.integers.get(col.bits or 32)
    return make(col) if make is not None else sa.Integer()


def _float(table: Table, col: Column, target: Dialect, source: Dialect, keyed: bool) -> sa.types.TypeEngine:
    return sa.Float(24) if col.bits == 32 else sa.Double()


def _decimal(table: Table, col: Column, target: Dialect, source: Dialect, keyed: bool) -> sa.types.TypeEngine:
    fits = col.precision and (target.max_decimal_digits is None or col.precision <= target.max_decimal_digits)
    if fits:
        return sa.Numeric(col.precision, col.scale or 0, asdecimal=True)
    if not col.precision and source.unbounded_decimal and not target.unbounded_decimal:
        # a PostgreSQL numeric without precision (or wider than 1000 digits' worth read as one) holds up to
        # 131072 digits: a target whose decimals stop short gets its exact digits as text
        return target.types.text(col)
    return target.types.widest_decimal(col)


def _string(table: Table, col: Column, target: Dialect, source: Dialect, keyed: bool) -> sa.types.TypeEngine:
    members = set_members((col.native_type or "").strip())
    if members:
        return sa.String(max(1, len(",".join(members))))  # a SET elsewhere: text as long as every member at once
    if col.length:
        return sa.String(col.length)
    return target.types.key_text(col) if keyed else target.types.text(col)


def _enum(table: Table, col: Column, target: Dialect, source: Dialect, keyed: bool) -> sa.types.TypeEngine:
    if not col.enum_values:
        return target.types.key_text(col) if keyed else target.types.text(col)
    # PostgreSQL: CREATE TYPE; MariaDB: ENUM(...); SQLite and others: VARCHAR with a CHECK of the allowed values.
    checked = target.enum is EnumKind.CHECK
    return sa.Enum(*col.enum_values, name=_enum_name(table, col), create_constraint=checked, native_enum=not checked,
                   validate_strings=False, length=max(len(v) for v in col.enum_values))


def _array(table: Table, col: Column, target: Dialect, source: Dialect, keyed: bool) -> sa.types.TypeEngine:
    if not target.arrays:
        return target.types.families[st.ARRAY](col)
    item = Column(name=col.name, type=col.item_type or st.STRING)
    return postgresql.ARRAY(sa_type(table, item, target, source.name, False))


#: The families whose type the column's fields decide; the others come from the dialect's type table.
_BY_FAMILY = {
    st.INTEGER: _integer,
    st.FLOAT: _float,
    st.DECIMAL: _decimal,
    st.STRING: _string,
    st.ENUM: _enum,
    st.ARRAY: _array,
}


def align_foreign_keys(metadata: Metadata, tables: dict[str, sa.Table], dialect: str) -> list[str]:
    """Give every foreign-key column of a cross-dialect target its referenced column's type.

    MariaDB refuses a foreign key whose column types differ (error 1005: a SMALLINT referring to an INTEGER
    key), and a narrower column could not hold every key anyway. A same-dialect target keeps the source's
    types (they agreed there).

    Args:
        metadata: the tables being created.
        tables: their SQLAlchemy tables (from ``build_schema``), changed in place.
        dialect: the target dialect.

    Returns:
        ``table.column`` of every column whose type was changed.
    """
    if same_dialect(metadata.dialect, dialect):
        return []
    changed = []
    for table in metadata:
        for fk in table.foreign_keys:
            if fk.ref_table not in tables or table.name not in tables:
                continue
            child, parent = tables[table.name], tables[fk.ref_table]
            for a, b in zip(fk.columns, fk.ref_columns):
                if a not in child.c or b not in parent.c:
                    continue
                want = parent.c[b].type
                if type(child.c[a].type) is not type(want) or repr(child.c[a].type) != repr(want):
                    child.c[a].type = want
                    changed.append(f"{table.name}.{a}")
    return changed


def text_fallbacks(metadata: Metadata, tables: dict[str, sa.Table], dialect: str) -> list[str]:
    """One warning per column of a cross-dialect target that holds as text a type the target has no closer
    type for (ranges, inet, money, xml, geometry, intervals outside PostgreSQL, wide decimals...).

    Args:
        metadata: the tables being created.
        tables: their SQLAlchemy tables (from ``build_schema``).
        dialect: the target dialect.

    Returns:
        ``table 't', column 'c': ...`` sentences.
    """
    if metadata.dialect is None or same_dialect(metadata.dialect, dialect):
        return []
    out = []
    for table in metadata:
        sat = tables.get(table.name)
        if sat is None:
            continue
        for col in table.columns:
            if col.type in (st.STRING, st.ENUM, st.UUID, st.JSON) or col.name not in sat.c:
                continue
            if isinstance(sat.c[col.name].type, sa.String) and not isinstance(sat.c[col.name].type, sa.Enum):
                spelled = col.native_type or col.type
                out.append(f"table '{table.name}', column '{col.name}': {dialect} has no type closer to {spelled}; "
                           "its values are written as their text")
    return out


class _Native(sa.types.UserDefinedType):
    """A type rendered exactly as the source spelled it (same-dialect clones only)."""

    cache_ok = True

    def __init__(self, spelling: str) -> None:
        self.spelling = spelling

    def get_col_spec(self, **kw) -> str:
        return self.spelling
