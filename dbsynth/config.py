"""Run configuration: YAML -> validated :class:`Config` (pydantic), with ``${VAR}`` interpolation.

Also home of URL resolution shared by the config and the CLI: the ``builtin:chinook`` alias (and the
``{package}`` placeholder) name the Chinook SQLite file shipped inside the package, and relative SQLite
paths are taken relative to the config file's directory so a config runs from any working directory.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError

__all__ = ["BUILTIN_DATABASES", "DEFAULT_URL", "resolve_url"]

_PACKAGE_DIR = Path(__file__).resolve().parent

#: Databases shipped with the package, reachable as ``builtin:<name>``.
BUILTIN_DATABASES = {"chinook": _PACKAGE_DIR / "data" / "chinook.sqlite"}

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
    url = url.replace("{package}", str(_PACKAGE_DIR))
    prefix = "sqlite:///"
    if url.startswith(prefix) or url.startswith("sqlite+pysqlite:///"):
        head, _, rest = url.partition(":///")
        path_part, sep, query = rest.partition("?")
        if path_part and path_part != ":memory:" and not Path(path_part).is_absolute():
            base = Path(base_dir) if base_dir is not None else Path.cwd()
            path_part = str((base / path_part).resolve())
        return f"{head}:///{path_part}{sep}{query}"
    return url
