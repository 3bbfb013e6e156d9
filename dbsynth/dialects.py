"""What each SQL dialect can do, as one record per dialect: the one place that knows dialects.

The reader, reflection, the writer and the CHECK compiler ask a :class:`Dialect` record what the database
can do (``capabilities(conn).copy``, ``.transactional_ddl``, ``.fk_check_switch``...) instead of comparing
dialect names inline. The records hold the type mapping as tables too (:class:`TypeTable`: the SQLAlchemy
type each portable type family is declared with), the way sqlglot's dialect classes hold their type mappings.

**Adding a dialect** touches this module only: write its :class:`Dialect` record (start from
:data:`DEFAULT`, the conservative record any other SQLAlchemy dialect gets), give it a type table function if
its types differ from the generic ones, and add it to :data:`DIALECTS`. Code that implements a dialect's own
catalog queries (PostgreSQL's ``pg_constraint``, MariaDB's ``SHOW CREATE TABLE``) stays where it is used and
is chosen by the record's fields; a dialect without such code gets the portable path.

This module sits beside :mod:`dbsynth.errors` (the metadata records import it): it imports no other dbsynth
module, and SQLAlchemy only when a type table is first built.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.types import TypeEngine

__all__ = [
    "Dialect", "TypeTable", "FamilyType", "family_types", "Schemas", "EnumKind", "LockWait", "DriverErrors", "Regexp",
    "capabilities",
    "same_dialect", "DIALECTS", "DEFAULT", "POSTGRESQL", "MYSQL", "SQLITE",
]

#: A factory of the SQLAlchemy type for a column (a :class:`dbsynth.metadata.Column`).
TypeFactory = Callable[[Any], "TypeEngine[Any]"]


class Schemas(enum.Enum):
    """What the dialect calls a schema."""

    SCHEMAS = "schemas"
    """Real schemas inside one database (PostgreSQL): tables keep their source schema in the target."""
    DATABASES = "databases"
    """A schema is a database (MariaDB/MySQL): the connection's database is the one schema."""
    ATTACHED = "attached"
    """Attached files (SQLite): ``main`` is the one schema dbsynth reads or writes."""
    NONE = "none"
    """No schemas dbsynth knows how to list: the connection's default one."""


class EnumKind(enum.Enum):
    """How an enumerated column is declared."""

    TYPE = "type"
    """A named type created before the table (PostgreSQL ``CREATE TYPE ... AS ENUM``), dropped with it."""
    INLINE = "inline"
    """A column type of its own (MariaDB ``ENUM('a','b')``)."""
    CHECK = "check"
    """A string column with a CHECK of the allowed values (SQLite, other dialects)."""


class LockWait(enum.Enum):
    """How the writer bounds the wait for another session's lock (``lock_timeout``)."""

    SET_LOCAL = "set_local"
    """``SET LOCAL lock_timeout`` inside the load's transaction (PostgreSQL)."""
    SESSION = "session"
    """Session variables ``lock_wait_timeout``/``innodb_lock_wait_timeout`` (MariaDB/MySQL)."""
    BUSY_TIMEOUT = "busy_timeout"
    """The driver's busy timeout on the database file (SQLite's ``timeout`` connect argument)."""
    NONE = "none"
    """Nothing known: the server's own default."""


class DriverErrors(enum.Enum):
    """How a driver's errors say what failed (the writer names table, column and constraint from them)."""

    SQLSTATE = "sqlstate"
    """psycopg's diagnostics: SQLSTATE, constraint, table and column names."""
    ERRNO = "errno"
    """MariaDB's error numbers, with the names quoted in the message."""
    MESSAGE = "message"
    """sqlite3's message texts (``UNIQUE constraint failed: t.a``)."""
    NONE = "none"
    """The exception's type only."""


class Regexp(enum.Enum):
    """How a regular-expression match is written in the dialect's SQL."""

    FUNCTION = "function"
    """sqlglot's spelling for the dialect (PostgreSQL's ``~``)."""
    OPERATOR = "operator"
    """``a REGEXP b`` (MariaDB has the operator, not MySQL 8's ``REGEXP_LIKE()`` sqlglot writes)."""
    NONE = "none"
    """None without an application-defined function (SQLite): such a CHECK is left out of the target."""


