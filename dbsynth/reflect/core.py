"""Reflect a PostgreSQL, MariaDB/MySQL or SQLite database into :class:`Metadata`.

One SQLAlchemy Inspector answers batch ``get_multi_*`` calls (one catalog query per kind of object, not one
per table), inside a read-only transaction: reflection never writes to the source.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import URL, Inspector
from sqlalchemy.engine.interfaces import (
    ReflectedCheckConstraint,
    ReflectedColumn,
    ReflectedIndex,
    ReflectedTableComment,
    ReflectedUniqueConstraint,
)

from ..db import database_identity, read_only_connection
from ..db import engine as make_engine
from ..dialects import capabilities
from ..errors import ConnectError, ReflectionError, mask_secrets, mask_url
from ..metadata import sdtypes as st
from ..metadata.infer import infer_sdtypes
from ..metadata.records import CheckConstraint, Column, ForeignKey, Metadata, Table, UniqueConstraint
from .types import map_type

__all__ = ["reflect"]

TableKey = tuple[str | None, str]  # (schema as SQLAlchemy reports it, table name)


def reflect(
    url: str | URL | sa.Engine,
    schema: str | list[str] | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    statistics: bool = True,
) -> Metadata:
    """:func:`dbsynth.reflect.reflect` (documented there; this module holds the work, imported on first call)."""
    own_engine = not isinstance(url, sa.Engine)
    eng = url if isinstance(url, sa.Engine) else make_engine(url, read_only=True)
    try:
        with read_only_connection(eng) as conn, warnings.catch_warnings():
            # Types SQLAlchemy does not know (citext, ltree...) become family "other"; its warning is noise.
            warnings.filterwarnings("ignore", message="Did not recognize type", category=sa.exc.SAWarning)
            metadata = _reflect(conn, schema, include, exclude, statistics)
            # Which database this is, as the server says (never its URL or password): write() refuses it.
            metadata.source_identity = database_identity(conn)
            return metadata
    except sa.exc.OperationalError as exc:
        raise ConnectError(
            f"lost the connection to '{mask_url(eng.url)}' while reflecting: "
            f"{mask_secrets(str(exc.orig).splitlines()[0], eng.url)}"
        ) from None
    finally:
        if own_engine:
            eng.dispose()


def _reflect(conn: sa.Connection, schema, include, exclude, statistics: bool) -> Metadata:
    insp: Inspector = sa.inspect(conn)
    dialect = conn.dialect
    schemas: list[str | None] = [schema] if schema is None or isinstance(schema, str) else list(schema)
    multi = len(schemas) > 1
    default_schema = insp.default_schema_name

    def key_of(sch: str | None, name: str) -> str:
        return f"{sch or default_schema}.{name}" if multi else name

    # PostgreSQL partitions are tables of their own in the catalog; they are storage of the parent.
    partition_parent = _pg_partitions(conn) if capabilities(dialect).partitions else {}

    named = [s for s in schemas if s is not None]
    if named:
        # a schema that does not exist lists no tables, like an empty one: a typo in a list would pass unseen
        known = insp.get_schema_names()
        missing = [s for s in named if s not in known]
        if missing:
            shown = ", ".join(n for n in known if n not in ("information_schema", "pg_catalog", "pg_toast"))
            raise ReflectionError(
                f"the source database has no schema {', '.join(repr(m) for m in missing)}",
                hint=f"Its schemas are: {shown}. Fix the schema option (source.schema or --schema).",
            )

    tables: dict[TableKey, str] = {}  # (schema, name) -> metadata key
    for sch in schemas:
        try:
            names = insp.get_table_names(schema=sch)
        except sa.exc.NoSuchTableError:
            names = []
        except sa.exc.DBAPIError as exc:
            reason = str(exc.orig).splitlines()[0]
            raise ReflectionError(f"cannot list the tables of schema '{sch}': {reason}") from None
        for name in names:
            if (sch or default_schema, name) in partition_parent:
                continue
            tables[(sch, name)] = key_of(sch, name)

    if not tables:
        where = f"schema(s) {', '.join(str(s) for s in schemas)}" if schema else "the default schema"
        raise ReflectionError(
            f"'{mask_url(conn.engine.url)}' has no tables in {where}",
            hint="Check the database name and the schema option.",
        )
    _apply_filters(tables, include, exclude)

    metadata = Metadata(dialect=dialect.name)
    by_schema: dict[str | None, list[str]] = {}
    for sch, name in tables:
        by_schema.setdefault(sch, []).append(name)

    for sch, names in by_schema.items():
        columns = insp.get_multi_columns(schema=sch, filter_names=names)
        pks = insp.get_multi_pk_constraint(schema=sch, filter_names=names)
        fks = _fks_with_partitions(insp, sch, names, partition_parent, default_schema)
        uniques = insp.get_multi_unique_constraints(schema=sch, filter_names=names)
        indexes = insp.get_multi_indexes(schema=sch, filter_names=names)
        checks: dict[TableKey, list[ReflectedCheckConstraint]] = {}
        with contextlib.suppress(NotImplementedError):  # every supported dialect has them
            checks = dict(insp.get_multi_check_constraints(schema=sch, filter_names=names))
        comments: dict[TableKey, ReflectedTableComment] = {}
        with contextlib.suppress(NotImplementedError):  # SQLite keeps no comments
            comments = dict(insp.get_multi_table_comment(schema=sch, filter_names=names))
        json_checks = _mysql_checks(conn, sch) if capabilities(dialect).json_valid_checks else {}
        for name in names:
            k = (sch, name)
            table = Table(name=tables[k], schema=sch)
            pk = pks.get(k)
            table.primary_key = list(pk["constrained_columns"] or []) if pk else []
            for info in columns.get(k, []):
                table.columns.append(_column(info, dialect))
            _sqlite_rowid_autoincrement(table, dialect.name)
            table.foreign_keys, table.outside_foreign_keys = _foreign_keys(
                fks.get(k, []), sch, tables, partition_parent, default_schema, multi
            )
            table.unique_constraints = _uniques(uniques.get(k, []), indexes.get(k, []), table.primary_key)
            table.check_constraints = [
                CheckConstraint(sqltext=str(c["sqltext"]), name=c.get("name")) for c in checks.get(k, [])
            ]
            comment = comments.get(k)
            table.comment = comment["text"] if comment else None
            _mariadb_json(table, json_checks.get(name, ()))
            metadata.add_table(table)

    _capture_ddl(conn, metadata, default_schema)
    if statistics:
        from .stats import read_statistics

        stats = read_statistics(conn, metadata)
    else:
        stats = {}
    infer_sdtypes(metadata, stats)
    return metadata.validate()


def _capture_ddl(conn: sa.Connection, metadata: Metadata, default_schema: str | None) -> None:
    """The source's own DDL for same-dialect clones (see :mod:`dbsynth.reflect.ddl`); without it (a catalog
    the role may not read) clones build the tables from the records, as cross-dialect clones do."""
    from .ddl import capture_ddl

    try:
        with conn.begin_nested():  # a failed catalog query must not abort the reflection's transaction
            capture_ddl(conn, metadata, default_schema)
    except sa.exc.DBAPIError as exc:
        import logging

        logging.getLogger("dbsynth").warning(
            "could not read the source's DDL (%s); a same-dialect clone builds the tables from the metadata",
            str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__,
        )
        for table in metadata:
            table.native_ddl = None
        metadata.native_objects = []


def _apply_filters(tables: dict[TableKey, str], include, exclude) -> None:
    known = set(tables.values())
    # With several schemas the keys are schema.name; a bare name that is unique across them means that table.
    bare: dict[str, list[str]] = {}
    for (_, name), key in tables.items():
        if key != name:
            bare.setdefault(name, []).append(key)

    def resolve(names) -> list[str]:
        out: list[str] = []
        for n in names:
            if n not in known and len(bare.get(n, ())) > 1:
                raise ReflectionError(
                    f"table name '{n}' is in several schemas ({', '.join(sorted(bare[n]))}) in include/exclude: "
                    "write it as schema.table"
                )
            out.append(bare[n][0] if n not in known and n in bare else n)
        return out

    wanted = resolve(include) if include is not None else None
    unwanted = resolve(exclude or [])
    unknown = sorted({n for n in (wanted or []) + unwanted if n not in known})
    if unknown:
        raise ReflectionError(
            f"unknown table(s) in include/exclude: {', '.join(unknown)} (known tables: {', '.join(sorted(known))})"
        )
    for k, key in list(tables.items()):
        if (wanted is not None and key not in wanted) or key in unwanted:
            del tables[k]
    if not tables:
        raise ReflectionError("include/exclude left no tables to reflect")


def _column(info: ReflectedColumn, dialect: sa.Dialect) -> Column:
    t = map_type(info["type"], dialect)
    computed = info.get("computed")
    default = info.get("default")
    return Column(
        name=info["name"],
        type=t.type,
        nullable=bool(info.get("nullable", True)),
        native_type=t.native_type,
        length=t.length,
        precision=t.precision,
        scale=t.scale,
        bits=t.bits,
        timezone=t.timezone,
        enum_name=t.enum_name,
        enum_values=t.enum_values,
        item_type=t.item_type,
        default=str(default) if default is not None else None,
        # SQLAlchemy reports True for identity/serial/auto_increment, "auto" or nothing otherwise.
        autoincrement=info.get("autoincrement") is True or bool(info.get("identity")),
        computed=str(computed["sqltext"]) if computed else None,
        comment=info.get("comment"),
    )


def _sqlite_rowid_autoincrement(table: Table, dialect_name: str) -> None:
    # An INTEGER PRIMARY KEY is SQLite's rowid: the database generates it, like a serial.
    if capabilities(dialect_name).rowid and len(table.primary_key) == 1:
        col = table.column(table.primary_key[0])
        if col.type == st.INTEGER and (col.native_type or "").upper() == "INTEGER":
            col.autoincrement = True


_JSON_VALID = re.compile(r"^\(?\s*json_valid\(\s*`?([^`)]+)`?\s*\)\s*\)?$", re.IGNORECASE)


def _mysql_checks(conn: sa.Connection, schema: str | None) -> dict[str, list[str]]:
    """CHECK clauses per table from information_schema (SQLAlchemy misses MariaDB's column-level ones)."""
    query = sa.text(
        "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = COALESCE(:schema, DATABASE())"
    )
    out: dict[str, list[str]] = {}
    try:
        for table, clause in conn.execute(query, {"schema": schema}):
            out.setdefault(table, []).append(str(clause))
    except sa.exc.DBAPIError:  # MySQL before 8.0.16 has no CHECK_CONSTRAINTS view (and no checks)
        return {}
    return out


def _mariadb_json(table: Table, clauses) -> None:
    # MariaDB stores JSON as LONGTEXT guarded by CHECK (json_valid(col)); the check is what makes it JSON.
    for clause in [*clauses, *(c.sqltext for c in table.check_constraints)]:
        m = _JSON_VALID.match(clause.strip())
        if m and table.has_column(m.group(1)) and table.column(m.group(1)).type == st.STRING:
            col = table.column(m.group(1))
            col.type, col.length = st.JSON, None


def _pg_partitions(conn: sa.Connection) -> dict[tuple[str, str], tuple[str, str]]:
    """``(schema, partition) -> (schema, root parent)`` for every PostgreSQL partition, nested ones too."""
    rows = conn.execute(
        sa.text(
            "SELECT cn.nspname, c.relname, pn.nspname, p.relname "
            "FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace "
            "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace "
            "WHERE c.relispartition"
        )
    ).all()
    parent = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    root = {}
    for child in parent:
        top = parent[child]
        while top in parent:  # sub-partitions point at the partitioned parent at the top
            top = parent[top]
        root[child] = top
    return root


def _fks_with_partitions(insp, sch, names, partition_parent, default_schema) -> dict[TableKey, list[dict]]:
    """Foreign keys of ``names``, with those declared only on partitions credited to their parent."""
    fks = dict(insp.get_multi_foreign_keys(schema=sch, filter_names=names))
    by_schema: dict[str, list[str]] = {}
    for (psch, part), (rsch, root) in partition_parent.items():
        if rsch == (sch or default_schema) and root in names:
            by_schema.setdefault(psch, []).append(part)
    for psch, parts in by_schema.items():  # one batch call per schema holding partitions
        for (_, part), items in insp.get_multi_foreign_keys(schema=psch, filter_names=parts).items():
            parent_key = (sch, partition_parent[(psch, part)][1])
            fks[parent_key] = list(fks.get(parent_key, [])) + list(items)
    return fks


def _foreign_keys(
    items: list[dict], sch, tables: dict[TableKey, str], partition_parent, default_schema, multi: bool
) -> tuple[list[ForeignKey], list[ForeignKey]]:
    """The foreign keys to reflected tables, and those to tables left out (named as the source names them)."""
    out: list[ForeignKey] = []
    outside: list[ForeignKey] = []
    seen: set[tuple] = set()
    known = {(s or default_schema, n): k for (s, n), k in tables.items()}
    for fk in items:
        target = (fk.get("referred_schema") or sch or default_schema, fk["referred_table"])
        if not fk.get("referred_schema") and target not in known and (default_schema, target[1]) in known:
            # PostgreSQL leaves out the schema of a parent on the search path (public), whichever schema the
            # child is in: hr.store -> public.region comes without "public"
            target = (default_schema, target[1])
        # a key pointing at one partition points, for our purposes, at the partitioned table
        target = partition_parent.get(target, target)
        ref = known.get(target)
        if ref is None:
            # the parent was excluded (or lives in a schema not reflected): kept aside so the run can say so
            same_schema = target[0] == (sch or default_schema) and not multi
            ref = target[1] if same_schema else f"{target[0]}.{target[1]}"
            dest = outside
        else:
            dest = out
        cols, ref_cols = list(fk["constrained_columns"]), list(fk["referred_columns"])
        sig = (tuple(cols), ref, tuple(ref_cols))
        if sig in seen:  # the same key declared on the parent and each partition
            continue
        seen.add(sig)
        opts = fk.get("options") or {}
        dest.append(
            ForeignKey(
                columns=cols,
                ref_table=ref,
                ref_columns=ref_cols,
                name=fk.get("name"),
                on_delete=opts.get("ondelete"),
                deferrable=bool(opts.get("deferrable")),
            )
        )
    return out, outside


def _uniques(constraints: list[ReflectedUniqueConstraint], indexes: list[ReflectedIndex],
             pk: list[str]) -> list[UniqueConstraint]:
    out: list[UniqueConstraint] = []
    seen = {tuple(pk)}
    candidates: list[tuple[str | None, list[str | None]]] = [
        (c.get("name"), list(c.get("column_names") or [])) for c in constraints
    ]
    # Unique indexes act as constraints; expression/partial indexes cannot be described by columns.
    candidates += [
        (ix.get("name"), ix.get("column_names") or [])
        for ix in indexes
        if ix.get("unique") and not (ix.get("dialect_options") or {}).get("postgresql_where")
    ]
    for name, maybe in candidates:
        cols = [c for c in maybe if c is not None]
        if not cols or len(cols) < len(maybe) or tuple(cols) in seen:
            continue
        seen.add(tuple(cols))
        out.append(UniqueConstraint(columns=cols, name=name))
    return out
