"""Database URLs as users write them, turned into URLs SQLAlchemy understands.

A neutral module: the config (source and target URLs of a config file), the report (``--real``,
``--synthetic``) and the CLI all resolve URLs, and none of these stages may import another for it. It imports
nothing of dbsynth but the error root, so any stage can use it.

The ``builtin:chinook`` alias (and the ``{package}`` placeholder) name the Chinook SQLite file shipped inside the
package, and relative SQLite paths are taken relative to a base directory (the config file's), so a config runs
from any working directory.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError

__all__ = ["BUILTIN_DATABASES", "DEFAULT_URL", "PACKAGE_DIR", "resolve_url"]

#: The installed ``dbsynth`` package directory (what ``{package}`` in a URL stands for).
PACKAGE_DIR = Path(__file__).resolve().parent

#: Databases shipped with the package, reachable as ``builtin:<name>``.
BUILTIN_DATABASES = {"chinook": PACKAGE_DIR / "data" / "chinook.sqlite"}

#: URL used by ``dbsynth inspect`` when none is given: the embedded Chinook SQLite database.
DEFAULT_URL = "builtin:chinook"


def resolve_url(url: str, base_dir: str | Path | None = None) -> str:
    """Turn a user-written URL into one SQLAlchemy understands.

    ``builtin:<name>`` becomes the shipped SQLite file, ``{package}`` is replaced by the package
    directory, and a relative SQLite path (``sqlite:///./x.sqlite``) is made absolute against
    ``base_dir`` (the config file's directory). Other URLs are returned unchanged.

    Args:
        url: the URL as written.
        base_dir: directory relative SQLite paths are resolved against (default: the working directory).

    Returns:
        The URL to connect with.

    Raises:
        ConfigError: for an unknown ``builtin:`` name.
    """
    url = url.strip()
    if url.startswith("builtin:"):
        name = url.split(":", 1)[1]
        path = BUILTIN_DATABASES.get(name)
        if path is None:
            known = ", ".join(f"builtin:{n}" for n in sorted(BUILTIN_DATABASES))
            raise ConfigError(f"unknown built-in database {url!r} (known: {known})")
        return f"sqlite:///{path}"
    url = url.replace("{package}", str(PACKAGE_DIR))
    prefix = "sqlite:///"
    if url.startswith(prefix) or url.startswith("sqlite+pysqlite:///"):
        head, _, rest = url.partition(":///")
        path_part, sep, query = rest.partition("?")
        if path_part and path_part != ":memory:" and not Path(path_part).is_absolute():
            base = Path(base_dir) if base_dir is not None else Path.cwd()
            path_part = str((base / path_part).resolve())
        return f"{head}:///{path_part}{sep}{query}"
    return url
