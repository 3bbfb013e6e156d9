"""Refuse dangerous targets: the source database itself, or a non-empty database in ``create`` mode."""

from __future__ import annotations

import sqlalchemy as sa

from ..errors import UnsafeTargetError, mask_url

__all__ = ["same_database", "refuse_source"]


def same_database(a: str | sa.URL, b: str | sa.URL) -> bool:
    """True when two URLs name the same database (dbsynth.db's check when present, else a local one)."""
    try:
        from ..db import same_database as shared
    except ImportError:  # dbsynth.db not there yet: same backend, host, port and database name
        ua, ub = sa.make_url(a), sa.make_url(b)
        if ua.get_backend_name() != ub.get_backend_name():
            return False
        if ua.get_backend_name() == "sqlite":
            from pathlib import Path

            if not ua.database or not ub.database or ":memory:" in (ua.database, ub.database):
                return False
            return Path(ua.database).resolve() == Path(ub.database).resolve()
        local = {"localhost", "127.0.0.1", "::1", None, ""}
        ha = "localhost" if ua.host in local else ua.host
        hb = "localhost" if ub.host in local else ub.host
        return (ha, ua.port, ua.database) == (hb, ub.port, ub.database)
    return shared(a, b)


def refuse_source(url: str | sa.URL, source_url: str | sa.URL | None) -> None:
    """Raise :class:`UnsafeTargetError` when ``url`` is the source database.

    Raises:
        UnsafeTargetError: naming the (masked) target.
    """
    if source_url is not None and same_database(url, source_url):
        raise UnsafeTargetError(
            f"the target {mask_url(url)} is the source database; refusing to write into it",
            hint="Point the target at another database.",
        )
