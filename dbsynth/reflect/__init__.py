"""Reflection: describe a live database as :class:`~dbsynth.metadata.Metadata`.

``dbsynth.reflect(url)`` is the public entry point (this package's :func:`reflect`). The package itself is
light: the work lives in :mod:`dbsynth.reflect.core`, imported (with SQLAlchemy) on the first call, so that
``import dbsynth`` can bind :func:`reflect` eagerly and stay cheap (see :mod:`dbsynth`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import URL

    from ..metadata.records import Metadata

__all__ = ["reflect"]


def reflect(
    url: str | URL | sa.Engine,
    schema: str | list[str] | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    statistics: bool = True,
) -> Metadata:
    """Describe the tables of a database: columns and types, keys, constraints, sdtypes and row counts.

    Args:
        url: database URL (text or ``sqlalchemy.URL``) or an engine.
        schema: schema(s) to reflect; None is the connection's default schema. With several schemas the
            table names are ``schema.name``.
        include: table names to keep (all when None).
        exclude: table names to leave out.
        statistics: read row counts and cheap per-column statistics (distinct ratios) to choose sdtypes;
            without them sdtypes are inferred from types and names only.

    Returns:
        Validated metadata. Views are ignored; PostgreSQL partitioned tables appear once, as the parent.
        ``source_identity`` tells which database it came from, so that :func:`dbsynth.write` refuses to
        write into it.

    Raises:
        ConnectError: the database cannot be reached.
        ReflectionError: no tables, or include/exclude names that do not exist.
        MetadataError: the reflected schema is inconsistent (e.g. a foreign key to a non-key column).
    """
    from .core import reflect as reflect_database

    return reflect_database(url, schema, include, exclude, statistics)
