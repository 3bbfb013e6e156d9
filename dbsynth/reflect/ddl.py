"""Capture the source's own DDL at reflect time, so that a same-dialect clone gives the very same schema.

What a same-dialect clone must reproduce (issue 15): types as declared, defaults, identity and sequences,
constraint and index names, partial/expression/spatial indexes, comments, domains and enums. Rebuilding all of
that from portable records through SQLAlchemy loses detail in every dialect (``character(3)`` became
``varchar(3)``, ``pk_orders`` became ``orders_pkey``, SQLite's declared types and ``AUTOINCREMENT`` vanished).
So the source's DDL is captured as text, per dialect, in the form that is most robust to replay:

- **SQLite**: ``sqlite_master.sql`` verbatim, table and indexes. It *is* the schema (SQLite stores the
  statement and reparses it), so replaying it is exact by construction.
- **MariaDB/MySQL**: ``SHOW CREATE TABLE`` verbatim (the server's own canonical form, with column types,
  CHECKs, comments, SPATIAL/FULLTEXT indexes and table options), without ``AUTO_INCREMENT=n`` and without its
  ``FOREIGN KEY`` clauses: the writer loads into staging tables ``_dbsynth_new_<t>`` whose foreign keys have
  temporary names and point at staging parents (see :mod:`dbsynth.write.mysql`), so each clause is kept on its
  :class:`~dbsynth.metadata.records.ForeignKey` (``definition``) and rewritten there.
- **PostgreSQL**: there is no ``SHOW CREATE TABLE``; the statements are built from the catalog with the
  server's own deparsers (``format_type``, ``pg_get_expr``, ``pg_get_constraintdef``, ``pg_get_indexdef``,
  ``pg_get_partkeydef``), read with ``search_path`` set to ``pg_catalog`` so that every name comes out
  schema-qualified. ``pg_dump`` compares catalog objects, not text, so statements that create the same
  objects give the same dump. Enums, domains, composite types, free-standing sequences and schema comments
  become :class:`~dbsynth.metadata.records.NativeObject` records, created before the tables.

Everything is stored in the metadata (and so in a saved model), never fetched at write time: a model file can
be sampled into a target long after the source is gone. Cross-dialect clones ignore all of it and build the
tables from the portable records (types mapped by :mod:`dbsynth.write.types`, CHECKs transpiled by sqlglot).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa

from ..dialects import MYSQL, POSTGRESQL, SQLITE, Dialect, capabilities
from ..metadata.records import Index, Metadata, NativeDDL, NativeObject, Table

__all__ = ["capture_ddl"]


def capture_ddl(conn: sa.Connection, metadata: Metadata, default_schema: str | None) -> None:
    """Fill ``native_ddl``, ``primary_key_name``, ``indexes`` and FK ``definition`` of every table, and
    ``metadata.native_objects``, from the source's catalog. Best effort: a table whose DDL cannot be read
    keeps ``native_ddl`` None (the writer then builds it from the records)."""
    # the catalog queries are each dialect's own; a dialect without a reader keeps the portable records only
    readers: dict[Dialect, Callable[[], None]] = {
        POSTGRESQL: lambda: _postgres(conn, metadata, default_schema),
        MYSQL: lambda: _mysql(conn, metadata),
        SQLITE: lambda: _sqlite(conn, metadata),
    }
    read = readers.get(capabilities(conn))
    if read is not None:
        read()


# ---- SQLite -------------------------------------------------------------------------------------------------
def _sqlite(conn: sa.Connection, metadata: Metadata) -> None:
    rows = conn.exec_driver_sql(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
    ).all()
    tables = {r[1]: r[3] for r in rows if r[0] == "table"}
    for table in metadata:
        sql = tables.get(table.name)
        if sql is None:
            continue
        idx = [(n, s) for typ, n, tbl, s in rows if typ == "index" and tbl == table.name]
        table.native_ddl = NativeDDL(dialect=SQLITE.name, statements=[sql] + [s for _, s in idx],
                                     columns=table.column_names, table=table.name)
        table.indexes = [Index(name=n, definition=s, unique=bool(re.match(r"\s*CREATE\s+UNIQUE", s, re.IGNORECASE)))
                         for n, s in idx]
        m = re.search(r"CONSTRAINT\s+(\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|\w+)\s+PRIMARY\s+KEY", sql, re.IGNORECASE)
        if m:
            table.primary_key_name = m.group(1).strip('"`[]')


# ---- MariaDB / MySQL ----------------------------------------------------------------------------------------
_FK_LINE = re.compile(r"^\s*CONSTRAINT\s+`((?:[^`]|``)+)`\s+(FOREIGN\s+KEY\s.*?),?\s*$", re.IGNORECASE)
_AUTO_INC = re.compile(r"\s+AUTO_INCREMENT=\d+")


def split_mysql_create(sql: str) -> tuple[str, dict[str, str]]:
    """``SHOW CREATE TABLE`` text without its FOREIGN KEY clauses (and AUTO_INCREMENT=n), and the clauses by
    constraint name (``FOREIGN KEY (`a`) REFERENCES `p` (`b`) ON DELETE CASCADE``)."""
    lines = sql.split("\n")
    keep: list[str] = []
    fks: dict[str, str] = {}
    for line in lines:
        m = _FK_LINE.match(line)
        if m:
            fks[m.group(1).replace("``", "`")] = m.group(2).rstrip(",").strip()
        else:
            keep.append(line)
    # the body's last item lost its comma's successor: no trailing comma before the closing parenthesis
    for i in range(len(keep) - 1, 0, -1):
        if keep[i].startswith(")"):
            keep[i - 1] = keep[i - 1].rstrip().rstrip(",")
            break
    return _AUTO_INC.sub("", "\n".join(keep)), fks


def _mysql(conn: sa.Connection, metadata: Metadata) -> None:
    q = conn.dialect.identifier_preparer.quote
    for table in metadata:
        bare = table.name.rsplit(".", 1)[-1] if table.schema and table.name.startswith(table.schema + ".") \
            else table.name
        where = f"{q(table.schema)}.{q(bare)}" if table.schema else q(bare)
        try:
            sql = conn.exec_driver_sql(f"SHOW CREATE TABLE {where}").one()[1]
        except sa.exc.DBAPIError:
            continue
        body, fks = split_mysql_create(sql)
        table.native_ddl = NativeDDL(dialect=MYSQL.name, statements=[body], columns=table.column_names,
                                     schema=table.schema, table=bare)
        for fk in [*table.foreign_keys, *table.outside_foreign_keys]:
            if fk.name in fks:
                fk.definition = fks[fk.name]
        table.primary_key_name = None  # always PRIMARY: the dialect's default
        kinds = {"SPATIAL": "spatial", "FULLTEXT": "fulltext"}
        keys = r"^\s*(?:(UNIQUE|SPATIAL|FULLTEXT)\s+)?KEY\s+`((?:[^`]|``)+)`\s+\((.*)\)"
        for m in re.finditer(keys, body, re.MULTILINE):
            if m.group(1) == "UNIQUE":
                continue  # a UniqueConstraint already
            cols = re.findall(r"`((?:[^`]|``)+)`", m.group(3))
            table.indexes.append(Index(name=m.group(2), columns=cols, kind=kinds.get(m.group(1) or "")))


# ---- PostgreSQL ---------------------------------------------------------------------------------------------
def _lit(conn: sa.Connection, text: str) -> str:
    return str(conn.exec_driver_sql("SELECT quote_literal(%(t)s)", {"t": text}).scalar_one())


def _postgres(conn: sa.Connection, metadata: Metadata, default_schema: str | None) -> None:
    # Every name the deparsers print comes out schema-qualified with only pg_catalog on the path.
    old_path = conn.exec_driver_sql("SELECT current_setting('search_path')").scalar()
    conn.exec_driver_sql("SELECT set_config('search_path', 'pg_catalog', true)")
    try:
        schemas = sorted({s for s in (t.schema or default_schema for t in metadata) if s is not None})
        metadata.native_objects = _pg_objects(conn, schemas)
        for table in metadata:
            _pg_table(conn, table, table.schema or default_schema)
    finally:
        conn.exec_driver_sql("SELECT set_config('search_path', %(p)s, true)", {"p": old_path})


def _ident(conn: sa.Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _pg_objects(conn: sa.Connection, schemas: list[str]) -> list[NativeObject]:
    out: list[NativeObject] = []
    for sch, comment in conn.exec_driver_sql(
        "SELECT nspname, obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = ANY(%(s)s) "
        "ORDER BY nspname", {"s": schemas}
    ).all():
        stmts = [f"CREATE SCHEMA IF NOT EXISTS {_ident(conn, sch)}"]
        if comment is not None and sch != "public":  # public's comment belongs to the target's owner
            stmts.append(f"COMMENT ON SCHEMA {_ident(conn, sch)} IS {_lit(conn, comment)}")
        out.append(NativeObject(kind="schema", name=sch, statements=stmts))
    # user types of these schemas, in creation (oid) order: a domain over an enum comes after the enum
    types = conn.exec_driver_sql(
        "SELECT t.oid, t.typtype, format_type(t.oid, NULL), t.typrelid, "
        " format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault, "
        " (SELECT c.collname FROM pg_collation c WHERE c.oid = t.typcollation AND t.typcollation <> "
        "   (SELECT b.typcollation FROM pg_type b WHERE b.oid = t.typbasetype)) "
        "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = ANY(%(s)s) AND t.typtype IN ('e', 'd', 'c', 'r') "
        " AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') "
        " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid "
        "   AND d.deptype = 'e') "
        "ORDER BY t.oid", {"s": schemas}
    ).all()
    for oid, typtype, name, relid, base, notnull, default, coll in types:
        if typtype == "e":
            labels = conn.exec_driver_sql(
                "SELECT enumlabel FROM pg_enum WHERE enumtypid = %(o)s ORDER BY enumsortorder", {"o": oid}
            ).scalars().all()
            sql = f"CREATE TYPE {name} AS ENUM ({', '.join(_lit(conn, v) for v in labels)})"
            out.append(NativeObject(kind="type", name=name, statements=[sql]))
        elif typtype == "d":
            sql = f"CREATE DOMAIN {name} AS {base}"
            if coll:
                sql += f" COLLATE {_ident(conn, coll)}"
            if default is not None:
                sql += f" DEFAULT {default}"
            if notnull:
                sql += " NOT NULL"
            for cname, cdef in conn.exec_driver_sql(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contypid = %(o)s ORDER BY conname",
                {"o": oid},
            ).all():
                sql += f" CONSTRAINT {_ident(conn, cname)} {cdef}"
            out.append(NativeObject(kind="domain", name=name, statements=[sql]))
        elif typtype == "c":
            attrs = conn.exec_driver_sql(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %(r)s "
                "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", {"r": relid}
            ).all()
            body = ", ".join(f"{_ident(conn, a)} {t}" for a, t in attrs)
            out.append(NativeObject(kind="type", name=name, statements=[f"CREATE TYPE {name} AS ({body})"]))
        else:
            sub = conn.exec_driver_sql(
                "SELECT format_type(rngsubtype, NULL) FROM pg_range WHERE rngtypid = %(o)s", {"o": oid}
            ).scalar()
            out.append(NativeObject(kind="type", name=name,
                                    statements=[f"CREATE TYPE {name} AS RANGE (SUBTYPE = {sub})"]))
    # sequences no column owns (serial and identity sequences come with their table)
    for oid, name in conn.exec_driver_sql(
        "SELECT c.oid, c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'S' AND n.nspname = ANY(%(s)s) AND NOT EXISTS (SELECT 1 FROM pg_depend d "
        " WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e')) "
        "ORDER BY c.oid", {"s": schemas}
    ).all():
        create = f"CREATE SEQUENCE {name}{_seq_options(conn, oid)}"
        out.append(NativeObject(kind="sequence", name=name, statements=[create]))
    return out


def _seq_options(conn: sa.Connection, seq_oid: int, identity: bool = False) -> str:
    typ, start, inc, lo, hi, cache, cycle = conn.exec_driver_sql(
        "SELECT format_type(seqtypid, NULL), seqstart, seqincrement, seqmin, seqmax, seqcache, seqcycle "
        "FROM pg_sequence WHERE seqrelid = %(o)s", {"o": seq_oid}
    ).one()
    parts = [] if identity else [f"AS {typ}"]
    parts += [f"START WITH {start}", f"INCREMENT BY {inc}", f"MINVALUE {lo}", f"MAXVALUE {hi}", f"CACHE {cache}"]
    parts.append("CYCLE" if cycle else "NO CYCLE")
    return " " + " ".join(parts)


def _pg_table(conn: sa.Connection, table: Table, schema: str | None) -> None:
    bare = table.name[len(table.schema) + 1:] if table.schema and table.name.startswith(table.schema + ".") \
        else table.name
    qname = f"{_ident(conn, schema)}.{_ident(conn, bare)}" if schema else _ident(conn, bare)
    row = conn.exec_driver_sql(
        "SELECT c.oid, c.relkind, c.relpersistence, c.reloptions, obj_description(c.oid, 'pg_class'), "
        " CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END "
        "FROM pg_class c WHERE c.oid = to_regclass(%(t)s)", {"t": qname}
    ).first()
    if row is None:
        return
    oid, _relkind, persistence, reloptions, comment, partkey = row
    cols = conn.exec_driver_sql(
        "SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        " pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, col_description(a.attrelid, a.attnum), "
        " (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co "
        "   JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation "
        "   AND a.attcollation <> t.typcollation) "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = %(o)s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum", {"o": oid}
    ).all()
    owned = {
        attnum: (seq, name, dtype)
        for attnum, seq, name, dtype in conn.exec_driver_sql(
            "SELECT d.refobjsubid, d.objid, d.objid::regclass::text, d.deptype FROM pg_depend d "
            "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
            "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
            " AND d.refobjid = %(o)s AND d.deptype IN ('a', 'i')", {"o": oid}
        ).all()
    }
    before: list[str] = []
    after: list[str] = []
    defs: list[str] = []
    for attnum, name, typ, notnull, default, identity, generated, col_comment, coll in cols:
        d = f"{_ident(conn, name)} {typ}"
        if coll:
            d += f" COLLATE {coll}"
        if generated == "s":
            d += f" GENERATED ALWAYS AS ({default}) STORED"
        elif identity in ("a", "d") and attnum in owned:
            seq_oid, seq_name, _ = owned[attnum]
            how = "ALWAYS" if identity == "a" else "BY DEFAULT"
            d += f" GENERATED {how} AS IDENTITY (SEQUENCE NAME {seq_name}{_seq_options(conn, seq_oid, True)})"
        elif default is not None:
            d += f" DEFAULT {default}"
        if notnull:
            d += " NOT NULL"
        defs.append(d)
        if attnum in owned and owned[attnum][2] == "a":
            seq_oid, seq_name, _ = owned[attnum]
            before.append(f"CREATE SEQUENCE {seq_name}{_seq_options(conn, seq_oid)}")
            after.append(f"ALTER SEQUENCE {seq_name} OWNED BY {qname}.{_ident(conn, name)}")
        if col_comment is not None:
            after.append(f"COMMENT ON COLUMN {qname}.{_ident(conn, name)} IS {_lit(conn, col_comment)}")
    create = f"CREATE {'UNLOGGED ' if persistence == 'u' else ''}TABLE {qname} ({', '.join(defs)})"
    if partkey:
        create += f" PARTITION BY {partkey}"
    if reloptions:
        create += f" WITH ({', '.join(reloptions)})"
    stmts = before + [create]
    stmts += _pg_partitions(conn, oid, qname)
    pk_name = None
    for cname, ctype, cdef, fk_def in conn.exec_driver_sql(
        "SELECT conname, contype, pg_get_constraintdef(oid), contype = 'f' FROM pg_constraint "
        "WHERE conrelid = %(o)s AND conislocal AND contype IN ('p', 'u', 'c', 'x', 'f') "
        "ORDER BY contype = 'c' DESC, conname", {"o": oid}
    ).all():
        if fk_def:
            for fk in table.foreign_keys:
                if fk.name == cname:
                    fk.definition = cdef
            continue
        if ctype == "p":
            pk_name = cname
        stmts.append(f"ALTER TABLE {qname} ADD CONSTRAINT {_ident(conn, cname)} {cdef}")
    # the default name (<table>_pkey) follows the table's name in the target, whatever it is called there
    table.primary_key_name = None if pk_name == f"{bare}_pkey" else pk_name
    for iname, idef, unique, method, pred, colnames in conn.exec_driver_sql(
        "SELECT ic.relname, pg_get_indexdef(i.indexrelid), i.indisunique, am.amname, "
        " pg_get_expr(i.indpred, i.indrelid), "
        " ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k) "
        "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam "
        "WHERE i.indrelid = %(o)s AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
        " AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')) ORDER BY ic.relname", {"o": oid}
    ).all():
        # a partitioned parent's index reads "ON ONLY": created without it, it cascades to the partitions
        stmts.append(idef.replace(" ON ONLY ", " ON ", 1))
        table.indexes.append(Index(name=iname, columns=list(colnames), unique=bool(unique),
                                   kind=None if method == "btree" else method, where=pred, definition=idef))
    if comment is not None:
        stmts.append(f"COMMENT ON TABLE {qname} IS {_lit(conn, comment)}")
    table.native_ddl = NativeDDL(dialect=POSTGRESQL.name, statements=stmts + after, columns=table.column_names,
                                 schema=schema, table=bare)


def _pg_partitions(conn: sa.Connection, parent_oid: int, parent: str) -> list[str]:
    out: list[str] = []
    for oid, name, bound, partkey in conn.exec_driver_sql(
        "SELECT c.oid, c.oid::regclass::text, pg_get_expr(c.relpartbound, c.oid), "
        " CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END "
        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %(o)s AND c.relispartition "
        "ORDER BY c.relname", {"o": parent_oid}
    ).all():
        sql = f"CREATE TABLE {name} PARTITION OF {parent} {bound}"
        if partkey:
            sql += f" PARTITION BY {partkey}"
        out.append(sql)
        out += _pg_partitions(conn, oid, name)
    return out
