"""Map a metadata column (portable type family) to the closest SQLAlchemy type of a target dialect.

The source's exact spelling travels in ``Column.native_type``; it is reused only when the target is the
same dialect (a ``tsvector`` stays a ``tsvector`` PostgreSQL -> PostgreSQL), otherwise the family decides.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from ..metadata import sdtypes as st
from ..metadata.records import Column, Metadata, Table
from ..read import set_members

__all__ = ["sa_type", "align_foreign_keys", "text_fallbacks"]

# MariaDB cannot index TEXT without a prefix length: keys and unique columns get a bounded VARCHAR.
_MYSQL_KEY_LENGTH = 255


def _enum_name(table: Table, col: Column) -> str:
    return col.enum_name or f"{table.name.split('.')[-1]}_{col.name}_enum"[:63]


def sa_type(table: Table, col: Column, dialect: str, source_dialect: str | None, keyed: bool) -> sa.types.TypeEngine:
    """The SQLAlchemy type to declare ``col`` with in ``dialect``.

    Args:
        table: the table owning the column (names enum types).
        col: the column.
        dialect: target dialect name (``postgresql``, ``mysql``/``mariadb``, ``sqlite``).
        source_dialect: the dialect the metadata was read from (``Metadata.dialect``), if known.
        keyed: the column is part of a primary/unique/foreign key (MariaDB needs bounded strings there).

    Returns:
        A type object rendered by SQLAlchemy for the target.
    """
    fam = col.type
    is_pg, is_my, is_lite = dialect == "postgresql", dialect in ("mysql", "mariadb"), dialect == "sqlite"
    same = source_dialect is not None and (source_dialect == dialect or {source_dialect, dialect} <= {"mysql", "mariadb"})
    native = (col.native_type or "").strip()
    if is_lite and same and fam != st.ENUM and (native or fam == st.OTHER):
        # SQLite -> SQLite: the declared type as written (its affinity decides what the values become); a
        # column declared without a type stays without one (it keeps integers, reals, text and blobs as given)
        return _Native(native)
    if fam == st.INTEGER:
        if is_lite and col.autoincrement:
            return sa.Integer()  # only INTEGER PRIMARY KEY is SQLite's auto-assigned rowid
        if native.upper().startswith("YEAR"):
            return _Native(native) if is_my and same else sa.SmallInteger()
        if "unsigned" in native.lower():
            if col.autoincrement and (col.bits or 32) >= 64 and not is_my:
                return sa.BigInteger()  # an identity must be an integer type; keys past 2**63-1 do not happen
            return _unsigned(col.bits or 32, dialect)
        if col.bits == 16:
            return sa.SmallInteger()
        if col.bits == 64:
            return sa.BigInteger()
        if is_my and same and col.bits in (8, 24):
            return mysql.TINYINT() if col.bits == 8 else mysql.MEDIUMINT()
        return sa.Integer()
    if fam == st.FLOAT:
        return sa.Float(24) if col.bits == 32 else sa.Double()
    if fam == st.DECIMAL:
        if is_lite and (col.precision is None or col.precision > 15):
            # SQLite has no decimal: NUMERIC affinity turns any number of more than 15 digits into a REAL, so
            # wide and unconstrained decimals are kept as their exact text (TEXT affinity)
            return sa.Text()
        if col.precision:
            return sa.Numeric(col.precision, col.scale or 0, asdecimal=True)
        if is_my and source_dialect == "postgresql":
            # a PostgreSQL numeric without precision (or wider than 1000 digits' worth read as one) holds up to
            # 131072 digits: MariaDB's DECIMAL stops at 65, so its exact digits go as text
            return mysql.LONGTEXT()
        # MariaDB needs a precision: its widest, with 30 places (a float's 17 significant digits fit there
        # exactly, a SQLite NUMERIC's int64 too)
        return sa.Numeric(65, 30) if is_my else sa.Numeric()
    if fam == st.STRING:
        members = set_members(native)
        if members:
            # MariaDB SET: the same type in MariaDB, else text as long as every member at once
            return _Native(native) if is_my and same else sa.String(max(1, len(",".join(members))))
        if col.length:
            return sa.String(col.length)
        if is_my:
            return sa.String(_MYSQL_KEY_LENGTH) if keyed else mysql.LONGTEXT()
        return sa.Text()
    if fam == st.BOOL:
        return sa.Boolean()
    if fam == st.DATE:
        return sa.Date()
    if fam == st.TIME:
        return mysql.TIME(fsp=6) if is_my else sa.Time(timezone=col.timezone and is_pg)
    if fam == st.TIMESTAMP:
        if is_my:
            return mysql.DATETIME(fsp=6)  # MariaDB has no zone: values are written as UTC
        return sa.DateTime(timezone=col.timezone)
    if fam == st.INTERVAL:
        return postgresql.INTERVAL() if is_pg else sa.String(64)
    if fam == st.UUID:
        return postgresql.UUID(as_uuid=False) if is_pg else sa.String(36)
    if fam == st.JSON:
        if is_pg:
            return postgresql.JSONB() if (col.native_type or "").lower() == "jsonb" else postgresql.JSON()
        return sa.JSON()
    if fam == st.BINARY:
        return mysql.LONGBLOB() if is_my else sa.LargeBinary()
    if fam == st.ENUM and col.enum_values:
        # PostgreSQL: CREATE TYPE; MariaDB: ENUM(...); SQLite: VARCHAR with a CHECK of the allowed values.
        return sa.Enum(
            *col.enum_values,
            name=_enum_name(table, col),
            create_constraint=is_lite,
            native_enum=not is_lite,
            validate_strings=False,
            length=max(len(v) for v in col.enum_values),
        )
    if fam == st.ARRAY:
        if is_pg:
            item = Column(name=col.name, type=col.item_type or st.STRING)
            return postgresql.ARRAY(sa_type(table, item, dialect, source_dialect, False))
        return sa.JSON() if not is_lite else sa.Text()
    if fam == st.OTHER and not same and source_dialect in ("mysql", "mariadb") and native.upper().startswith("BIT"):
        return sa.BigInteger()  # MariaDB BIT(n <= 64): its value as a number (the writer turns the bytes into it)
    if fam == st.OTHER and same and col.native_type:
        # Same dialect: keep the native type (tsvector, money, geometry...) verbatim.
        return _Native(col.native_type)
    if is_my:
        return sa.String(_MYSQL_KEY_LENGTH) if keyed else mysql.LONGTEXT()
    return sa.Text()


def _unsigned(bits: int, dialect: str) -> sa.types.TypeEngine:
    """An unsigned integer of ``bits``: the same UNSIGNED type in MariaDB, else the next wider signed type
    (PostgreSQL NUMERIC(20, 0) for BIGINT UNSIGNED; SQLite VARCHAR(20) for it, since SQLite's integers are
    int64 and a larger value sent as text to a numeric column would be rounded to REAL)."""
    if dialect in ("mysql", "mariadb"):
        kind = {8: mysql.TINYINT, 16: mysql.SMALLINT, 24: mysql.MEDIUMINT, 32: mysql.INTEGER}.get(bits, mysql.BIGINT)
        return kind(unsigned=True)
    if bits >= 64:
        return sa.Numeric(20, 0) if dialect == "postgresql" else sa.String(20)
    if bits >= 32:
        return sa.BigInteger()
    return sa.Integer() if bits >= 16 else sa.SmallInteger()


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
    src = metadata.dialect
    if src is not None and (src == dialect or {src, dialect} <= {"mysql", "mariadb"}):
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
    src = metadata.dialect
    if src is None or src == dialect or {src, dialect} <= {"mysql", "mariadb"}:
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
