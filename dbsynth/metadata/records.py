"""Typed records that describe a database: the value every stage of dbsynth hands to the next.

They are plain dataclasses (no database handle, no model state), so that they can be built by reflection,
by hand, from SDV metadata or from DataFrames, and saved as JSON. Loading JSON goes through pydantic, which
names the exact key at fault when a file is malformed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dialects import capabilities
from ..errors import MetadataError
from . import sdtypes as st

#: Version of the metadata JSON layout; bumped when a field changes meaning.
FORMAT_VERSION = 1


@dataclass
class Column:
    """One column of a table."""

    # pydantic reads this when loading JSON: unknown keys are errors, not silently dropped.
    __pydantic_config__ = {"extra": "forbid"}

    name: str
    """Column name, as in the database."""
    type: str = st.STRING
    """Portable type family (see :mod:`dbsynth.metadata.sdtypes`): integer, float, decimal, string, ..."""
    sdtype: str = st.CATEGORICAL
    """Semantic type: how the column is synthesized (id, numerical, datetime, categorical, boolean, text,
    a PII kind such as email, or unsupported)."""
    nullable: bool = True
    """Whether NULL is allowed."""
    native_type: str | None = None
    """The type as the source dialect spells it (``character varying(45)``, ``mpaa_rating``, ``tsvector``)."""
    length: int | None = None
    """Maximum length of strings (varchar(n)), None when unbounded."""
    precision: int | None = None
    """Total digits of decimals."""
    scale: int | None = None
    """Digits after the point of decimals."""
    bits: int | None = None
    """Width of integers (16, 32, 64) and floats (32, 64)."""
    timezone: bool = False
    """Timestamps and times with a time zone."""
    enum_name: str | None = None
    """Name of the database enum type, if any."""
    enum_values: list[str] | None = None
    """Allowed values of an enum column, in declaration order."""
    item_type: str | None = None
    """Type family of the items of an array column."""
    default: str | None = None
    """Default expression as the source spells it (``nextval(...)`` and ``now()`` included)."""
    autoincrement: bool = False
    """Identity, serial or auto-increment column: the database can generate its values."""
    computed: str | None = None
    """Expression of a generated (computed) column; such columns are never written."""
    pii: str | None = None
    """Faker provider used to generate this column, when it differs from the sdtype's default."""
    comment: str | None = None
    """Column comment from the database."""

    @property
    def is_modelled(self) -> bool:
        """True when the column's values are learned by the model (not generated or constant)."""
        return self.sdtype in st.MODELLED


@dataclass
class ForeignKey:
    """A foreign key from ``columns`` of the owning table to ``ref_columns`` of ``ref_table``."""

    # pydantic reads this when loading JSON: unknown keys are errors, not silently dropped.
    __pydantic_config__ = {"extra": "forbid"}

    columns: list[str]
    """Referencing columns in the owning (child) table."""
    ref_table: str
    """Referenced (parent) table, by its metadata name."""
    ref_columns: list[str]
    """Referenced columns (usually the parent's primary key), in the same order as ``columns``."""
    name: str | None = None
    """Constraint name; :meth:`Metadata.validate` fills a stable one when the database gave none."""
    on_delete: str | None = None
    """ON DELETE action, if any."""
    deferrable: bool = False
    """Whether the database may defer the check to commit time."""
    definition: str | None = None
    """The constraint as the source dialect spells it, after ``ADD CONSTRAINT <name>`` (PostgreSQL
    ``pg_get_constraintdef``, MariaDB's ``FOREIGN KEY ... REFERENCES ...`` clause of ``SHOW CREATE TABLE``);
    used verbatim by a same-dialect clone (ON UPDATE, MATCH, INITIALLY DEFERRED kept), ignored by others."""


@dataclass
class UniqueConstraint:
    """A UNIQUE constraint (or unique index) over ``columns``."""

    # pydantic reads this when loading JSON: unknown keys are errors, not silently dropped.
    __pydantic_config__ = {"extra": "forbid"}

    columns: list[str]
    """Columns that are unique together."""
    name: str | None = None
    """Constraint or index name."""


