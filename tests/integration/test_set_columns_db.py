"""A MariaDB SET column cloned in synthesize and copy mode into MariaDB (a SET again), PostgreSQL and SQLite
(text as long as every member at once): every value written is a valid member combination in declaration
order, the longest ones included (issue 15: made-up labels and a cut to the longest member were refused).
A MariaDB YEAR column beside it gets valid years (modelled, clipped by repair)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from test_torture import _query

from dbsynth import cli

pytestmark = pytest.mark.db

MEMBERS = ["Trailers", "Commentaries", "Deleted Scenes", "Behind the Scenes"]
TAGS = ["a", "b", "c", "d", "e", "f", "g"]
_SET = "SET(" + ",".join(f"'{m}'" for m in MEMBERS) + ")"
_TAGS = "SET(" + ",".join(f"'{m}'" for m in TAGS) + ")"
# frequent combinations, one of them every member at once (longer than the longest member)
_FEATURES = ["", "Trailers", "Trailers,Commentaries", ",".join(MEMBERS), "Deleted Scenes",
             "Trailers,Behind the Scenes"]


@pytest.fixture
def set_source(mariadb_database) -> str:
    """A MariaDB table of two SET columns (few frequent combinations; many rare ones) and a YEAR."""
    url = mariadb_database()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE TABLE film (id INT PRIMARY KEY, features {_SET} NOT NULL, "
                                 f"tags {_TAGS} NULL, y YEAR NOT NULL)"))
            rows = []
            for i in range(1, 241):
                # tags: a member in or out by a pseudo-random bit per row, so most combinations are rare
                tags = None if i % 10 == 0 else ",".join(
                    t for j, t in enumerate(TAGS) if (i * 7 + j * 13) % (j + 3) == 0)
                year = 1901 if i == 1 else 0 if i == 2 else 1990 + i % 30
                rows.append({"id": i, "f": _FEATURES[i % 6], "t": tags, "y": year})
            conn.execute(sa.text("INSERT INTO film VALUES (:id, :f, :t, :y)"), rows)
    finally:
        engine.dispose()
    return url


def _target(dialect: str, pg_database, mariadb_database, sqlite_url) -> str:
    if dialect == "postgresql":
        return pg_database()
    if dialect == "mariadb":
        return mariadb_database()
    return sqlite_url(f"set_{uuid.uuid4().hex[:6]}")


def _run(tmp_path: Path, source: str, target: str, copy: bool = False) -> int:
    cfg: dict[str, Any] = {"source": {"url": source}, "target": {"url": target, "mode": "replace"},
                           "model": {"path": None}, "seed": 15}
    if copy:
        cfg["tables"] = {"film": {"mode": "copy"}}
    path = tmp_path / f"set-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return cli.run_cli(["--quiet", "run", "--config", str(path)])


def _values(url: str, column: str) -> list[str | None]:
    if url.startswith("mysql"):
        sql = f"SELECT CAST({column} AS CHAR) FROM film ORDER BY id"  # the members in declaration order
    else:
        sql = f"SELECT {column} FROM film ORDER BY id"
    return [r[0] for r in _query(url, sql)]


def _valid(value: str, members: list[str]) -> bool:
    if value == "":
        return True
    parts = value.split(",")
    return all(p in members for p in parts) and parts == sorted(set(parts), key=members.index)


@pytest.mark.parametrize("dialect", ["mariadb", "postgresql", "sqlite"])
def test_synthesized_set_values_are_valid_combinations(dialect, set_source, pg_database, mariadb_database,
                                                       sqlite_url, tmp_path):
    target = _target(dialect, pg_database, mariadb_database, sqlite_url)
    assert _run(tmp_path, set_source, target) == 0
    features, tags = _values(target, "features"), _values(target, "tags")
    assert len(features) == 240 and None not in features
    assert [v for v in features if not _valid(v, MEMBERS)] == []
    assert [v for v in tags if v is not None and not _valid(v, TAGS)] == []
    assert ",".join(MEMBERS) in features  # 54 characters: not cut to the longest member (17)
    assert set(features) <= set(_FEATURES)  # every combination is frequent: no other is made up
    assert any(v is None for v in tags) and len({v for v in tags if v}) > 3
    years = [r[0] for r in _query(target, "SELECT y FROM film")]
    assert all(int(y) == 0 or 1901 <= int(y) <= 2155 for y in years)
    if dialect == "mariadb":
        assert _query(target, "SELECT count(*) FROM film WHERE FIND_IN_SET('Commentaries', features) > 0")[0][0] > 0
        kind = _query(target, "SELECT column_type FROM information_schema.columns WHERE table_schema = DATABASE() "
                              "AND table_name = 'film' AND column_name = 'features'")[0][0]
        assert kind.lower().startswith("set(")
    if dialect == "postgresql":  # text as long as every member at once
        assert _query(target, "SELECT character_maximum_length FROM information_schema.columns WHERE "
                              "table_name = 'film' AND column_name = 'features'") == [(54,)]


@pytest.mark.parametrize("dialect", ["mariadb", "postgresql", "sqlite"])
def test_copied_set_values_are_the_source_values(dialect, set_source, pg_database, mariadb_database, sqlite_url,
                                                 tmp_path):
    target = _target(dialect, pg_database, mariadb_database, sqlite_url)
    assert _run(tmp_path, set_source, target, copy=True) == 0
    for column in ("features", "tags"):
        assert _values(target, column) == _values(set_source, column)
