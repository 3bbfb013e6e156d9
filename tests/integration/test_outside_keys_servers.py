"""Foreign keys to tables outside the cloned set, on servers (issue 15): a TINYINT key column of 300 rows whose
parent is excluded (it was generated as 300 keys, which do not fit 8 bits), and a PostgreSQL foreign key to
another schema in a one-schema run (it was dropped without a word)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

import dbsynth.cli as cli

pytestmark = pytest.mark.db
pytest.importorskip("dbsynth.synthesizers")


def _run(tmp_path: Path, source: str, target: str, **source_keys) -> list[str]:
    data = {"source": {"url": source, **source_keys}, "target": {"url": target, "mode": "replace"},
            "model": {"path": None}, "seed": 1, "report": {"json": str(tmp_path / "run.json")}}
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(data))
    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    return [w for w in json.loads((tmp_path / "run.json").read_text())["warnings"] if "not cloned" in w]


def _exec(url: str, *statements: str) -> None:
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        for s in statements:
            conn.execute(sa.text(s))
    eng.dispose()


def _one(url: str, sql: str):
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        row = conn.execute(sa.text(sql)).one()
    eng.dispose()
    return tuple(row)


def test_mariadb_tinyint_key_to_an_excluded_table(mariadb_database, sqlite_url, tmp_path):
    source, target = mariadb_database(), sqlite_url("out")
    _exec(
        source,
        "CREATE TABLE store (store_id TINYINT UNSIGNED PRIMARY KEY) ENGINE=InnoDB",
        "INSERT INTO store SELECT seq FROM seq_1_to_8",
        "CREATE TABLE orders (order_id INT PRIMARY KEY, store_id TINYINT UNSIGNED NOT NULL, "
        "CONSTRAINT fk_orders_store FOREIGN KEY (store_id) REFERENCES store (store_id)) ENGINE=InnoDB",
        "INSERT INTO orders SELECT seq, 1 + seq % 8 FROM seq_1_to_300",
    )
    warnings = _run(tmp_path, source, target, exclude=["store"])
    assert len(warnings) == 1 and "'fk_orders_store' refers to 'store'" in warnings[0]
    count, distinct, high = _one(target, "SELECT count(*), count(DISTINCT store_id), max(store_id) FROM orders")
    assert count == 300 and distinct <= 8 and high <= 8


def test_pg_foreign_key_to_another_schema_is_said(pg_database, tmp_path):
    source, target = pg_database(), pg_database()
    _exec(
        source,
        "CREATE SCHEMA hr",
        "CREATE TABLE hr.region (region_id int PRIMARY KEY)",
        "INSERT INTO hr.region SELECT g FROM generate_series(1, 4) g",
        "CREATE TABLE public.shop (shop_id int PRIMARY KEY, region_id int "
        "CONSTRAINT fk_shop_region REFERENCES hr.region (region_id))",
        "INSERT INTO public.shop SELECT g, 1 + g % 4 FROM generate_series(1, 50) g",
    )
    warnings = _run(tmp_path, source, target)
    assert len(warnings) == 1
    assert warnings[0].startswith("table 'shop', foreign key 'fk_shop_region' refers to 'hr.region', which is not")
    assert "region_id is written NULL" in warnings[0]
    assert _one(target, "SELECT count(*), count(region_id) FROM shop") == (50, 0)