@dataclass
class Index:
    """An index that is not the primary key or a UNIQUE constraint (those are described by their own records)."""

    # pydantic reads this when loading JSON: unknown keys are errors, not silently dropped.
    __pydantic_config__ = {"extra": "forbid"}

    name: str
    """Index name, as in the source."""
    columns: list[str] = field(default_factory=list)
    """Indexed column names in order; an expression part is kept as its SQL text (PostgreSQL)."""
    unique: bool = False
    """A unique index (partial or over expressions: the ones no UniqueConstraint describes)."""
    kind: str | None = None
    """Access method or index kind when not the default: ``gist``, ``gin``, ``hash`` (PostgreSQL),
    ``spatial``, ``fulltext`` (MariaDB)."""
    where: str | None = None
    """Predicate of a partial index (PostgreSQL, SQLite), as the source spells it."""
    definition: str | None = None
    """The source's ``CREATE INDEX`` statement verbatim (PostgreSQL ``pg_get_indexdef``, SQLite's
    ``sqlite_master.sql``; MariaDB indexes are part of :attr:`Table.native_ddl`); a same-dialect clone runs it."""


@dataclass
class NativeDDL:
    """How the source itself creates a table, replayed by a same-dialect clone to give the very same DDL."""

    # pydantic reads this when loading JSON: unknown keys are errors, not silently dropped.
    __pydantic_config__ = {"extra": "forbid"}

    dialect: str
    """Dialect the statements are written in (``postgresql``, ``mysql``, ``sqlite``)."""
    statements: list[str] = field(default_factory=list)
    """Statements that create the table, in order, without its foreign keys (see
    :attr:`ForeignKey.definition`): PostgreSQL ``CREATE TABLE`` with columns, defaults, identity, generated
    columns and CHECKs, then constraints, partitions, indexes and comments, all schema-qualified; MariaDB the
    ``SHOW CREATE TABLE`` text without its ``FOREIGN KEY`` clauses and ``AUTO_INCREMENT=n``; SQLite
    ``sqlite_master.sql`` then its indexes."""
    columns: list[str] = field(default_factory=list)
    """Column names the statements create, in order: when the table's columns no longer match (edited
    metadata), the writer builds the table from the records instead."""
    schema: str | None = None
    """Source schema the statements name (PostgreSQL); the writer replays them only into that schema."""
    table: str | None = None
    """The table's bare name in the statements: a table renamed in the metadata since is built from the
    records (its constraint and index names would be the old table's)."""


@dataclass
class NativeObject:
    """A database object the tables need, outside any table: a PostgreSQL enum, domain, composite type,
    free-standing sequence, or a schema comment."""

    # pydantic reads this when loading JSON: unknown keys are errors, not silently dropped.
    __pydantic_config__ = {"extra": "forbid"}

    kind: str
    """``type`` (enum, composite, range), ``domain``, ``sequence`` or ``schema``."""
    name: str
    """Schema-qualified name (``public.mood``; the schema's own name for ``schema``)."""
    dialect: str = "postgresql"
    """Dialect the statements are written in."""
    statements: list[str] = field(default_factory=list)
    """Statements that create it; the writer runs them when the target has no object of that name."""


@dataclass
class CheckConstraint:
    """A CHECK constraint, kept as the source dialect's SQL text."""

    # pydantic reads this when loading JSON: unknown keys are errors, not silently dropped.
    __pydantic_config__ = {"extra": "forbid"}

    sqltext: str
    """The boolean expression, as the source database spells it."""
    name: str | None = None
    """Constraint name."""


