"""Build the target schema (SQLAlchemy Core ``Table`` objects) from metadata, create, drop and compare it.

Where tables go:

- PostgreSQL target: a table whose metadata names its schema (several source schemas, or one set explicitly)
  is created in the schema of that name (``CREATE SCHEMA IF NOT EXISTS``, in the load transaction), foreign
  keys across schemas kept; otherwise in the target's default schema. Every statement names it
  schema-qualified (:func:`sql_name`).
- MariaDB/MySQL and SQLite targets have no schemas inside a database: tables go flat under their bare name
  (``hr.store`` becomes ``store``); two tables with one bare name are refused before anything is written.

How they are created (:func:`create_tables`):

- Same dialect: the source's own DDL captured at reflect time (:mod:`dbsynth.reflect.ddl`: PostgreSQL
  catalog deparse with enums, domains, sequences, identity, partitions, indexes and comments; SQLite's
  ``sqlite_master.sql``; MariaDB's ``SHOW CREATE TABLE``, replayed by :mod:`dbsynth.write.mysql` into its
  staging tables) is replayed verbatim, so ``pg_dump -s`` / ``SHOW CREATE TABLE`` / ``sqlite_master`` of the
  clone equal the source's. A table whose metadata no longer matches that DDL (edited columns) or that has no
  captured DDL (older metadata files, metadata built by hand) is built from the records.
- Cross dialect: SQLAlchemy tables from the records, with the closest types (:mod:`dbsynth.write.types`),
  primary-key and index names kept, and CHECK constraints transpiled into the target dialect by sqlglot; a
  CHECK that cannot be transpiled is dropped with a warning naming table and constraint.
"""

from __future__ import annotations

import logging
import re

import sqlalchemy as sa

from ..dialects import DEFAULT, EnumKind, Regexp, Schemas, capabilities, same_dialect
from ..errors import SchemaMismatchError, WriteError
from ..metadata import sdtypes as st
from ..metadata.records import CheckConstraint, Column, Metadata, Table
from .types import sa_type

__all__ = [
    "add_checks",
    "build_schema",
    "create_schemas",
    "create_tables",
    "dialect_name",
    "drop_tables",
    "existing_tables",
    "same_dialect",
    "schema_differences",
    "sql_name",
    "target_name",
    "target_schema",
    "transpile_check",
]

log = logging.getLogger("dbsynth")

_NUMBER = re.compile(r"^\(?-?\d+(\.\d+)?\)?$")
_QUOTED = re.compile(r"^'((?:[^']|'')*)'(::[\w .\"]+)?$")
_NOW = re.compile(r"^(now\(\)|current_timestamp(\(\))?|localtimestamp)$", re.IGNORECASE)


def dialect_name(engine_or_conn) -> str:
    """The dialect name dbsynth uses (``postgresql``, ``mysql`` for MariaDB too, ``sqlite``; see
    :func:`dbsynth.dialects.capabilities`); another SQLAlchemy dialect keeps its own name."""
    caps = capabilities(engine_or_conn)
    return caps.name if caps is not DEFAULT else str(engine_or_conn.dialect.name)


def target_name(table: Table) -> str:
    """The name ``table`` gets in the target: its metadata name without the source schema prefix."""
    if table.schema and table.name.startswith(table.schema + "."):
        return table.name[len(table.schema) + 1 :]
    return table.name


def target_schema(metadata: Metadata, table: Table, dialect: str) -> str | None:
    """The schema ``table`` is created in on a ``dialect`` target (None: the target's default schema).

    PostgreSQL keeps the source's schema when the metadata names one (a PostgreSQL source with a schema set,
    or any source read from several schemas); MariaDB/MySQL and SQLite targets have no schemas.
    """
    if capabilities(dialect).schemas is not Schemas.SCHEMAS or not table.schema:
        return None
    # several schemas read: the keys are schema.name
    multi = any(name != target_name(t) for name, t in metadata.tables.items())
    return table.schema if capabilities(metadata.dialect).schemas is Schemas.SCHEMAS or multi else None


