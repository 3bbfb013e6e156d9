"""pytest plugin: synthetic databases as fixtures (registered through the ``pytest11`` entry point).

A test suite points the plugin at a saved model file or a config, and gets a database filled with synthetic
rows once per session::

    # pytest --dbsynth-model=shop.model.zip          (or --dbsynth-config=dbsynth.yaml / DBSYNTH_CONFIG)
    def test_orders_have_customers(dbsynth_connection):
        n = dbsynth_connection.execute(sa.text("SELECT count(*) FROM orders")).scalar_one()
        assert n > 0

    @pytest.mark.dbsynth(scale=0.1, tables=["customers", "orders"])
    def test_small(dbsynth_connection): ...

Options (each also read from the environment):

* ``--dbsynth-config`` / ``DBSYNTH_CONFIG``: a YAML config (its source is read, its target ignored);
* ``--dbsynth-model`` / ``DBSYNTH_MODEL``: a saved model file (no source access needed);
* ``--dbsynth-url`` / ``DBSYNTH_URL``: where to build the database. Default: a throwaway SQLite file;
  ``testcontainers`` starts a throwaway PostgreSQL where a Docker engine answers.

Fixtures: ``dbsynth_database`` (session: the URL of the built database), ``dbsynth_connection`` (per test: a
SQLAlchemy connection inside a transaction rolled back afterwards, so tests do not see each other's writes).
A test marked ``@pytest.mark.dbsynth(scale=..., tables=[...])`` gets its own database built for it. Rows are
deterministic: the seed is derived from the test id (a stable hash), the session's from the config's seed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["SyntheticDatabase", "build_database", "stable_seed"]

_MARKER = (
    "dbsynth(scale=1.0, tables=None): build this test's synthetic database at this scale, "
    "with only these tables (and their parents)"
)


def stable_seed(text: str) -> int:
    """A seed from ``text`` (a test id) that is the same in every process and on every machine."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