@dataclass(frozen=True)
class TypeTable:
    """The SQLAlchemy types a dialect declares the portable type families with (cross-dialect clones).

    Built on first use (:attr:`Dialect.types`): SQLAlchemy stays out of ``import dbsynth``.
    """

    families: Mapping[str, TypeFactory]
    """Type family -> factory of the type for a column of it, for the families whose type depends on the
    dialect only (or on a column field the factory reads: a timestamp's zone, a JSON column's jsonb spelling)."""
    integers: Mapping[int, TypeFactory]
    """Integer width in bits -> type (a width not listed is a plain INTEGER)."""
    unsigned: Mapping[int, TypeFactory]
    """Width of an UNSIGNED integer of the source -> type holding every value of it."""
    text: TypeFactory
    """Unbounded text (also the fallback of a type the dialect has nothing closer to)."""
    key_text: TypeFactory
    """Unbounded text in a primary, unique or foreign key (MariaDB cannot index TEXT without a length)."""
    widest_decimal: TypeFactory
    """A decimal without precision, or wider than :attr:`Dialect.max_decimal_digits`."""
    autoincrement_integer: TypeFactory | None = None
    """The type an auto-assigned integer key must have (SQLite: only ``INTEGER PRIMARY KEY`` is the rowid)."""


@dataclass(frozen=True)
class FamilyType:
    """One row of :func:`family_types`: a portable type family and SQLAlchemy's generic type for it."""

    family: str
    """The type family (:mod:`dbsynth.metadata.sdtypes`)."""
    reads: type
    """The SQLAlchemy class a reflected type is an instance of when it is of this family."""
    writes: TypeFactory | None
    """The type a dialect without a table of its own declares a column of it with; None: the column's fields
    decide (widths, lengths, precision, values), see :func:`dbsynth.write.types.sa_type`."""


@functools.cache
def family_types() -> tuple[FamilyType, ...]:
    """SQLAlchemy's generic types and the families, one table read both ways: reflection takes the first row
    whose :attr:`~FamilyType.reads` class a reflected type is an instance of (so the order matters: an Enum is
    a String, a Float a Numeric, a Boolean may be an Integer), the writer the :attr:`~FamilyType.writes` type
    of a family. A type of no row is of family ``other``."""
    import sqlalchemy as sa

    return (
        FamilyType("enum", sa.Enum, None),
        FamilyType("boolean", sa.Boolean, lambda c: sa.Boolean()),
        FamilyType("integer", sa.Integer, None),
        FamilyType("float", sa.Float, None),
        FamilyType("decimal", sa.Numeric, None),
        FamilyType("timestamp", sa.DateTime, lambda c: sa.DateTime(timezone=c.timezone)),
        FamilyType("date", sa.Date, lambda c: sa.Date()),
        FamilyType("time", sa.Time, lambda c: sa.Time()),
        FamilyType("interval", sa.Interval, lambda c: sa.String(64)),  # its text ('1 day 02:00:00')
        FamilyType("uuid", sa.Uuid, lambda c: sa.String(36)),
        FamilyType("json", sa.JSON, lambda c: sa.JSON()),
        FamilyType("array", sa.ARRAY, lambda c: sa.JSON()),  # items as a JSON list
        FamilyType("binary", sa.types._Binary, lambda c: sa.LargeBinary()),
        FamilyType("string", sa.String, None),
    )


@functools.cache
def _generic_types() -> TypeTable:
    """The types of SQLAlchemy's generic vocabulary: what any dialect without a table of its own gets."""
    import sqlalchemy as sa

    return TypeTable(
        families={row.family: row.writes for row in family_types() if row.writes is not None},
        integers={16: lambda c: sa.SmallInteger(), 64: lambda c: sa.BigInteger()},
        # the next wider signed type; BIGINT UNSIGNED as its decimal text
        unsigned={8: lambda c: sa.SmallInteger(), 16: lambda c: sa.Integer(), 24: lambda c: sa.Integer(),
                  32: lambda c: sa.BigInteger(), 64: lambda c: sa.String(20)},
        text=lambda c: sa.Text(),
        key_text=lambda c: sa.Text(),
        widest_decimal=lambda c: sa.Numeric(),
    )


@functools.cache
def _postgresql_types() -> TypeTable:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql as pg

    generic = _generic_types()
    return TypeTable(
        families={
            **generic.families,
            "time": lambda c: sa.Time(timezone=c.timezone),
            "interval": lambda c: pg.INTERVAL(),
            "uuid": lambda c: pg.UUID(as_uuid=False),
            "json": lambda c: pg.JSONB() if (c.native_type or "").lower() == "jsonb" else pg.JSON(),
        },
        integers=generic.integers,
        unsigned={**generic.unsigned, 64: lambda c: sa.Numeric(20, 0)},
        text=generic.text,
        key_text=generic.key_text,
        widest_decimal=generic.widest_decimal,
    )


