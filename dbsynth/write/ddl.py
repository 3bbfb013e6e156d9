"""Build the target schema (SQLAlchemy Core ``Table`` objects) from metadata, create, drop and compare it.

Tables are created under their bare name (``public.film`` becomes ``film``) in the target's default schema.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from ..errors import SchemaMismatchError
from ..metadata import sdtypes as st
from ..metadata.records import Column, Metadata, Table
from .types import sa_type

__all__ = ["target_name", "build_schema", "drop_tables", "schema_differences", "dialect_name"]

_NUMBER = re.compile(r"^\(?-?\d+(\.\d+)?\)?$")
_QUOTED = re.compile(r"^'((?:[^']|'')*)'(::[\w .\"]+)?$")
_NOW = re.compile(r"^(now\(\)|current_timestamp(\(\))?|localtimestamp)$", re.I)


def dialect_name(engine_or_conn) -> str:
    """``postgresql``, ``mysql`` (MariaDB included) or ``sqlite``."""
    name = engine_or_conn.dialect.name
    return "mysql" if name == "mariadb" else name


def target_name(table: Table) -> str:
    """The name ``table`` gets in the target: its metadata name without the source schema prefix."""
    if table.schema and table.name.startswith(table.schema + "."):
        return table.name[len(table.schema) + 1 :]
    return table.name


def _portable_default(col: Column):
    """A server default that means the same in every dialect, or None (sequences, functions...)."""
    text = (col.default or "").strip()
    if not text or col.autoincrement:
        return None
    if _NUMBER.match(text) and col.type in (st.INTEGER, st.FLOAT, st.DECIMAL):
        return sa.text(text.strip("()"))
    m = _QUOTED.match(text)
    if m and col.type in (st.STRING, st.ENUM):
        return m.group(1).replace("''", "'")
    if col.type == st.BOOL and text.lower() in ("true", "false", "1", "0", "b'1'", "b'0'"):
        return sa.true() if text.lower() in ("true", "1", "b'1'") else sa.false()
    if _NOW.match(text) and col.type == st.TIMESTAMP:
        return sa.func.current_timestamp()
    return None


def build_schema(
    metadata: Metadata,
    dialect: str,
    deferred: set[tuple[str, str]],
    names: dict[str, str] | None = None,
    fk_names: dict[tuple[str, str], str] | None = None,
) -> tuple[sa.MetaData, dict[str, sa.Table]]:
    """SQLAlchemy tables for ``metadata`` in ``dialect``.

    Args:
        metadata: the tables to create.
        dialect: target dialect (``postgresql``, ``mysql``, ``sqlite``).
        deferred: (table, fk name) pairs that close a cycle; they are created with ``ALTER TABLE`` after the
            tables (where the dialect can) so that the tables can be created at all.
        names: target table name per metadata table name (staging tables); default :func:`target_name`.
        fk_names: foreign-key constraint name per (metadata table, fk name) (staging tables: MariaDB wants
            them unique per database); default the metadata's name.

    Returns:
        The ``MetaData`` and the tables by metadata table name.
    """
    same = metadata.dialect is not None and (
        metadata.dialect == dialect or {metadata.dialect, dialect} <= {"mysql", "mariadb"}
    )
    md = sa.MetaData()
    out: dict[str, sa.Table] = {}
    for table in metadata:
        keyed = set(table.primary_key)
        for fk in table.foreign_keys:
            keyed.update(fk.columns)
        for uc in table.unique_constraints:
            keyed.update(uc.columns)
        single_int_pk = (
            len(table.primary_key) == 1 and table.column(table.primary_key[0]).type == st.INTEGER
        )
        cols = []
        for col in table.columns:
            if col.computed:
                # Generated columns are recomputed by the target only in the same dialect.
                if not same:
                    continue
                cols.append(
                    sa.Column(col.name, sa_type(table, col, dialect, metadata.dialect, col.name in keyed),
                              sa.Computed(col.computed), nullable=col.nullable)
                )
                continue
            args: list = []
            auto = col.autoincrement and col.type == st.INTEGER
            if auto and dialect == "postgresql":
                args.append(sa.Identity())  # BY DEFAULT: explicit keys can still be loaded
            is_auto_pk = auto and single_int_pk and col.name in table.primary_key
            cols.append(
                sa.Column(
                    col.name,
                    sa_type(table, col, dialect, metadata.dialect, col.name in keyed),
                    *args,
                    nullable=col.nullable and col.name not in table.primary_key,
                    server_default=_portable_default(col),
                    autoincrement=(auto if dialect == "postgresql" else is_auto_pk),
                    comment=col.comment if dialect != "sqlite" else None,
                )
            )
        constraints: list = []
        if table.primary_key:
            constraints.append(sa.PrimaryKeyConstraint(*table.primary_key))
        for uc in table.unique_constraints:
            constraints.append(sa.UniqueConstraint(*uc.columns, name=_short(uc.name, dialect)))
        if same:
            for ck in table.check_constraints:
                constraints.append(sa.CheckConstraint(sa.text(ck.sqltext), name=_short(ck.name, dialect)))
        out[table.name] = sa.Table((names or {}).get(table.name) or target_name(table), md, *cols, *constraints)
    # Foreign keys once every table exists, referring to Column objects: a "parent.column" string would be
    # parsed as schema.table.column, which breaks on a table named "my.table".
    for table in metadata:
        for fk in table.foreign_keys:
            if fk.ref_table not in metadata.tables:
                continue
            parent = out[fk.ref_table]
            name = (fk_names or {}).get((table.name, fk.name or ""), fk.name)
            out[table.name].append_constraint(
                sa.ForeignKeyConstraint(
                    fk.columns,
                    [parent.c[c] for c in fk.ref_columns],
                    name=_short(name, dialect),
                    ondelete=fk.on_delete if fk.on_delete and fk.on_delete.upper() != "NO ACTION" else None,
                    use_alter=(table.name, fk.name) in deferred and dialect != "sqlite",
                )
            )
    return md, out


def _short(name: str | None, dialect: str) -> str | None:
    # MariaDB caps identifiers at 64 characters, PostgreSQL at 63.
    if name is None:
        return None
    return name[: 64 if dialect == "mysql" else 63]


def drop_tables(conn: sa.Connection, tables: list[sa.Table], dialect: str) -> None:
    """Drop ``tables`` (children first) if they exist, with the enum types dbsynth created for them."""
    prep = sa.inspect(conn).get_table_names()
    existing = set(prep)
    quote = conn.dialect.identifier_preparer.quote
    for t in reversed(tables):
        if t.name not in existing:
            continue
        cascade = " CASCADE" if dialect == "postgresql" else ""
        conn.exec_driver_sql(f"DROP TABLE {quote(t.name)}{cascade}")
    if dialect == "postgresql":
        for t in tables:
            for c in t.columns:
                if isinstance(c.type, sa.Enum) and c.type.name:
                    conn.exec_driver_sql(f"DROP TYPE IF EXISTS {quote(c.type.name)} CASCADE")


def schema_differences(conn: sa.Connection, metadata: Metadata, tables: dict[str, sa.Table]) -> list[str]:
    """Every way the target's existing tables differ from the metadata, one short sentence each.

    Checked: missing tables, missing columns, and target columns the load would leave NULL although they are
    NOT NULL without a default.
    """
    insp = sa.inspect(conn)
    existing = set(insp.get_table_names())
    problems: list[str] = []
    for name, sat in tables.items():
        if sat.name not in existing:
            problems.append(f"table '{sat.name}' is missing in the target")
            continue
        target_cols = {c["name"]: c for c in insp.get_columns(sat.name)}
        wanted = [c.name for c in metadata.tables[name].columns if not c.computed]
        for col in wanted:
            if col not in target_cols:
                problems.append(f"column '{sat.name}.{col}' is missing in the target")
        for col, info in target_cols.items():
            if col in wanted or info.get("nullable", True):
                continue
            if info.get("default") is None and not info.get("autoincrement") and not info.get("identity"):
                problems.append(f"target column '{sat.name}.{col}' is NOT NULL without a default and not in the metadata")
    return problems


def check_schema(conn: sa.Connection, metadata: Metadata, tables: dict[str, sa.Table]) -> None:
    """Raise :class:`SchemaMismatchError` listing every difference (see :func:`schema_differences`)."""
    problems = schema_differences(conn, metadata, tables)
    if problems:
        raise SchemaMismatchError(
            "the target schema differs from the metadata: " + "; ".join(problems),
            hint="Migrate the target, or use mode='replace' to recreate the tables.",
        )