@dataclass
class Table:
    """One table: columns, keys and constraints."""

    # pydantic reads this when loading JSON: unknown keys are errors, not silently dropped.
    __pydantic_config__ = {"extra": "forbid"}

    name: str
    """Table name; the key of this table in :attr:`Metadata.tables` (``schema.name`` when several schemas)."""
    columns: list[Column] = field(default_factory=list)
    """Columns in database order."""
    primary_key: list[str] = field(default_factory=list)
    """Primary-key columns (empty: no primary key; several: a composite key)."""
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    """Foreign keys from this table to its parents."""
    outside_foreign_keys: list[ForeignKey] = field(default_factory=list)
    """Foreign keys to tables that are not in this metadata (left out by include/exclude or ``mode: skip``, or in
    a schema not read); ``ref_table`` is the parent as the source names it. Never created in a target: kept so
    that a run can say what becomes of their columns."""
    unique_constraints: list[UniqueConstraint] = field(default_factory=list)
    """UNIQUE constraints other than the primary key."""
    check_constraints: list[CheckConstraint] = field(default_factory=list)
    """CHECK constraints, as SQL text."""
    schema: str | None = None
    """Database schema the table lives in (None: the connection's default)."""
    row_count: int | None = None
    """Number of rows seen in the source, when known."""
    comment: str | None = None
    """Table comment from the database."""
    primary_key_name: str | None = None
    """Name of the primary-key constraint (None: unnamed, or the dialect's default name)."""
    indexes: list[Index] = field(default_factory=list)
    """Indexes other than the primary key and the UNIQUE constraints."""
    native_ddl: NativeDDL | None = None
    """The source's own DDL for this table, replayed verbatim by a same-dialect clone (None: built from the
    records above, which every cross-dialect clone does)."""

    def column(self, name: str) -> Column:
        """The column called ``name``.

        Raises:
            MetadataError: when the table has no such column.
        """
        for col in self.columns:
            if col.name == name:
                return col
        raise MetadataError("no such column", table=self.name, column=name)

    @property
    def column_names(self) -> list[str]:
        """Names of the columns, in order."""
        return [c.name for c in self.columns]

    def has_column(self, name: str) -> bool:
        """True when the table has a column called ``name``."""
        return any(c.name == name for c in self.columns)

    def fk_is_nullable(self, fk: ForeignKey) -> bool:
        """True when every column of ``fk`` accepts NULL (so the reference can be filled after insert)."""
        return all(self.column(c).nullable for c in fk.columns if self.has_column(c))


@dataclass(frozen=True)
class DatabaseIdentity:
    """Which database a live connection reached, as the server (or the file system) itself reports it.

    dbsynth refuses to write into the database it read from. A URL cannot tell: another host name for the same
    address, a ``?dbname=`` or ``?host=`` query parameter that libpq prefers over the URL's own parts, a URL
    without a database name (libpq then takes the user's name) or a hard link to a SQLite file all reach the
    source under another spelling. What the server answers once connected does not depend on the spelling.

    It holds no credential: no URL, user or password, only server-reported facts. Obtain one with
    :func:`dbsynth.db.database_identity` (a connection) or :func:`dbsynth.db.identity_of` (a URL).
    """

    # pydantic reads this when loading JSON: unknown keys are errors, not silently dropped.
    __pydantic_config__ = {"extra": "forbid"}

    dialect: str
    """SQLAlchemy dialect family: ``postgresql``, ``mysql`` (MariaDB too) or ``sqlite``."""
    database: str | None = None
    """The database the session is in, as the server names it (PostgreSQL ``current_database()``, MariaDB/MySQL
    ``DATABASE()``); None for SQLite, whose file is the database."""
    server_id: str | None = None
    """A unique id of the server or file: PostgreSQL's system identifier (``pg_control_system()``), MySQL's
    ``@@server_uuid``, SQLite's ``<device>:<inode>`` of the database file (the same for hard links and
    symlinks). None where the server does not give one (MariaDB) or the role may not read it. A physical
    copy of a PostgreSQL cluster (a standby, a staging server restored from a base backup) shares it."""
    instance: str | None = None
    """The running server: PostgreSQL ``<port>/<postmaster start, epoch seconds>`` (readable by every role;
    it changes when the server restarts), MariaDB/MySQL ``<@@hostname>:<@@port>:<@@datadir>``."""
    address: str | None = None
    """PostgreSQL: ``<inet_server_addr()>:<port>`` the session reached (None over a Unix socket). Tells a
    restarted source from a copy of it on another machine when ``instance`` differs."""

    def same_as(self, other: DatabaseIdentity | None) -> bool:
        """True when ``other`` is (or cannot be told apart from) the database of ``self``.

        Same database name, and then: another system identifier (or server uuid) is another server; the same
        running instance is the same server; otherwise (a restart since one side was taken, a copy
        of the cluster, or a side that could not read the identifier) the addresses decide, with every
        loopback address taken as one machine. Doubt counts as the same database: refusing a legitimate
        target is a nuisance, writing into production is not.
        """
        if other is None or self.dialect != other.dialect:
            return False
        caps = capabilities(self.dialect)
        if caps.file_identity:
            return self.server_id is not None and self.server_id == other.server_id
        if _db_name(self) != _db_name(other):
            return False
        both_ids = bool(self.server_id and other.server_id)
        if both_ids and self.server_id != other.server_id:
            return False
        if self.instance and self.instance == other.instance:
            return True
        if caps.stable_instance:
            # hostname:port:datadir survives restarts; without a uuid, another instance is another server
            return both_ids or not (self.instance and other.instance)
        # PostgreSQL, the same system identifier (or one unknown) and another instance: the source restarted
        # since its identity was taken, or this is a copy of the cluster; the address it answers on decides.
        a, b = _address(self.address), _address(other.address)
        if a is None or b is None:
            return True
        return a == b

    def describe(self) -> str:
        """A short, credential-free description for messages (``database 'src' on server 7714...``)."""
        if capabilities(self.dialect).file_identity:
            return f"SQLite file {self.server_id} (device:inode)"
        server = self.server_id or self.instance or "an unidentified server"
        return f"database '{self.database}' on server {server}"