def sql_name(conn: sa.Connection, table: sa.Table) -> str:
    """``table`` as SQL text: quoted, schema-qualified when it has a schema."""
    return conn.dialect.identifier_preparer.format_table(table)


def _refuse_bare_clashes(metadata: Metadata, dialect: str) -> None:
    by_bare: dict[str, list[str]] = {}
    for table in metadata:
        by_bare.setdefault(target_name(table).lower(), []).append(table.name)
    for names in by_bare.values():
        if len(names) > 1:
            raise WriteError(
                f"tables {' and '.join(sorted(names))} would both be '{target_name(metadata.tables[names[0]])}' in "
                f"the {dialect} target, which has no schemas; clone those schemas into a PostgreSQL target or "
                "exclude one of the tables",
                table=min(names),
            )


#: types PostgreSQL's deparser casts literals and expressions to in CHECKs; noise in other dialects
_NOISE_CASTS = {"TEXT", "VARCHAR", "CHAR", "NCHAR", "NVARCHAR", "DECIMAL", "BIGDECIMAL", "INT", "BIGINT",
                "SMALLINT", "DOUBLE", "FLOAT", "BPCHAR"}


def transpile_check(sqltext: str, source: str | None, target: str) -> str | None:
    """A CHECK expression written in ``source``'s SQL, rewritten for ``target``; None when it cannot be.

    PostgreSQL's deparsed casts (``'a'::text``, ``(0)::numeric``) are dropped and ``x = ANY (ARRAY[...])``
    (also ``= ANY ((ARRAY[...])::text[])``, PostgreSQL's spelling of a varchar column's IN list) becomes
    ``x IN (...)``. SQLite's ``GLOB 'pattern'`` becomes an anchored regular expression in a target without GLOB
    (:func:`~dbsynth.rules.patterns.glob_to_regex`), and a regex into SQLite, which has no REGEXP, becomes a
    GLOB where one spells the same strings (:func:`~dbsynth.rules.patterns.regex_to_glob`). What still has no
    spelling in the target (functions unknown to sqlglot, a regex GLOB cannot say, a pattern that is not a
    literal) makes it untranspilable rather than a CREATE TABLE that fails.
    """
    import sqlglot
    from sqlglot import exp

    target_caps = capabilities(target)
    read, write = capabilities(source).sqlglot, target_caps.sqlglot
    try:
        tree = sqlglot.parse_one(sqltext, read=read)
    except Exception:
        return None

    def simplify(node):
        if isinstance(node, exp.Cast) and node.to.this.name in _NOISE_CASTS:
            return node.this
        quant = node.expression if isinstance(node, (exp.EQ, exp.NEQ)) else None
        if isinstance(quant, exp.Anonymous) and quant.name.upper() == "ALL" and len(quant.expressions) == 1:
            quant = exp.All(this=quant.expressions[0])  # sqlglot reads "<> ALL (ARRAY[...])" as a call of ALL
        if isinstance(quant, (exp.Any, exp.All)):
            arr = quant.this
            while isinstance(arr, (exp.Paren, exp.Cast)):  # ((ARRAY[...])::text[]): a varchar column's list
                arr = arr.this
            if isinstance(arr, exp.Array):
                isin = exp.In(this=node.this, expressions=list(arr.expressions))
                return isin if isinstance(node, exp.EQ) else exp.Not(this=isin)
        return node

    tree = tree.transform(simplify).transform(simplify)  # the second pass reaches inside rewritten nodes
    if not target_caps.glob and target_caps.regexp is not Regexp.NONE:
        tree = tree.transform(lambda n: _glob_as_regex(n, target_caps.regexp) if isinstance(n, exp.Glob) else n)
    if target_caps.glob and target_caps.regexp is Regexp.NONE:
        tree = tree.transform(lambda n: _regex_as_glob(n) if isinstance(n, exp.RegexpLike) else n)
    if target_caps.regexp is Regexp.OPERATOR:
        # MariaDB has the REGEXP operator, not MySQL 8's REGEXP_LIKE() that sqlglot writes
        tree = tree.transform(lambda n: exp.var(
            f"({n.this.sql(dialect=write, identify=True)} REGEXP {n.expression.sql(dialect=write, identify=True)})"
        ) if isinstance(n, exp.RegexpLike) else n)
    for node in tree.walk():
        if isinstance(node, (exp.Anonymous, exp.Any, exp.All, exp.Array)):
            return None
        if isinstance(node, exp.RegexpLike) and target_caps.regexp is Regexp.NONE:
            return None  # SQLite has no REGEXP function unless the application defines one
        if isinstance(node, exp.Glob) and not target_caps.glob:
            return None
    try:
        return tree.sql(dialect=write, identify=True)
    except Exception:
        return None


