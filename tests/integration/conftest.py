"""Fixtures of the integration tests that share databases: the torture databases (issue 15), built once per
session from tests/data/torture/ and read-only for the tests, and empty targets of each dialect."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TORTURE = Path(__file__).resolve().parents[1] / "data" / "torture"


# ---- the torture databases ---------------------------------------------------------------------
def _name() -> str:
    return f"dbsynth_torture_{uuid.uuid4().hex[:10]}"


def _load(dialect: str, target: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(["bash", str(TORTURE / "load.sh"), dialect, target], env=env, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"building the {dialect} torture database failed:\n{proc.stderr[-2000:]}")


@pytest.fixture(scope="session")
def pg_torture(postgres_server) -> Iterator[str]:
    """URL of the PostgreSQL torture database (built once per session; read-only for tests)."""
    name = _name()
    _load("postgres", name, postgres_server.env())
    yield postgres_server.url(name)
    postgres_server.drop(name)


@pytest.fixture(scope="session")
def mariadb_torture(mariadb_server) -> Iterator[str]:
    """URL of the MariaDB torture database; its cross-database FK points into ``<name>_ext``."""
    name = _name()
    _load("mariadb", name, mariadb_server.env())
    yield mariadb_server.url(name)
    mariadb_server.drop(name)
    mariadb_server.drop(f"{name}_ext")


@pytest.fixture(scope="session")
def sqlite_torture(tmp_path_factory) -> str:
    """URL of the SQLite torture database."""
    path = tmp_path_factory.mktemp("torture") / "torture.sqlite"
    _load("sqlite", str(path))
    return f"sqlite:///{path}"


@pytest.fixture
def torture(request) -> Callable[[str], str]:
    """``torture('postgresql'|'mariadb'|'sqlite')``: the URL of that dialect's torture database."""
    names = {"postgresql": "pg_torture", "mariadb": "mariadb_torture", "sqlite": "sqlite_torture"}
    return lambda dialect: request.getfixturevalue(names[dialect])


@pytest.fixture
def empty_target(request, sqlite_url) -> Callable[[str], str]:
    """``empty_target(dialect)``: URL of a fresh, empty database of that dialect (dropped afterwards)."""
    def make(dialect: str) -> str:
        if dialect == "postgresql":
            return request.getfixturevalue("pg_database")()
        if dialect == "mariadb":
            return request.getfixturevalue("mariadb_database")()
        return sqlite_url(f"target_{uuid.uuid4().hex[:6]}")
    return make
