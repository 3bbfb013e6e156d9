"""Synthesize mode writes real values of the types the model does not learn (issue 15, "Types"): every such
column of the torture tables has non-NULL values of the right type in the target where the source had them,
checked by the target itself (PostgreSQL casts, MariaDB ST_ and JSON functions, SQLite typeof).

Two kinds of run:

* the ``dbsynth run`` of every type table of each torture database;
* an API run of the odd columns alone of every torture table holding them (their keys and the columns whose
  values dbsynth.model.typed generates; no CHECK constraints), so that composite, geometric and interval
  columns are checked apart from the rest of their tables.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from test_torture import _scalar

import dbsynth
from dbsynth import cli
from dbsynth.model.columns import generator_for
from dbsynth.model.typed import ValueGenerator
from dbsynth.read import read_tables
from dbsynth.synthesizers import HMASynthesizer

pytestmark = pytest.mark.db


# ---- runs of the torture databases (conftest.py) --------------------------------------------------------------
def _run(tmp_path: Path, source: str, target: str, include: list[str], schema: str | None = None,
         tables: dict | None = None) -> int:
    src: dict[str, Any] = {"url": source, "include": include}
    if schema:
        src["schema"] = schema
    cfg = {"source": src, "target": {"url": target, "mode": "replace"}, "model": {"path": None}, "seed": 15}
    if tables:
        cfg["tables"] = tables
    path = tmp_path / f"types-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return cli.run_cli(["--quiet", "run", "--config", str(path)])


def _filled(source: str, target: str, table: str, checks: dict[str, str]) -> dict[str, tuple[int, int]]:
    """``{column: (source non-NULL rows, target rows that are non-NULL and pass the check)}`` where they differ
    in kind: the target must have values wherever the source had some (counts need not match: NULL shares)."""
    bad = {}
    for col, check in checks.items():
        had = _scalar(source, f"SELECT count(*) FROM {table} WHERE {col} IS NOT NULL")
        good = _scalar(target, f"SELECT count(*) FROM {table} WHERE {col} IS NOT NULL AND ({check.format(c=col)})")
        rows = _scalar(target, f"SELECT count(*) FROM {table}")
        nulls = _scalar(target, f"SELECT count(*) FROM {table} WHERE {col} IS NULL")
        if had and (good == 0 or good + nulls != rows):
            bad[col] = (had, good)
    return bad


# ---- what each column must be in the target -----------------------------------------------------------------
PG_CHECKS: dict[str, dict[str, str]] = {
    "t_numeric": {"amount": "{c}::text::money IS NOT NULL"},
    "t_time": {"iv": "{c}::text::interval IS NOT NULL", "iv_nn": "{c}::text::interval >= interval '0'"},
    "t_misc": {
        "ip": "family({c}::text::inet) IN (4, 6)", "net": "masklen({c}::text::cidr) = 24",
        "mac": "{c}::text::macaddr IS NOT NULL", "b8": "length({c}::text::bit(8)) = 8",
        "vb": "length({c}::text::varbit) <= 16",
        "r4": "isempty({c}::text::int4range) OR lower({c}::text::int4range) <= upper({c}::text::int4range)",
        "rtz": "lower({c}::text::tstzrange) <= upper({c}::text::tstzrange)",
        "rd": "upper_inf({c}::text::daterange) OR lower({c}::text::daterange) <= upper({c}::text::daterange)",
        "ai": "array_length({c}::text::int[], 1) >= 0 OR cardinality({c}::text::int[]) = 0",
        "at": "cardinality({c}::text::text[]) >= 0",
        "j": "json_typeof({c}::text::json) = 'object' AND ({c}::text::json ->> 'id') IS NOT NULL",
        "jb": "jsonb_typeof({c}::text::jsonb) = 'object' AND {c}::text::jsonb ? 'k'",
        "x": "xml_is_well_formed_document({c}::text)",
        "raw": "length({c}::text::bytea) > 0",
        "tsv": "length({c}::text::tsvector) > 0",
    },
    "t_custom": {
        "home": "({c}::text::address).city IS NOT NULL OR ({c}::text::address).city IS NULL",
        "pt": "{c}::text::point <@ box(point(0, -40), point(80, 0))",
        "ci": "radius({c}::text::circle) >= 0",
        "pg": "npoints({c}::text::polygon) >= 3",
    },
}
MARIADB_CHECKS: dict[str, dict[str, str]] = {
    "t_numeric": {"b1": "{c} + 0 IN (0, 1)", "b8": "{c} + 0 BETWEEN 0 AND 255"},
    "t_misc": {
        "tb": "length({c}) > 0", "bl": "length({c}) > 0", "lb": "length({c}) > 0", "bin16": "length({c}) = 16",
        "vb": "length({c}) BETWEEN 1 AND 64", "doc": "JSON_VALID({c}) AND JSON_EXTRACT({c}, '$.id') IS NOT NULL",
        "shape": "ST_GeometryType({c}) IN ('POINT', 'LINESTRING', 'POLYGON')",
        "location": "ST_GeometryType({c}) = 'POINT' AND ST_X({c}) BETWEEN 0 AND 101",
    },
}
SQLITE_CHECKS: dict[str, dict[str, str]] = {
    "t_affinity": {"b": "typeof({c}) = 'blob' AND length({c}) > 0"},
}


# ---- dbsynth run ---------------------------------------------------------------------------------------------
def _with_address_type(url: str) -> None:
    """The composite type t_custom.home casts to (a clone without native types writes the column as text)."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TYPE address AS (street text, city text, zip character(5))"))
    finally:
        engine.dispose()