@functools.cache
def _mysql_types() -> TypeTable:
    import sqlalchemy as sa
    from sqlalchemy.dialects import mysql

    generic = _generic_types()
    return TypeTable(
        families={
            **generic.families,
            "time": lambda c: mysql.TIME(fsp=6),
            "timestamp": lambda c: mysql.DATETIME(fsp=6),  # MariaDB has no zone: values are written as UTC
            "binary": lambda c: mysql.LONGBLOB(),
        },
        integers={**generic.integers, 8: lambda c: mysql.TINYINT(), 24: lambda c: mysql.MEDIUMINT()},
        unsigned={8: lambda c: mysql.TINYINT(unsigned=True), 16: lambda c: mysql.SMALLINT(unsigned=True),
                  24: lambda c: mysql.MEDIUMINT(unsigned=True), 32: lambda c: mysql.INTEGER(unsigned=True),
                  64: lambda c: mysql.BIGINT(unsigned=True)},
        text=lambda c: mysql.LONGTEXT(),
        key_text=lambda c: sa.String(255),  # the longest VARCHAR every InnoDB index takes whole
        # its widest, with 30 places (a float's 17 significant digits fit there exactly, a SQLite NUMERIC's
        # int64 too)
        widest_decimal=lambda c: sa.Numeric(65, 30),
    )


@functools.cache
def _sqlite_types() -> TypeTable:
    import sqlalchemy as sa

    generic = _generic_types()
    return TypeTable(
        families={**generic.families, "array": lambda c: sa.Text()},
        integers=generic.integers,
        unsigned=generic.unsigned,  # SQLite's integers are int64: BIGINT UNSIGNED as text keeps every value
        text=generic.text,
        key_text=generic.key_text,
        # no decimal type: NUMERIC affinity turns more than 15 digits into a REAL, so wide and unconstrained
        # decimals are kept as their exact text (TEXT affinity)
        widest_decimal=lambda c: sa.Text(),
        autoincrement_integer=lambda c: sa.Integer(),
    )


