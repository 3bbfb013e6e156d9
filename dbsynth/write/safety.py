"""Refuse dangerous targets: the source database itself, or a non-empty database in ``create`` mode."""

from __future__ import annotations

import sqlalchemy as sa

from ..db import same_database
from ..errors import UnsafeTargetError, mask_url

__all__ = ["refuse_source"]


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