def test_pg_run_writes_values_of_every_odd_type(pg_torture, pg_database, tmp_path):
    target = pg_database()
    _with_address_type(target)
    tables = ["t_misc", "t_time", "t_custom"]
    assert _run(tmp_path, pg_torture, target, tables, schema="public") == 0
    for table in tables:
        assert _filled(pg_torture, target, table, PG_CHECKS[table]) == {}, table
    # character(5) zip codes inside the composite keep their zero-padded digits
    assert _scalar(target, "SELECT count(*) FROM t_custom WHERE (home::text::address).zip !~ '^[0-9]+ *$'") == 0


def test_mariadb_run_writes_blobs_bits_json_and_geometry(mariadb_torture, mariadb_database, tmp_path):
    target = mariadb_database()
    assert _run(tmp_path, mariadb_torture, target, ["t_misc", "t_numeric"]) == 0
    for table, checks in MARIADB_CHECKS.items():
        assert _filled(mariadb_torture, target, table, checks) == {}, table
    # a NOT NULL POINT column with a SPATIAL index: real points, never ''
    assert _scalar(target, "SELECT count(*) FROM t_misc WHERE ST_IsEmpty(location) = 0") == \
        _scalar(target, "SELECT count(*) FROM t_misc")


def test_sqlite_run_writes_blobs(sqlite_torture, sqlite_url, tmp_path):
    target = sqlite_url("types")
    assert _run(tmp_path, sqlite_torture, target, ["t_affinity", "t_text"]) == 0
    assert _filled(sqlite_torture, target, "t_affinity", SQLITE_CHECKS["t_affinity"]) == {}
    assert _scalar(target, "SELECT count(*) FROM t_affinity WHERE anything IS NOT NULL") > 0


def test_pg_run_of_every_type_table(pg_torture, pg_database, tmp_path):
    target = pg_database()
    _with_address_type(target)
    assert _run(tmp_path, pg_torture, target, list(PG_CHECKS), schema="public") == 0
    for table, checks in PG_CHECKS.items():
        assert _filled(pg_torture, target, table, checks) == {}, table


def test_mariadb_run_of_every_type_table(mariadb_torture, mariadb_database, tmp_path):
    target = mariadb_database()
    assert _run(tmp_path, mariadb_torture, target, ["t_numeric", "t_text", "t_time", "t_misc"]) == 0
    assert _scalar(target, "SELECT count(*) FROM t_text WHERE FIND_IN_SET('Commentaries', features) > 0") > 0


# ---- the odd columns alone, every table ----------------------------------------------------------------------
def _odd_columns_only(md) -> None:
    """Keep each table's primary key and the columns dbsynth.model.typed generates; no constraints besides."""
    for table in md:
        keep = set(table.primary_key) | {c.name for c in table.columns
                                         if isinstance(generator_for(c, table), ValueGenerator)}
        table.columns = [c for c in table.columns if c.name in keep]
        table.check_constraints = []
        table.unique_constraints = [u for u in table.unique_constraints if set(u.columns) <= keep]
        for attr, empty in (("indexes", []), ("native_ddl", None)):
            if hasattr(table, attr):
                setattr(table, attr, empty)


def test_pg_odd_columns_of_every_type_table(pg_torture, pg_database):
    md = dbsynth.reflect(pg_torture, schema="public", include=list(PG_CHECKS))
    _odd_columns_only(md)
    frames = read_tables(pg_torture, md)
    synth = HMASynthesizer(md, verbose=False, seed=15).fit(frames)
    target = pg_database()
    _with_address_type(target)  # the clone's DDL is not tested here
    dbsynth.write(synth.sample(), target, md, mode="create", allow_nonempty=True)
    for table, checks in PG_CHECKS.items():
        assert _filled(pg_torture, target, table, checks) == {}, table
