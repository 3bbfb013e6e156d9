"""Which schemas a database holds, and what the config's ``source.schema`` asks to read.

``source.schema: "*"`` means every schema a user owns data in. On PostgreSQL that is every schema but the
catalog ones (``pg_catalog``, ``information_schema``, ``pg_toast``, the per-session ``pg_temp_*`` and
``pg_toast_temp_*``). On MariaDB/MySQL a "schema" is a database, and every database of a server is seldom what
a user cloning one database wants, so there (and on SQLite, whose attached databases are not part of a clone)
``"*"`` is the connection's database only.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from ..db import engine as make_engine
from ..db import make_url, read_only_connection
from ..dialects import Schemas, capabilities
from ..errors import BadInputError, ConnectError, ReflectionError, mask_secrets, mask_url

__all__ = ["ALL_SCHEMAS", "list_schemas", "resolve_schemas", "schemas_hint"]

#: The ``source.schema`` (and ``--schema``) value meaning every non-system schema.
ALL_SCHEMAS = "*"

_PG_SYSTEM = {"pg_catalog", "information_schema", "pg_toast"}
_PG_TEMP = re.compile(r"^pg_(toast_)?temp_\d+$")


def list_schemas(conn_or_url: sa.Connection | sa.Engine | str | sa.URL) -> list[str]:
    """The non-system schemas of a database, sorted (``public`` first on PostgreSQL).

    Args:
        conn_or_url: an open connection, an engine, or a URL (a connection is opened read-only and closed).

    Returns:
        PostgreSQL: every schema but ``pg_catalog``, ``information_schema``, ``pg_toast``, ``pg_temp_*`` and
        ``pg_toast_temp_*``. MariaDB/MySQL: the connection's database only (a schema there is a database; a
        clone is of one database). SQLite: ``main``.

    Raises:
        ConnectError: the database cannot be reached.
    """
    if isinstance(conn_or_url, sa.Connection):
        return _list(conn_or_url)
    own = not isinstance(conn_or_url, sa.Engine)
    eng: sa.Engine = conn_or_url if isinstance(conn_or_url, sa.Engine) else make_engine(conn_or_url, read_only=True)
    try:
        with read_only_connection(eng) as conn:
            return _list(conn)
    except sa.exc.OperationalError as exc:
        raise ConnectError(
            f"cannot list the schemas of '{mask_url(eng.url)}': "
            f"{mask_secrets(str(exc.orig).splitlines()[0], eng.url)}"
        ) from None
    finally:
        if own:
            eng.dispose()


def _list(conn: sa.Connection) -> list[str]:
    caps = capabilities(conn)
    if caps.schemas is Schemas.SCHEMAS:
        names = [str(n) for n in sa.inspect(conn).get_schema_names()]
        names = [n for n in names if n not in _PG_SYSTEM and not _PG_TEMP.match(n)]
        return sorted(names, key=lambda n: (n != "public", n))
    if caps.schemas is Schemas.ATTACHED:
        return ["main"]
    # MariaDB/MySQL (and any other dialect): the connection's own schema
    current = sa.inspect(conn).default_schema_name
    return [current] if current else []


def resolve_schemas(url: str | sa.URL | sa.Engine, schema: str | list[str] | None) -> str | list[str] | None:
    """What to pass to :func:`dbsynth.reflect.reflect` for a ``source.schema`` value.

    ``"*"`` becomes the schemas of :func:`list_schemas` on PostgreSQL (one schema stays a plain name, so the
    table names stay bare) and None (the connection's database) elsewhere; a one-item list becomes that name;
    other values are returned unchanged.

    Args:
        url: the source (URL or engine); only connected to for ``"*"`` on a server.
        schema: the config's ``source.schema`` (a name, a list of names, ``"*"`` or None).

    Returns:
        A schema name, a list of several names, or None.

    Raises:
        ConnectError: the database cannot be reached.
        ReflectionError: ``"*"`` on a PostgreSQL database with no schema but the system ones.
    """
    if isinstance(schema, list):
        if schema == [ALL_SCHEMAS]:
            schema = ALL_SCHEMAS
        elif len(schema) == 1:
            return schema[0]
        else:
            return list(schema)
    if schema != ALL_SCHEMAS:
        return schema
    if capabilities(url.url if isinstance(url, sa.Engine) else make_url(url)).schemas is not Schemas.SCHEMAS:
        return None  # a schema is a database there: '*' is the connection's
    names = list_schemas(url)
    if not names:
        raise ReflectionError(
            "source.schema '*': the database has no schema but the system ones",
            hint="Check the database name in source.url.",
        )
    return names[0] if len(names) == 1 else names


def schema_option(url: str | sa.URL | sa.Engine, schema: list[str] | None) -> str | list[str] | None:
    """What a repeated ``--schema`` command-line option asks for (``inspect``, ``report``): None, one name,
    several names, or ``'*'`` resolved on ``url``.

    Raises:
        BadInputError: ``'*'`` given with other schemas.
    """
    if not schema:
        return None
    names = list(dict.fromkeys(schema))
    if "*" in names and len(names) > 1:
        raise BadInputError("--schema '*' already means every schema: give it alone, or name the schemas")
    return resolve_schemas(url, names[0] if len(names) == 1 else names)


def schemas_hint(url: str | sa.URL, option: str = "source.schema") -> str | None:
    """For a PostgreSQL database whose default schema holds no table: which schemas hold some, as a hint.

    Args:
        url: the database.
        option: how the user sets the schema (``source.schema``, ``--schema``), for the text.

    Returns:
        The hint, or None (not PostgreSQL, or no other schema, or the database cannot be listed).
    """
    if capabilities(make_url(url)).schemas is not Schemas.SCHEMAS:
        return None
    try:
        names = [n for n in list_schemas(url) if n != "public"]
    except ConnectError:
        return None
    if not names:
        return None
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"The database has the schemas {shown}: set {option} to one of them, a list of them, or '*' for all."