@dataclass(frozen=True, eq=False)
class Dialect:
    """What one SQL dialect can do, as the reader, reflection and the writer need to know it."""

    name: str
    """The SQLAlchemy dialect name dbsynth uses for it (``mysql`` for MariaDB too)."""
    label: str
    """How messages name it (``MariaDB/MySQL``)."""
    sqlglot: str | None
    """The sqlglot dialect that parses and writes its SQL (CHECKs, defaults); None: sqlglot's generic SQL."""
    aliases: tuple[str, ...] = ()
    """Other names that mean this dialect (SQLAlchemy's ``mariadb``, sqlglot's ``postgres``)."""
    drivers: Mapping[str, str] = field(default_factory=dict)
    """Plain URL scheme -> the SQLAlchemy driver dbsynth ships for it (``postgresql`` -> ``postgresql+psycopg``);
    a scheme not listed (or a URL naming its driver) keeps SQLAlchemy's choice."""
    default_port: int | None = None
    """The server's default TCP port (URLs without one compare equal to URLs with it); None: no server."""
    server: bool = True
    """A server reached over the network (a connect timeout applies); False: a file opened in process."""

    # --- transactions and loading
    transactional_ddl: bool = False
    """CREATE/DROP/ALTER roll back with the transaction: the whole load is one transaction. Without it the
    writer loads staging tables and swaps them in (needs :attr:`atomic_rename`)."""
    atomic_rename: bool = False
    """One ``RENAME TABLE a TO b, c TO d`` renames several tables atomically (the staging swap)."""
    copy: bool = False
    """Bulk loads and reads through ``COPY ... FROM STDIN / TO STDOUT`` (PostgreSQL with psycopg)."""
    placeholder: str = "%s"
    """The DB-API parameter marker of its driver (``?`` for sqlite3)."""
    percent_in_sql_is_a_marker: bool = False
    """The driver reads ``%`` in statement text run with exec_driver_sql as a parameter marker: double it."""
    utc_session: bool = False
    """``SET LOCAL TIME ZONE 'UTC'`` makes the session read and write timestamps as UTC."""
    lock_wait: LockWait = LockWait.NONE
    """How a load bounds its wait for another session's lock."""
    lock_table: bool = False
    """``LOCK TABLE ... IN ACCESS EXCLUSIVE MODE`` (the writer locks each managed table, naming the one held)."""
    truncate_many: bool = False
    """One transactional ``TRUNCATE a, b, c`` empties tables that refer to each other; else DELETE each."""
    readd_fks_after_load: bool = False
    """Foreign keys between loaded tables are dropped before the load and re-added after it in the same
    transaction (one join instead of a check per row: what pg_dump does); needs the ``pg_constraint`` catalog."""
    deferrable_fks: bool = False
    """Foreign keys can be checked at commit (``DEFERRABLE``, ``SET CONSTRAINTS``, SQLite's
    ``defer_foreign_keys``)."""
    fk_check_switch: bool = False
    """``SET foreign_key_checks = 0`` turns foreign-key checks off for the session (a NOT NULL cycle loads)."""
    fk_pragma: bool = False
    """Foreign keys are enforced only once asked on each connection (SQLite's ``PRAGMA foreign_keys``)."""
    sequences: bool = False
    """Serial/identity columns draw from sequences that must be moved past the loaded keys (they do not
    advance by themselves when explicit keys are inserted)."""
    analyze: bool = False
    """``ANALYZE table`` after the load gives the planner statistics of the new rows."""

    errors: DriverErrors = DriverErrors.NONE
    """How its driver's errors say what failed."""

    # --- DDL
    schemas: Schemas = Schemas.NONE
    """What a schema is there."""
    max_identifier_length: int = 30
    """Longest table, constraint or index name."""
    identity_columns: bool = False
    """Auto-assigned integer keys are declared ``GENERATED BY DEFAULT AS IDENTITY`` (else AUTO_INCREMENT or
    the rowid, on the single-column integer primary key only)."""
    column_comments: bool = True
    """Columns carry comments."""
    named_primary_keys: bool = True
    """A primary key keeps its own name (MariaDB names every one ``PRIMARY``)."""
    alter_add_constraint: bool = True
    """``ALTER TABLE ... ADD CONSTRAINT`` exists (SQLite: constraints only in CREATE TABLE, so foreign keys
    and CHECKs are part of it)."""
    drop_cascade: bool = False
    """``DROP TABLE ... CASCADE`` drops what depends on the table."""
    native_objects: bool = False
    """The source's types, domains, sequences and schema comments are cloned before the tables (PostgreSQL)."""
    enum: EnumKind = EnumKind.CHECK
    """How an enumerated column is declared."""
    arrays: bool = False
    """Array columns of any item type (else they are written as :attr:`TypeTable.families` ``array``)."""
    native_json: bool = False
    """A JSON type that refuses invalid documents (a ``JSON_VALID`` CHECK is redundant there)."""
    time_zones: bool = False
    """TIME and TIMESTAMP columns can carry a time zone."""
    max_decimal_digits: int | None = None
    """Digits an exact DECIMAL holds (None: no limit worth naming); wider decimals become :attr:`TypeTable.
    widest_decimal`."""
    unbounded_decimal: bool = False
    """A DECIMAL without precision holds any number of digits (PostgreSQL's ``numeric``)."""
    bit_is_number: bool = False
    """``BIT(n)`` holds a number of n bits, read as bytes (MariaDB); a clone elsewhere gets a BIGINT."""
    declared_types_verbatim: bool = False
    """Any declared type spelling is valid and decides the values' affinity (SQLite): a same-dialect clone
    declares every column exactly as the source did."""
    verbatim_spellings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per family, type spellings (upper-case prefixes) a same-dialect clone declares as the source wrote them
    although the family reads them: MariaDB's ``YEAR`` (an integer) and ``SET(...)`` (a string)."""
    regexp: Regexp = Regexp.FUNCTION
    """How the target writes a regular-expression match."""
    glob: bool = False
    """``GLOB`` patterns exist (SQLite)."""

    # --- reading and values
    partitions: bool = False
    """Partitioned tables whose partitions the catalog lists as tables too (PostgreSQL): reflected once, as
    the parent."""
    json_valid_checks: bool = False
    """JSON columns are text with a ``JSON_VALID`` CHECK the SQLAlchemy reflection does not report (MariaDB)."""
    rowid: bool = False
    """A single ``INTEGER PRIMARY KEY`` is the rowid the database assigns, like a serial (SQLite)."""
    affinity: bool = False
    """Column types are affinities: an INTEGER column stores any int64 and a REAL is 8 bytes whatever the
    declared spelling (SQLite), so reflection widens them."""
    float_is_single: bool = False
    """``FLOAT`` without a precision (or up to 24) is 4 bytes (MariaDB)."""
    tablesample: bool = False
    """``TABLESAMPLE BERNOULLI`` samples rows server side."""
    text_cast_of_unknown_types: bool = False
    """Columns of no portable family are read as their text (their input function reads it back exactly)."""
    blob_cast_of_binary: bool = False
    """Binary columns are read as ``CAST(... AS BLOB)`` (a BLOB column may hold non-UTF-8 TEXT values)."""
    missing_objects_are_operational_errors: bool = False
    """"No such table/column" arrives as an OperationalError (sqlite3) rather than a ProgrammingError."""
    dates_as_text: bool = False
    """Dates, times and decimals are stored as ISO text / numbers (no Decimal, no date type)."""
    infinite_floats: bool = False
    """Floats can be +-Infinity."""
    nan_floats: bool = False
    """Floats can be NaN (not NULL)."""
    last_date: str | None = None
    """The last date it stores, when earlier than pandas' range ends (MariaDB: 9999-12-31)."""
    marker_text: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    """How the frame contract's marker stamps (infinity, -infinity, the zero date) are written, per family
    (``date``, ``timestamp``); a family not listed writes them as the generic infinity words."""
    case_insensitive_names: bool = False
    """Database names may be case-insensitive (MariaDB's ``lower_case_table_names``)."""
    file_identity: bool = False
    """A database is a file, identified by device and inode rather than by a server's identifiers."""
    stable_instance: bool = False
    """The instance a :class:`~dbsynth.metadata.records.DatabaseIdentity` names (MariaDB's
    ``hostname:port:datadir``) survives restarts: another instance is another server. PostgreSQL's names the
    postmaster start, so another instance may be the same server restarted."""
    like_escape: str | None = "\\"
    """LIKE's default escape character (SQLite has none)."""
    integer_division: bool = True
    """``/`` of two integers truncates (MariaDB's ``/`` always divides exactly)."""
    cast_truncates: bool = False
    """CAST of a real to an integer truncates instead of rounding (SQLite)."""
    type_table: Callable[[], TypeTable] = field(default=_generic_types, repr=False)
    """Builds :attr:`types` (on first use)."""

    @property
    def types(self) -> TypeTable:
        """The dialect's type mapping (:class:`TypeTable`)."""
        return self.type_table()

    def same(self, other: str | Dialect | None) -> bool:
        """True when ``other`` names this dialect (MariaDB and MySQL are one): a same-dialect clone. Two
        dialects dbsynth does not know are not taken for one (compare their names)."""
        return other is not None and self is not DEFAULT and capabilities(other) is self


