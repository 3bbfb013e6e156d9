"""Refuse dangerous targets: the source database itself, or a non-empty database in ``create`` mode.

"The same database" is decided by what the servers say once connected (:class:`~dbsynth.db.DatabaseIdentity`),
never by the URL text alone: another host name for the same address, a ``?dbname=``/``?host=`` parameter that
libpq prefers over the URL's own parts, a URL without a database name, or a hard link to a SQLite file all
reach the source under another spelling. The check only reads (SELECTs); it runs before the writer sends
anything to the target.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..db import DatabaseIdentity, identity_of, same_database
from ..errors import ConnectError, UnsafeTargetError, mask_url
from ..metadata.records import Metadata

__all__ = ["refuse_source"]

_HINT = "Point the target at another database: dbsynth never writes into the database it reads from."


def refuse_source(
    url: str | sa.URL,
    source_url: str | sa.URL | None = None,
    metadata: Metadata | None = None,
    *,
    hint: str = _HINT,
    unreachable_ok: bool = False,
) -> None:
    """Raise :class:`UnsafeTargetError` when ``url`` is the source database.

    The source is ``source_url`` and/or the database ``metadata`` was reflected from
    (:attr:`Metadata.source_identity`; metadata without one, e.g. loaded from an older file, skips that part).
    A quick URL comparison comes first; then both sides are connected to and their identities compared.

    Args:
        url: the target database URL.
        source_url: the source database URL, if known.
        metadata: the metadata to write, if it carries the identity of its source.
        hint: what to tell the user to do (the CLI names its config key).
        unreachable_ok: skip the identity comparison when a server cannot be reached (an early check whose
            caller connects again later and reports the failure there) instead of raising ConnectError.

    Raises:
        UnsafeTargetError: naming the (masked) target and how it was found to be the source.
        ConnectError: a database cannot be reached to tell (unless ``unreachable_ok``).
    """
    known = metadata.source_identity if metadata is not None else None
    if source_url is None and known is None:
        return
    if source_url is not None and same_database(url, source_url):
        raise UnsafeTargetError(f"the target {mask_url(url)} is the source database; refusing to write into it",
                                hint=hint)
    try:
        target = identity_of(url)
        if target is None:
            return  # a SQLite file that does not exist yet, or an in-memory database: not the source
        sources: list[DatabaseIdentity] = [known] if known is not None else []
        if source_url is not None:
            found = identity_of(source_url)
            if found is not None:
                sources.append(found)
    except ConnectError:
        if unreachable_ok:
            return
        raise
    for source in sources:
        if target.same_as(source):
            raise UnsafeTargetError(
                f"the target {mask_url(url)} is the source database ({source.describe()}, as the server reports "
                "it once connected); refusing to write into it",
                hint=hint,
            )
