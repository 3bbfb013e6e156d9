"""One error root for dbsynth, with context that names the thing at fault.

Every error dbsynth raises on purpose is a :class:`DbsynthError`. Its message is one line that names the
table, column or constraint concerned and says what to do; it never carries row values (the source is
production data) nor passwords (URLs are masked with :func:`mask_url` before they reach a message).

The CLI maps errors to exit codes through :attr:`DbsynthError.exit_code`: 2 for bad input (a wrong URL, a
bad config key, a metadata or model file that does not fit), 1 for a run that failed on the way (the target
is left as it was).
"""

from __future__ import annotations

import re
from typing import Iterable

__all__ = [
    "DbsynthError",
    "BadInputError",
    "ConfigError",
    "ConnectError",
    "MetadataError",
    "ReflectionError",
    "CycleError",
    "UnsupportedError",
    "NotFittedError",
    "ModelFileError",
    "SchemaMismatchError",
    "UnsafeTargetError",
    "WriteError",
    "MemoryBudgetError",
    "QualityError",
    "mask_url",
]

_PASSWORD_IN_URL = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<tail>@)")


def mask_url(url: object) -> str:
    """Return ``url`` as text with its password replaced by ``***``.

    Works on plain strings and on SQLAlchemy ``URL`` objects, and on any text that embeds URLs
    (such as a driver's error message).
    """
    try:  # SQLAlchemy URL objects know how to hide their password
        from sqlalchemy.engine import URL

        if isinstance(url, URL):
            return url.render_as_string(hide_password=True)
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        pass
    return _PASSWORD_IN_URL.sub(r"\g<head>***\g<tail>", str(url))


class DbsynthError(Exception):
    """Root of every error dbsynth raises on purpose.

    Args:
        message: what went wrong, in one sentence, without row values or passwords.
        table: the table concerned, if any.
        column: the column concerned, if any.
        constraint: the constraint concerned (a foreign key, unique or CHECK constraint), if any.
        hint: what the user can do about it.
    """

    #: Exit code of the CLI for this error: 2 means bad input, 1 a failed run.
    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        column: str | None = None,
        constraint: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = mask_url(message)
        self.table = table
        self.column = column
        self.constraint = constraint
        self.hint = hint
        super().__init__(str(self))

    def context(self) -> str:
        """The ``table 't', column 'c'`` prefix of the message (empty without context)."""
        parts = []
        if self.table:
            parts.append(f"table '{self.table}'")
        if self.column:
            parts.append(f"column '{self.column}'")
        if self.constraint:
            parts.append(f"constraint '{self.constraint}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        ctx = self.context()
        text = f"{ctx}: {self.message}" if ctx else self.message
        if self.hint:
            text = f"{text.rstrip('.')}. {self.hint}"
        return " ".join(text.split("\n"))


class BadInputError(DbsynthError):
    """The user's input is wrong (exit code 2): config, URL, metadata, model file."""

    exit_code = 2


class ConfigError(BadInputError):
    """A config file or value is wrong: names the file and the key path."""


class ConnectError(BadInputError):
    """A database cannot be reached with the URL given (the URL is shown masked)."""


class MetadataError(BadInputError):
    """Metadata is malformed or inconsistent.

    Args:
        problems: every problem found, each a short sentence naming the table/column; they are all
            reported at once so that a user fixes them in one go.
    """

    def __init__(self, message: str, problems: Iterable[str] = (), **context) -> None:
        self.problems = list(problems)
        if self.problems:
            message = f"{message.rstrip('.:')}: " + "; ".join(self.problems)
        super().__init__(message, **context)


class ReflectionError(BadInputError):
    """The source database cannot be described (no tables, unknown table in include/exclude...)."""


class CycleError(BadInputError):
    """A foreign-key cycle has no nullable foreign key at which it could be broken."""


class UnsupportedError(BadInputError):
    """A type, option or schema shape dbsynth does not handle."""


class NotFittedError(DbsynthError):
    """A synthesizer was asked to sample (or describe what it learned) before ``fit``."""


class ModelFileError(BadInputError):
    """A model file is corrupted, foreign, or from a newer format version."""


class SchemaMismatchError(BadInputError):
    """Data, a model or a target database does not match the metadata (lists the differences)."""


class UnsafeTargetError(BadInputError):
    """The target is the source database, or a non-empty target would be overwritten without consent."""


class WriteError(DbsynthError):
    """Loading the target failed; the target was rolled back (names table, constraint, batch)."""


class MemoryBudgetError(BadInputError):
    """The memory budget is too small for the work asked (e.g. less than one batch)."""


class QualityError(DbsynthError):
    """The synthetic data scores under a quality threshold (``--fail-under``, ``report.fail_under``).

    Exit code 1: the job failed its gate, although the data (and the report) were written.
    """
