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
from collections.abc import Iterable

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
    "mask_secrets",
    "url_secrets",
]

#: Query-string (or ``key=value`` DSN) keys whose value is a secret or a private path: the password itself,
#: libpq's ``sslpassword``/``passfile``/client key and certificate paths, and any key naming a password,
#: secret or token (``aws_secret_access_key``, ``access_token``, ``PWD`` of ODBC strings...).
_SECRET_KEY = (
    r"[\w.-]*(?:password|passwd|secret|token)[\w.-]*|pwd|sslkey|sslcert|sslrootcert|sslcrl|sslcrldir|passfile|odbc_connect"
)
# The value runs to the next '&' or blank. A value already masked keeps what follows it (the quote and colon
# of "cannot connect to '...?password=***': ..." when a masked URL is embedded in a message and masked again).
_SECRET_PARAM = re.compile(
    rf"(?i)(?<![\w.%-])(?P<key>{_SECRET_KEY})(?P<eq>\s*=\s*)"
    r"(?P<value>\*\*\*(?=['\"]?[:,;.)\]]*(?:[&\s]|$))|'[^']*'|\"[^\"]*\"|[^&\s]*)"
)
# user:password@ in a URL. The password runs to the LAST '@' of the token, not the first: a raw '@' (or ':',
# '/') inside a password is what SQLAlchemy's own parser gets wrong (it takes 'Pw!x@127.0.0.1' for the host of
# postgresql://u:S3c@Pw!x@127.0.0.1/db), and showing too little of a URL is better than showing a secret.
# A scheme starts where a word starts: without the look-behind every letter of a long word is tried as the
# start of a scheme, which makes masking a 1 MB message quadratic.
_SCHEME = r"(?<![\w+.-])[a-zA-Z][\w+.-]*://"
_USERINFO_IN_TEXT = re.compile(rf"(?P<head>{_SCHEME}[^:/@\s]*:)(?P<pw>\S*)(?P<tail>@)")
# A whole string that is one URL may hold a password with spaces: there the token is the whole line.
_USERINFO_WHOLE = re.compile(rf"^(?P<head>\s*{_SCHEME}[^:/@\s]*:)(?P<pw>[^\n]*)(?P<tail>@)")
_MASK = "***"


def mask_url(url: object) -> str:
    """Return ``url`` as text with every secret it carries replaced by ``***``.

    Masked: the password of the user info (also when it holds a raw ``@``, ``:`` or ``/``), and the value of
    every query parameter that is a secret or a private path (``password``, ``sslpassword``, ``sslkey``,
    ``sslcert``, ``sslrootcert``, ``passfile`` and any key containing ``password``, ``secret`` or ``token``).
    Works on plain strings and on SQLAlchemy ``URL`` objects, and on any text that embeds URLs or libpq
    ``key=value`` strings (such as a driver's error message).

    Args:
        url: a URL (text or ``sqlalchemy.URL``), or any text or object (``str()`` is taken).

    Returns:
        The masked text.
    """
    try:  # SQLAlchemy URL objects hide their user-info password; the query still needs the text pass below
        from sqlalchemy.engine import URL

        if isinstance(url, URL):
            url = url.render_as_string(hide_password=True)
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        pass
    text = str(url)
    # Query parameters first: a raw '@' inside ?password=... must not look like the end of the user info.
    text = _SECRET_PARAM.sub(lambda m: f"{m['key']}{m['eq']}{_MASK}", text)
    whole = _USERINFO_WHOLE if "\n" not in text.strip() and _USERINFO_WHOLE.match(text) else _USERINFO_IN_TEXT
    return whole.sub(lambda m: f"{m['head']}{_MASK}{m['tail']}", text)


def url_secrets(url: object) -> list[str]:
    """The secret values ``url`` carries (password, secret query values), longest first.

    For :func:`mask_secrets`: a driver may quote a secret without its URL (libpq names the ``sslkey`` file it
    cannot read), which :func:`mask_url` cannot recognise in the text.

    Args:
        url: a URL (text or ``sqlalchemy.URL``); anything that does not parse gives no secrets.
    """
    found: list[str] = []
    try:
        import sqlalchemy as sa

        parsed = url if isinstance(url, sa.URL) else sa.make_url(str(url).strip())
    except Exception:
        return found
    if parsed.password:
        found.append(str(parsed.password))
    key = re.compile(rf"(?i)^(?:{_SECRET_KEY})$")
    for name, value in parsed.query.items():
        if key.match(name):
            found.extend(str(v) for v in (value if isinstance(value, tuple) else (value,)))
    # the part of an '@'-holding password SQLAlchemy put into the host
    if parsed.host and "@" in parsed.host:
        found.append(parsed.host.rsplit("@", 1)[0])
    return sorted({s for s in found if s}, key=len, reverse=True)


def mask_secrets(text: object, url: object) -> str:
    """:func:`mask_url` of ``text``, with every secret value of ``url`` also replaced wherever it appears.

    Args:
        text: a message, typically a driver's error about ``url``.
        url: the URL the message is about.

    Returns:
        The masked text.
    """
    out = mask_url(text)
    for secret in url_secrets(url):
        if len(secret) >= 3:  # a one- or two-character secret would blank out unrelated text
            out = out.replace(secret, _MASK)
    return out


_SHOW_VALUES = False


def show_values(enabled: bool | None = None) -> bool:
    """The process-wide "show values" switch (off by default; the CLI's ``--show-values`` turns it on).

    While it is off, no error message carries a value from the data (drivers quote them: it is production
    data). Turned on, error messages of failed loads add the driver's own text, values included, for
    debugging.

    Args:
        enabled: ``True``/``False`` to set the switch; ``None`` only reads it.

    Returns:
        Whether values may be shown (after the change, if any).
    """
    global _SHOW_VALUES
    if enabled is not None:
        _SHOW_VALUES = bool(enabled)
    return _SHOW_VALUES


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
        self.hint = mask_url(hint) if hint else hint
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
    """A foreign-key cycle cannot be broken (a NOT NULL self-reference: no row could be inserted first)."""


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