@dataclass
class SyntheticDatabase:
    """A database the plugin built."""

    url: str = field(repr=False)
    """SQLAlchemy URL of the database (password included, so that tests can connect; kept out of the repr,
    which pytest prints in failure reports)."""
    tables: dict[str, int] = field(default_factory=dict)
    """Rows written per table."""
    seed: int | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dbsynth", "synthetic databases (dbsynth)")
    group.addoption(
        "--dbsynth-config", default=None, help="dbsynth YAML config to build the database from (DBSYNTH_CONFIG)."
    )
    group.addoption("--dbsynth-model", default=None, help="saved dbsynth model file to sample from (DBSYNTH_MODEL).")
    group.addoption(
        "--dbsynth-url",
        default=None,
        help="database URL to build into (DBSYNTH_URL); default a throwaway SQLite file, or 'testcontainers'.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER)


def _option(config: pytest.Config, name: str, env: str) -> str | None:
    return config.getoption(name) or os.environ.get(env) or None


def _ancestors_and(metadata, tables: list[str]) -> list[str]:
    """``tables`` plus every table they refer to, directly or not (so their foreign keys stay valid)."""
    import networkx as nx

    graph = metadata.graph()
    keep = set()
    for t in tables:
        metadata.table(t)  # raises MetadataError naming an unknown table
        keep |= {t, *nx.ancestors(graph.full, t)}
    return [t for t in metadata.tables if t in keep]


def build_database(
    url: str,
    *,
    config: str | Path | None = None,
    model: str | Path | None = None,
    scale: float | None = None,
    tables: list[str] | None = None,
    seed: int | None = None,
) -> SyntheticDatabase:
    """Fill ``url`` with synthetic rows from a saved model file or a config (tables replaced).

    Args:
        url: target database URL.
        config: a dbsynth YAML config (used when no ``model`` is given); its target is replaced by ``url``.
        model: a saved model file.
        scale: size relative to the source (default: the config's, or 1).
        tables: only these tables and the tables they refer to.
        seed: seed of the sampler (default: the config's).

    Returns:
        The :class:`SyntheticDatabase`.

    Raises:
        ConfigError: neither ``config`` nor ``model`` is given.
    """
    from .errors import ConfigError

    if model is not None:
        from .synthesizers import load_synthesizer
        from .write import write

        synth = load_synthesizer(model)
        if seed is not None and hasattr(synth, "seed"):
            synth.seed = seed
        metadata = synth.get_metadata()
        frames = synth.sample(scale=scale or 1.0)
        if tables:
            metadata = metadata.subset(_ancestors_and(metadata, tables))
            frames = {t: f for t, f in frames.items() if t in metadata.tables}
        summary = write(frames, url, metadata, mode="replace")
        return SyntheticDatabase(url, {n: t.rows for n, t in summary.tables.items()}, seed)
    if config is None:
        raise ConfigError("the dbsynth fixtures need --dbsynth-model or --dbsynth-config (or DBSYNTH_CONFIG)")
    from .config import TableConfig, TargetConfig, load_config
    from .pipeline import run

    cfg = load_config(config)
    cfg.target = TargetConfig(url=url, mode="replace")
    cfg.report = None
    if scale is not None:
        cfg.scale = scale
    if seed is not None:
        cfg.seed = seed
    if tables:
        # Other tables are skipped; the model then differs from a saved one, so fit in memory.
        from .reflect import reflect

        src = cfg.source
        source = reflect(src.url, schema=src.db_schema, include=src.include, exclude=src.exclude)
        keep = set(_ancestors_and(source, tables))
        for name in source.tables:
            if name not in keep:
                cfg.tables[name] = TableConfig(mode="skip")
            elif name in cfg.tables and cfg.tables[name].rows is not None:
                cfg.tables[name].rows = None  # the subset may have other roots; scale applies
        cfg.model.path = None
    report = run(cfg)
    return SyntheticDatabase(url, dict(report.tables), cfg.seed)


def _target_url(request: pytest.FixtureRequest, name: str) -> Iterator[str]:
    """The URL to build into: the option's, a testcontainers PostgreSQL, or a throwaway SQLite file."""
    url = _option(request.config, "--dbsynth-url", "DBSYNTH_URL")
    if url == "testcontainers":
        try:
            from testcontainers.postgres import PostgresContainer
        except ImportError:
            pytest.skip("--dbsynth-url=testcontainers needs the testcontainers package")
        try:
            container = PostgresContainer("postgres:16-alpine", driver="psycopg")
            container.start()
        except Exception as exc:  # no Docker engine answers
            pytest.skip(f"--dbsynth-url=testcontainers: cannot start PostgreSQL ({type(exc).__name__})")
        try:
            yield container.get_connection_url()
        finally:
            container.stop()
        return
    if url:
        yield url
        return
    tmp = request.getfixturevalue("tmp_path_factory").mktemp("dbsynth")
    yield f"sqlite:///{tmp / name}.sqlite"


def _build(request: pytest.FixtureRequest, url: str, **kwargs: Any) -> SyntheticDatabase:
    cfg = request.config
    return build_database(
        url,
        config=_option(cfg, "--dbsynth-config", "DBSYNTH_CONFIG"),
        model=_option(cfg, "--dbsynth-model", "DBSYNTH_MODEL"),
        **kwargs,
    )


@pytest.fixture(scope="session")
def dbsynth_database(request: pytest.FixtureRequest) -> Iterator[SyntheticDatabase]:
    """The session's synthetic database, built once from ``--dbsynth-model`` or ``--dbsynth-config``."""
    for url in _target_url(request, "session"):
        yield _build(request, url)


@pytest.fixture
def dbsynth_connection(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A SQLAlchemy connection to the synthetic database, in a transaction rolled back after the test.

    A test marked ``@pytest.mark.dbsynth(scale=..., tables=[...])`` gets a database built for it, seeded
    from its test id.
    """
    import sqlalchemy as sa

    marker = request.node.get_closest_marker("dbsynth")
    if marker is None:
        url = request.getfixturevalue("dbsynth_database").url
        yield from _connect(sa, url)
        return
    kwargs = {"scale": marker.kwargs.get("scale"), "tables": marker.kwargs.get("tables")}
    own = f"t{stable_seed(request.node.nodeid)}"
    for url in _target_url(request, own):
        _build(request, url, seed=stable_seed(request.node.nodeid), **kwargs)
        yield from _connect(sa, url)


def _connect(sa, url: str) -> Iterator[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            try:
                yield conn
            finally:
                trans.rollback()
    finally:
        engine.dispose()
