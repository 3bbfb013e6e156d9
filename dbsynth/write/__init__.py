"""Write synthetic (or any) rows into a target database: clone the schema, bulk-load, check, summarise.

Entry point: :func:`write`. What is atomic:

- PostgreSQL and SQLite: everything (DDL, rows, second pass of deferred foreign keys, sequence resets with
  ``ALTER SEQUENCE ... RESTART``, which rolls back with the transaction unlike ``setval``, checks, ANALYZE)
  runs in one transaction; any failure, a killed process or a terminated backend rolls back and the target is
  exactly as before.
- MariaDB/MySQL (DDL commits implicitly there): ``create``, ``replace`` and ``truncate`` load into staging
  tables (``_dbsynth_new_<name>``) that one ``RENAME TABLE`` statement swaps in (atomic in MariaDB); until then
  other sessions see the old tables with their rows. ``append`` inserts in one InnoDB transaction (see
  :mod:`dbsynth.write.mysql`).

Every error message says what happened to the target; no message carries a row value unless
:func:`dbsynth.errors.show_values` is on.

The package is light: the work lives in :mod:`dbsynth.write.core`, imported (with pandas and SQLAlchemy) on the
first call, so that ``import dbsynth`` can bind :func:`write` eagerly and stay cheap (see :mod:`dbsynth`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

    from ..metadata.records import Metadata
    from .core import Data, TableWrite, WriteSummary

__all__ = ["write", "WriteSummary", "TableWrite", "MODES"]

#: Names of :mod:`dbsynth.write.core` this package exports, loaded on first access.
_FROM_CORE = ("WriteSummary", "TableWrite", "MODES", "Data")


def write(
    data: Data,
    url: str | sa.URL,
    metadata: Metadata,
    mode: str = "create",
    batch_size: int = 50_000,
    source_url: str | sa.URL | None = None,
    allow_nonempty: bool = False,
    lock_timeout: float = 30.0,
) -> WriteSummary:
    """Create (or reuse) the target schema and bulk-load ``data`` into it, atomically.

    Args:
        data: ``{table: DataFrame}`` following the frame contract, or an iterable of batches: each a
            :class:`~dbsynth.batch.Batch` or a ``(table, DataFrame)`` pair (rows), every batch of a parent before
            any batch of its children. A batch of kind :attr:`~dbsynth.batch.BatchKind.UPDATE` carries primary
            keys and deferred foreign-key values of rows sent before (cycles whose parent came later); they are
            set after every row is loaded.
        url: target database URL.
        metadata: the tables (types, keys, constraints) to create and load.
        mode: ``create`` (fail if a table exists), ``replace`` (drop and recreate the managed tables),
            ``truncate`` (keep the target schema, empty the managed tables) or ``append``.
        batch_size: rows per batch when ``data`` is a dict.
        source_url: the source database; writing into it is refused.
        allow_nonempty: allow ``create`` into a database that already holds other tables.
        lock_timeout: seconds a statement waits for a lock another session holds on a target table
            (PostgreSQL ``lock_timeout``, MariaDB ``lock_wait_timeout``/``innodb_lock_wait_timeout``, SQLite's
            busy timeout) before the load gives up, leaving the target unchanged.

    Returns:
        A :class:`WriteSummary`: rows, seconds and rows/s per table, checks done.

    Raises:
        UnsafeTargetError: the target is the source, or a table exists / the target is not empty in create mode.
        SchemaMismatchError: in truncate/append, the target schema differs from the metadata (all differences).
        WriteError: the load failed (table, column, constraint, batch named); the message says what happened
            to the target (left unchanged, except where it says otherwise).
    """
    from .core import write as write_target

    return write_target(data, url, metadata, mode, batch_size, source_url, allow_nonempty, lock_timeout)


def __getattr__(name: str) -> Any:
    if name in _FROM_CORE:
        from . import core

        return getattr(core, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