def _address(address: str | None) -> tuple[str, str] | None:
    # 127.0.0.1, any 127.x and ::1 are one machine's loopback: the same server under other names
    if not address or ":" not in address:
        return None
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if host.startswith("127.") or host in ("::1", "localhost"):
        host = "loopback"
    return host, port


def _db_name(identity: DatabaseIdentity) -> str | None:
    # MariaDB/MySQL database names are case-insensitive where lower_case_table_names is set; taking them as
    # such everywhere can only refuse more.
    name = identity.database
    return name.casefold() if name is not None and capabilities(identity.dialect).case_insensitive_names else name


@dataclass
class Metadata:
    """A database described: its tables and the foreign keys between them.

    Build it with :func:`dbsynth.reflect`, :meth:`load`, :meth:`from_sdv` or
    :func:`dbsynth.metadata.detect_from_dataframes`, or by hand.
    """

    # pydantic reads this when loading JSON: unknown keys are errors, not silently dropped.
    __pydantic_config__ = {"extra": "forbid"}

    tables: dict[str, Table] = field(default_factory=dict)
    """Tables by name, in a stable order."""
    dialect: str | None = None
    """SQLAlchemy dialect of the database it was read from (postgresql, mysql, sqlite), if any."""
    version: int = FORMAT_VERSION
    """Format version of the JSON layout."""
    source_identity: DatabaseIdentity | None = None
    """Which database this was reflected from (:func:`dbsynth.reflect` sets it; None for metadata built by hand
    or loaded from a file written before it existed). :func:`dbsynth.write` refuses a target with this
    identity. It is not part of the :meth:`fingerprint`: the same schema elsewhere is the same schema."""
    native_objects: list[NativeObject] = field(default_factory=list)
    """Objects outside the tables that a same-dialect clone creates first (PostgreSQL enums, domains,
    composite types, free-standing sequences, schema comments), in creation order."""

    # ---- access -------------------------------------------------------------------------------------
    def table(self, name: str) -> Table:
        """The table called ``name``.

        Raises:
            MetadataError: when there is no such table (the message lists the known ones).
        """
        try:
            return self.tables[name]
        except KeyError:
            known = ", ".join(sorted(self.tables)) or "none"
            raise MetadataError(f"no such table (known tables: {known})", table=name) from None

    def __iter__(self) -> Iterator[Table]:
        return iter(self.tables.values())

    def __len__(self) -> int:
        return len(self.tables)

    def add_table(self, table: Table) -> Table:
        """Add ``table`` (replacing one of the same name) and return it."""
        self.tables[table.name] = table
        return table

    def relationships(self) -> Iterator[tuple[Table, ForeignKey]]:
        """Every (child table, foreign key) pair, in table order."""
        for table in self.tables.values():
            for fk in table.foreign_keys:
                yield table, fk

    def copy(self) -> Metadata:
        """A deep copy (through the JSON form, which is the contract)."""
        return Metadata.from_dict(self.to_dict())

    def subset(self, names: list[str]) -> Metadata:
        """A copy holding only ``names``; foreign keys to tables left out move to ``outside_foreign_keys``."""
        keep = set(names)
        out = self.copy()
        out.tables = {n: t for n, t in out.tables.items() if n in keep}
        for t in out.tables.values():
            t.outside_foreign_keys += [fk for fk in t.foreign_keys if fk.ref_table not in keep]
            t.foreign_keys = [fk for fk in t.foreign_keys if fk.ref_table in keep]
        return out

    # ---- graph ----------------------------------------------------------------------------------------
    def graph(self):
        """The foreign-key graph (:class:`dbsynth.metadata.graph.FKGraph`): orders, roots, depth, cycles."""
        from .graph import FKGraph

        return FKGraph(self)

    # ---- checks ---------------------------------------------------------------------------------------
    def validate(self) -> Metadata:
        """Check the metadata is consistent; fill missing foreign-key names.

        Every problem is collected first, then reported at once.

        Returns:
            ``self``, for chaining.

        Raises:
            MetadataError: listing each problem with the table and column it concerns.
        """
        from .validate import collect_problems

        problems = collect_problems(self)
        if problems:
            raise MetadataError("metadata is not valid", problems, hint="Fix these and try again.")
        return self

    def fingerprint(self) -> str:
        """A hash of the schema's structure (tables, columns, types, keys), without counts or comments.

        Two databases with the same fingerprint can share a model; the nightly job re-fits when it changes.
        """
        shape = []
        for t in sorted(self.tables.values(), key=lambda t: t.name):
            shape.append(
                {
                    "name": t.name,
                    "columns": [[c.name, c.type, c.sdtype, c.nullable, c.enum_values] for c in t.columns],
                    "pk": t.primary_key,
                    "fks": sorted([fk.columns, fk.ref_table, fk.ref_columns] for fk in t.foreign_keys),
                    "uniques": sorted(u.columns for u in t.unique_constraints),
                }
            )
        blob = json.dumps(shape, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    # ---- JSON -----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``{"version": 1, "dialect": ..., "tables": {...}}``), defaults omitted."""
        from .io import to_dict

        return to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "metadata") -> Metadata:
        """Build metadata from :meth:`to_dict`'s layout (or SDV's, detected automatically).

        Args:
            data: the parsed JSON.
            source: what to call the input in error messages (a file name).

        Raises:
            MetadataError: naming the key path at fault, e.g. ``tables.film.columns[2].nullable``.
        """
        from .io import from_dict

        return from_dict(data, source=source)

    def to_json(self, indent: int | None = 2) -> str:
        """The metadata as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    def save(self, path: str | Path) -> Path:
        """Write the metadata as JSON to ``path`` and return the path."""
        path = Path(path)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Metadata:
        """Read metadata from a JSON file (dbsynth's layout or SDV's V1/V2 multi-table layouts).

        Raises:
            MetadataError: when the file is missing, not JSON, or malformed (naming the key).
        """
        from .io import load

        return load(path)

    # ---- SDV ----------------------------------------------------------------------------------------
    @classmethod
    def from_sdv(cls, data: dict[str, Any]) -> Metadata:
        """Import SDV multi-table metadata (V1 ``{"tables": {t: {"fields": ...}}}`` or V2 layout)."""
        from .sdv import from_sdv

        return from_sdv(data)

    def to_sdv(self) -> dict[str, Any]:
        """Export as SDV's V2 multi-table metadata dict (``METADATA_SPEC_VERSION`` ``V1``)."""
        from .sdv import to_sdv

        return to_sdv(self)