def _glob_as_regex(node, regexp: Regexp):
    """``x GLOB 'p'`` as the anchored regex match of the same strings (the node itself when ``p`` is not a
    literal or not a pattern :func:`glob_to_regex` reads)."""
    from sqlglot import exp

    from ..rules.patterns import PatternError, glob_to_regex  # here: the rules package imports much at load

    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        return node
    try:
        body = glob_to_regex(pattern.this)
    except PatternError:
        return node
    if regexp is Regexp.OPERATOR:
        # MariaDB's REGEXP ignores case under a _ci collation (the usual one) and its `.` stops at a newline;
        # GLOB does neither: PCRE2's scoped flags (MariaDB 10.5+) make the match case-sensitive and `.` take
        # any character. ($ still accepts one trailing newline there: the target is looser, never stricter.)
        body = f"(?s-i:{body})"
    # PostgreSQL's ~ is case-sensitive and its `.` takes a newline already
    return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^{body}$"))


def _regex_as_glob(node):
    """``x ~ 'regex'`` as ``x GLOB`` of the same strings where :func:`regex_to_glob` spells one (else the node).

    A MariaDB source's REGEXP ignores case under a _ci collation; the case-sensitive GLOB is then stricter
    than the source's CHECK. Sampled rows keep it (dbsynth.rules.checks reads REGEXP case-sensitively and
    makes values in the pattern's case); a source row of the other case copied as is would be refused."""
    from sqlglot import exp

    from ..rules.patterns import regex_to_glob

    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        return node
    glob = regex_to_glob(pattern.this)
    return node if glob is None else exp.Glob(this=node.this, expression=exp.Literal.string(glob))


def _check_constraints(table: Table, source: str | None, dialect: str, warnings: list[str] | None,
                       sat_warnings: list[str]) -> list:
    out = []
    for ck in table.check_constraints:
        if _is_json_valid(ck, table) and capabilities(dialect).native_json:
            continue  # MariaDB's JSON guard: the target's JSON type (jsonb, JSON) says it already
        text = transpile_check(ck.sqltext, source, dialect)
        if text is None:
            msg = (f"CHECK constraint '{ck.name or ck.sqltext[:40]}' of table '{table.name}' cannot be written in "
                   f"{dialect} SQL and was left out of the target")
            if warnings is None:
                sat_warnings.append(msg)  # said when the table is created (see add_checks)
            else:
                warnings.append(msg)
            continue
        out.append(sa.CheckConstraint(sa.text(text), name=_short(ck.name, dialect)))
    return out


_CHECKS = "dbsynth_checks"
_UNSAID = "dbsynth_check_warnings"


def _say(table: str, constraint: str, message: str) -> None:
    """A warning of the write: into ``WriteSummary.warnings`` when the writer collects them, logged either way."""
    from .convert import _warnings

    found = _warnings.get()
    if found is not None:
        if (table, constraint, "check") in found:
            return
        found[(table, constraint, "check")] = message
    log.warning("%s", message)