POSTGRESQL = Dialect(
    name="postgresql", label="PostgreSQL", sqlglot="postgres", aliases=("postgres",),
    drivers=MappingProxyType({"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}),
    default_port=5432,
    errors=DriverErrors.SQLSTATE, transactional_ddl=True, copy=True, percent_in_sql_is_a_marker=True, utc_session=True,
    lock_wait=LockWait.SET_LOCAL, lock_table=True, truncate_many=True, readd_fks_after_load=True,
    deferrable_fks=True, sequences=True, analyze=True,
    schemas=Schemas.SCHEMAS, max_identifier_length=63, identity_columns=True, drop_cascade=True,
    native_objects=True, enum=EnumKind.TYPE, arrays=True, native_json=True, time_zones=True,
    max_decimal_digits=1000, unbounded_decimal=True,
    partitions=True, tablesample=True, text_cast_of_unknown_types=True, infinite_floats=True, nan_floats=True,
    marker_text=MappingProxyType({"date": ("infinity", "-infinity", "-infinity"),
                                  "timestamp": ("infinity", "-infinity", "-infinity")}),
    type_table=_postgresql_types,
)
"""PostgreSQL (psycopg 3): everything in one transaction, COPY both ways, real schemas."""

MYSQL = Dialect(
    name="mysql", label="MariaDB/MySQL", sqlglot="mysql", aliases=("mariadb",),
    drivers=MappingProxyType({"mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}), default_port=3306,
    errors=DriverErrors.ERRNO, atomic_rename=True, lock_wait=LockWait.SESSION, fk_check_switch=True,
    schemas=Schemas.DATABASES, max_identifier_length=64, named_primary_keys=False, enum=EnumKind.INLINE,
    native_json=True, max_decimal_digits=65, bit_is_number=True,
    verbatim_spellings=MappingProxyType({"integer": ("YEAR",), "string": ("SET(",)}), regexp=Regexp.OPERATOR,
    last_date="9999-12-31 23:59:59.999999",
    marker_text=MappingProxyType({"date": ("9999-12-31", "0001-01-01", "0000-00-00"),
                                  "timestamp": ("9999-12-31 23:59:59.999999", "0001-01-01 00:00:00",
                                                "0000-00-00 00:00:00")}),
    json_valid_checks=True, float_is_single=True, case_insensitive_names=True, stable_instance=True,
    integer_division=False,
    type_table=_mysql_types,
)
"""MariaDB and MySQL (pymysql): DDL commits implicitly, so loads go through staging tables and one RENAME."""

SQLITE = Dialect(
    name="sqlite", label="SQLite", sqlglot="sqlite", server=False,
    errors=DriverErrors.MESSAGE, transactional_ddl=True, placeholder="?", lock_wait=LockWait.BUSY_TIMEOUT,
    deferrable_fks=True, fk_pragma=True, regexp=Regexp.NONE,
    schemas=Schemas.ATTACHED, max_identifier_length=63, column_comments=False, alter_add_constraint=False,
    max_decimal_digits=15, declared_types_verbatim=True, glob=True,
    blob_cast_of_binary=True, missing_objects_are_operational_errors=True, dates_as_text=True, infinite_floats=True,
    marker_text=MappingProxyType({"date": ("infinity", "-infinity", "0000-00-00"),
                                  "timestamp": ("infinity", "-infinity", "0000-00-00 00:00:00")}),
    rowid=True, affinity=True, file_identity=True, like_escape=None, cast_truncates=True,
    type_table=_sqlite_types,
)
"""SQLite (sqlite3): the embedded default; one file, one writer, DDL inside transactions."""

DEFAULT = Dialect(name="default", label="the target", sqlglot=None)
"""Any other SQLAlchemy dialect: nothing assumed beyond SQL and SQLAlchemy's generic types (every capability
off, short identifiers). Reflection works; a load into it takes the portable path."""

#: Every dialect dbsynth knows, by each of its names. Add a new record here.
DIALECTS: Mapping[str, Dialect] = MappingProxyType(
    {n: d for d in (POSTGRESQL, MYSQL, SQLITE) for n in (d.name, *d.aliases)}
)


def capabilities(dialect: str | Dialect | Any | None) -> Dialect:
    """The record of a dialect, from its name, a :class:`Dialect`, or anything SQLAlchemy that knows its
    dialect (an engine, a connection, a URL, a SQLAlchemy ``Dialect``); :data:`DEFAULT` for an unknown one.

    Args:
        dialect: ``"postgresql"``, ``"mariadb"``, ``"postgres"`` (sqlglot), an engine, ``sa.URL``...; None
            (a dialect not known, e.g. metadata built by hand) gets :data:`DEFAULT`.
    """
    if isinstance(dialect, Dialect):
        return dialect
    if dialect is None:
        return DEFAULT
    if not isinstance(dialect, str):
        dialect = _name_of(dialect)
    return DIALECTS.get(dialect.split("+", 1)[0].lower(), DEFAULT)


def same_dialect(source: str | Dialect | None, target: str | Dialect | None) -> bool:
    """True when a clone from ``source`` into ``target`` is same-dialect: one record (MariaDB and MySQL are
    one), or, for dialects dbsynth has no record of, the same name."""
    if source is None or target is None:
        return False
    a, b = capabilities(source), capabilities(target)
    if a is DEFAULT and b is DEFAULT:
        return isinstance(source, str) and isinstance(target, str) and source.split("+")[0] == target.split("+")[0]
    return a is b


def _name_of(obj: Any) -> str:
    """The dialect name of an engine, connection, SQLAlchemy dialect or URL (``get_backend_name``)."""
    inner = getattr(obj, "dialect", None)
    if inner is not None and isinstance(getattr(inner, "name", None), str):
        return str(inner.name)
    backend = getattr(obj, "get_backend_name", None)
    if callable(backend):
        return str(backend())
    name = getattr(obj, "name", None)
    if isinstance(name, str):
        return name
    raise TypeError(f"no SQL dialect in {type(obj).__name__}")