def add_checks(conn: sa.Connection, tables: list[sa.Table], dialect: str) -> list[str]:
    """Add the transpiled CHECKs of cross-dialect ``tables`` (PostgreSQL, MariaDB); one the target refuses is
    left out with a warning (logged and returned) naming table and constraint.

    PostgreSQL runs each in a savepoint of the load transaction; MariaDB's ALTER TABLE is atomic by itself (the
    tables are the run's new, empty staging tables).
    """
    said: list[str] = []
    quote = conn.dialect.identifier_preparer.quote
    for sat in tables:
        label = sat.info.get("dbsynth_table", sat.name)
        for msg in sat.info.get(_UNSAID, []):
            _say(label, msg, msg)
            said.append(msg)
        for name, text in sat.info.get(_CHECKS, []):
            head = f"ADD CONSTRAINT {quote(name)} " if name else "ADD "
            sql = f"ALTER TABLE {sql_name(conn, sat)} {head}CHECK ({text})".replace("%", "%%")
            try:
                if capabilities(dialect).transactional_ddl:
                    with conn.begin_nested():
                        conn.exec_driver_sql(sql)
                else:
                    conn.exec_driver_sql(sql)
            except sa.exc.DBAPIError as exc:
                reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
                msg = (f"CHECK constraint '{name or text[:40]}' of table '{label}' was refused by the target "
                       f"({reason[:120]}) and left out")
                _say(label, name or text, msg)
                said.append(msg)
    return said


def _probe_sqlite_checks(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """SQLite resolves a CHECK's functions only when a row is inserted, and no constraint can be added later:
    each transpiled CHECK is prepared first against a one-row stand-in of the table; one SQLite cannot run
    (a function it lacks) is taken off the table with a warning, instead of failing the load."""
    quote = conn.dialect.identifier_preparer.quote
    for sat in tables:
        if "dbsynth_table" not in sat.info:
            continue  # same dialect: the source's own CHECKs
        row = ", ".join(f"NULL AS {quote(c.name)}" for c in sat.columns)
        for ck in [c for c in sat.constraints if isinstance(c, sa.CheckConstraint)]:
            if getattr(ck, "_type_bound", False):
                continue  # SQLAlchemy's own (enum/boolean) CHECKs
            try:
                with conn.begin_nested():
                    conn.exec_driver_sql(f"SELECT 1 FROM (SELECT {row}) WHERE NOT ({ck.sqltext})")
            except sa.exc.DBAPIError as exc:
                label = sat.info["dbsynth_table"]
                reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
                sat.constraints.discard(ck)
                shown = str(ck.name) if ck.name else str(ck.sqltext)[:40]
                _say(label, shown,
                     f"CHECK constraint '{shown}' of table '{label}' was refused by the "
                     f"target ({reason[:120]}) and left out")


def _is_json_valid(ck: CheckConstraint, table: Table) -> bool:
    text = re.sub(r"[`\s()]", "", ck.sqltext.lower())
    return text.startswith("json_valid") and any(text == f"json_valid{c.name.lower()}" for c in table.columns
                                                 if c.type == st.JSON)


def _same_default(col: Column):
    """Same dialect (a table built from the records, not the source's DDL): the default as the source spells
    it, except a sequence's nextval (the sequence is the source's; identity/serial is recreated instead)."""
    text = (col.default or "").strip()
    if not text or col.autoincrement or "nextval(" in text.lower():
        return _portable_default(col)
    return sa.text(text)


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
    warnings: list[str] | None = None,
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
        warnings: collects one sentence per CHECK constraint left out of a cross-dialect target (None: they are
            logged as warnings instead).

    Returns:
        The ``MetaData`` and the tables by metadata table name (schema-qualified on PostgreSQL, see the module
        docstring).

    Raises:
        WriteError: two tables would get the same name in a MariaDB/MySQL or SQLite target.
    """
    same = same_dialect(metadata.dialect, dialect)
    caps = capabilities(dialect)
    if caps.schemas is not Schemas.SCHEMAS:
        _refuse_bare_clashes(metadata, dialect)
    md = sa.MetaData()
    index_names: set[str] = set()
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
            if auto and caps.identity_columns:
                args.append(sa.Identity())  # BY DEFAULT: explicit keys can still be loaded
            is_auto_pk = auto and single_int_pk and col.name in table.primary_key
            cols.append(
                sa.Column(
                    col.name,
                    sa_type(table, col, dialect, metadata.dialect, col.name in keyed),
                    *args,
                    nullable=col.nullable and col.name not in table.primary_key,
                    server_default=_same_default(col) if same else _portable_default(col),
                    autoincrement=(auto if caps.identity_columns else is_auto_pk),
                    comment=col.comment if caps.column_comments else None,
                )
            )
        constraints: list = []
        if table.primary_key:
            # MariaDB names every primary key PRIMARY; elsewhere the source's name is kept
            named = caps.named_primary_keys and table.primary_key_name != "PRIMARY"
            pk_name = table.primary_key_name if named else None
            constraints.append(sa.PrimaryKeyConstraint(*table.primary_key, name=_short(pk_name, dialect)))
        for uc in table.unique_constraints:
            constraints.append(sa.UniqueConstraint(*uc.columns, name=_short(uc.name, dialect)))
        if same:
            for ck in table.check_constraints:
                constraints.append(sa.CheckConstraint(sa.text(ck.sqltext), name=_short(ck.name, dialect)))
        else:
            untranspiled: list[str] = []
            checks = _check_constraints(table, metadata.dialect, dialect, warnings, untranspiled)
            if not caps.alter_add_constraint:
                constraints += checks  # SQLite cannot add a constraint to an existing table
        sat = sa.Table((names or {}).get(table.name) or target_name(table), md, *cols, *constraints,
                       schema=target_schema(metadata, table, dialect))
        if not same:
            sat.info[_UNSAID] = untranspiled
            sat.info["dbsynth_table"] = table.name  # for messages: sat may be a MariaDB staging table
        if not same and caps.alter_add_constraint:
            # added one by one after CREATE TABLE (add_checks): a transpiled CHECK the target refuses (types
            # differ: a 0/1 test on what became a boolean) is dropped with a warning instead of failing the run
            sat.info[_CHECKS] = [(c.name, str(c.sqltext)) for c in checks]
        out[table.name] = sat
        _indexes(table, sat, dialect, index_names)  # unused when the source's own DDL is replayed
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
                    use_alter=(table.name, fk.name) in deferred and caps.alter_add_constraint,
                )
            )
    return md, out


def _indexes(table: Table, sat: sa.Table, dialect: str, taken: set[str]) -> None:
    """Cross-dialect: the source's column indexes (expression and partial ones are dialect SQL: left out)."""
    keys = {tuple(table.primary_key), *(tuple(u.columns) for u in table.unique_constraints)}
    for ix in table.indexes:
        if ix.where or not ix.columns or any(c not in sat.c for c in ix.columns):
            continue
        if ix.unique and tuple(ix.columns) in keys:
            continue  # a unique index already described as a UNIQUE constraint
        name = _short(ix.name, dialect)
        if name is None or name.lower() in taken:
            # PostgreSQL and SQLite index names are unique per schema, MariaDB's per table only
            name = _short(f"{target_name(table)}_{ix.name}", dialect)
        if name is None or name.lower() in taken:
            continue
        taken.add(name.lower())
        sa.Index(name, *[sat.c[c] for c in ix.columns], unique=ix.unique)


def _short(name: str | None, dialect: str) -> str | None:
    # MariaDB caps identifiers at 64 characters, PostgreSQL at 63.
    if name is None:
        return None
    return name[: capabilities(dialect).max_identifier_length]


def existing_tables(conn: sa.Connection, tables: list[sa.Table]) -> set[str]:
    """Tables of the target in the schemas ``tables`` go to, as ``Table.key`` spells them (``schema.name``, or
    the bare name in the default schema)."""
    insp = sa.inspect(conn)
    out: set[str] = set()
    for schema in sorted({t.schema for t in tables}, key=lambda s: s or ""):
        try:
            names = insp.get_table_names(schema=schema)
        except sa.exc.NoSuchTableError:
            names = []
        out.update(f"{schema}.{n}" if schema else n for n in names)
    return out


def create_schemas(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """PostgreSQL: ``CREATE SCHEMA IF NOT EXISTS`` for every schema ``tables`` go to (in the caller's
    transaction, so a failed load leaves none behind)."""
    if capabilities(conn).schemas is not Schemas.SCHEMAS:
        return
    quote = conn.dialect.identifier_preparer.quote
    for schema in sorted({t.schema for t in tables if t.schema}):
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")


def native_usable(metadata: Metadata, table: Table, sat: sa.Table, dialect: str, default_schema: str | None) -> bool:
    """True when the source's captured DDL of ``table`` can be replayed into this target as it is."""
    native = table.native_ddl
    if native is None or not native.statements or not same_dialect(native.dialect, dialect):
        return False
    if not same_dialect(metadata.dialect, dialect) or native.columns != table.column_names:
        return False
    if native.table is not None and native.table != target_name(table):
        return False
    caps = capabilities(dialect)
    if caps.schemas is Schemas.SCHEMAS:
        return native.schema == (sat.schema or default_schema)
    if not caps.alter_add_constraint:
        # the statement names the table and carries its foreign keys: a parent left out would be missing
        return not table.outside_foreign_keys and target_name(table) == sat.name
    return True


def _native_objects(conn: sa.Connection, metadata: Metadata) -> None:
    """PostgreSQL: the source's enums, domains, composite types, sequences and schema comments, where missing."""
    for obj in metadata.native_objects:
        if not capabilities(obj.dialect).native_objects:
            continue
        if obj.kind == "schema":
            found = conn.exec_driver_sql("SELECT 1 FROM pg_namespace WHERE nspname = %(n)s", {"n": obj.name}).first()
            # CREATE SCHEMA IF NOT EXISTS may already have run (create_schemas): comment it anyway
            stmts = obj.statements if found is None else obj.statements[1:]
            if found is not None and conn.exec_driver_sql(
                "SELECT obj_description(oid, 'pg_namespace') IS NOT NULL FROM pg_namespace WHERE nspname = %(n)s",
                {"n": obj.name},
            ).scalar():
                continue
        elif obj.kind == "sequence":
            stmts = obj.statements if conn.exec_driver_sql(
                "SELECT to_regclass(%(n)s)", {"n": obj.name}).scalar() is None else []
        else:
            stmts = obj.statements if conn.exec_driver_sql(
                "SELECT to_regtype(%(n)s)", {"n": obj.name}).scalar() is None else []
        for stmt in stmts:
            conn.exec_driver_sql(stmt.replace("%", "%%"))


def _native_statements(table: Table) -> list[str]:
    return table.native_ddl.statements if table.native_ddl is not None else []


def create_tables(conn: sa.Connection, metadata: Metadata, order: list[str], tables: dict[str, sa.Table],
                  dialect: str) -> None:
    """Create ``tables`` (metadata name -> SQLAlchemy table) in ``order``, parents first.

    Same dialect, where :func:`native_usable`: the source's own statements, then foreign keys as the source
    defines them. The others: SQLAlchemy's CREATE TABLE from the records. PostgreSQL and SQLite (MariaDB uses
    :func:`dbsynth.write.mysql.create_staged`, which adds the staging renames).
    """
    caps = capabilities(dialect)
    default_schema = conn.dialect.default_schema_name if caps.schemas is Schemas.SCHEMAS else None
    native = [n for n in order if native_usable(metadata, metadata.tables[n], tables[n], dialect, default_schema)]
    if native and caps.native_objects:
        _native_objects(conn, metadata)
    for n in native:
        for stmt in _native_statements(metadata.tables[n]):
            # exec_driver_sql: a % in a literal would be taken for a parameter marker by psycopg
            conn.exec_driver_sql(stmt.replace("%", "%%") if caps.percent_in_sql_is_a_marker else stmt)
    rest = [tables[n] for n in order if n not in native]
    if rest:
        if not caps.alter_add_constraint:
            _probe_sqlite_checks(conn, rest)
        rest[0].metadata.create_all(conn, tables=rest, checkfirst=False)
        add_checks(conn, rest, dialect)
    if not native or not caps.alter_add_constraint:
        return  # SQLite: the foreign keys are part of the CREATE TABLE statement
    quote = conn.dialect.identifier_preparer.quote
    for n in native:
        table = metadata.tables[n]
        by_name = {fk.name: fk for fk in table.foreign_keys}
        for fkc in tables[n].foreign_key_constraints:
            fk = by_name.get(str(fkc.name)) if fkc.name else None
            if fk is not None and fk.name and fk.definition:
                conn.exec_driver_sql(f"ALTER TABLE {sql_name(conn, tables[n])} ADD CONSTRAINT {quote(fk.name)} "
                                     f"{fk.definition}".replace("%", "%%"))
            else:
                conn.execute(sa.schema.AddConstraint(fkc))


def drop_tables(conn: sa.Connection, tables: list[sa.Table], dialect: str) -> None:
    """Drop ``tables`` (children first) if they exist, with the enum types dbsynth created for them.

    Types, domains and sequences a same-dialect clone took from the source are kept (other tables may use
    them); the next create finds them and does not recreate them.
    """
    existing = existing_tables(conn, tables)
    for t in reversed(tables):
        if t.key not in existing:
            continue
        cascade = " CASCADE" if capabilities(dialect).drop_cascade else ""
        conn.exec_driver_sql(f"DROP TABLE {sql_name(conn, t)}{cascade}")
    if capabilities(dialect).enum is EnumKind.TYPE:
        quote = conn.dialect.identifier_preparer.quote
        for t in tables:
            for c in t.columns:
                if isinstance(c.type, sa.Enum) and c.type.name:
                    type_schema = c.type.schema
                    schema = f"{quote(type_schema)}." if type_schema else ""
                    conn.exec_driver_sql(f"DROP TYPE IF EXISTS {schema}{quote(c.type.name)} CASCADE")


def schema_differences(conn: sa.Connection, metadata: Metadata, tables: dict[str, sa.Table]) -> list[str]:
    """Every way the target's existing tables differ from the metadata, one short sentence each.

    Checked: missing tables, missing columns, and target columns the load would leave NULL although they are
    NOT NULL without a default.
    """
    insp = sa.inspect(conn)
    existing = existing_tables(conn, list(tables.values()))
    problems: list[str] = []
    for name, sat in tables.items():
        if sat.key not in existing:
            problems.append(f"table '{sat.key}' is missing in the target")
            continue
        target_cols = {c["name"]: c for c in insp.get_columns(sat.name, schema=sat.schema)}
        wanted = [c.name for c in metadata.tables[name].columns if not c.computed]
        for col in wanted:
            if col not in target_cols:
                problems.append(f"column '{sat.name}.{col}' is missing in the target")
        for col, info in target_cols.items():
            if col in wanted or info.get("nullable", True):
                continue
            if info.get("default") is None and not info.get("autoincrement") and not info.get("identity"):
                problems.append(f"target column '{sat.name}.{col}' is NOT NULL without a default and not in the "
                                "metadata")
    return problems


def check_schema(conn: sa.Connection, metadata: Metadata, tables: dict[str, sa.Table]) -> None:
    """Raise :class:`SchemaMismatchError` listing every difference (see :func:`schema_differences`)."""
    problems = schema_differences(conn, metadata, tables)
    if problems:
        raise SchemaMismatchError(
            "the target schema differs from the metadata: " + "; ".join(problems),
            hint="Migrate the target, or use mode='replace' to recreate the tables.",
        )
