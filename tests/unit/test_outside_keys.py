"""Foreign keys to tables that are not cloned (excluded, not included, skipped): issue 15.

Their columns must not be generated as keys (300 distinct keys do not fit a TINYINT), no foreign key is created
in the target, and the plan says so once per key with what the user can do.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

import dbsynth.cli as cli
from dbsynth.metadata import Column, ForeignKey, Metadata, Table

pytest.importorskip("dbsynth.synthesizers")


@pytest.fixture
def source(tmp_path) -> Path:
    """store (8 rows) <- orders.store_id NOT NULL; staff (5 rows) <- orders.staff_id nullable; 300 orders."""
    db = tmp_path / "src.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript(
            """
            CREATE TABLE store (store_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE staff (staff_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE orders (
                order_id INTEGER PRIMARY KEY,
                store_id INTEGER NOT NULL,
                staff_id INTEGER,
                amount REAL NOT NULL,
                CONSTRAINT fk_orders_store FOREIGN KEY (store_id) REFERENCES store (store_id),
                CONSTRAINT fk_orders_staff FOREIGN KEY (staff_id) REFERENCES staff (staff_id)
            );
            """
        )
        conn.executemany("INSERT INTO store VALUES (?, ?)", [(i, f"store {i}") for i in range(1, 9)])
        conn.executemany("INSERT INTO staff VALUES (?, ?)", [(i, f"staff {i}") for i in range(1, 6)])
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?)",
            [(i, 1 + i % 8, None if i % 4 == 0 else 1 + i % 5, 10.0 + i % 7) for i in range(1, 301)],
        )
    return db


def _config(tmp_path: Path, source: Path, **source_keys) -> Path:
    data = {
        "source": {"url": f"sqlite:///{source}", **source_keys},
        "target": {"url": f"sqlite:///{tmp_path / 'out.sqlite'}", "mode": "replace"},
        "model": {"path": None},
        "seed": 1,
        "report": {"json": str(tmp_path / "run.json")},
    }
    tables = source_keys.pop("tables", None)
    if tables:
        data["tables"] = tables
        data["source"].pop("tables")
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _out(tmp_path: Path, sql: str):
    with sqlite3.connect(tmp_path / "out.sqlite") as conn:
        return conn.execute(sql).fetchall()


def _warnings(tmp_path: Path) -> list[str]:
    return json.loads((tmp_path / "run.json").read_text())["warnings"]


def test_excluded_parents_give_plain_values_null_and_one_warning_each(tmp_path, source):
    assert cli.run_cli(["--quiet", "run", "--config", str(_config(tmp_path, source, exclude=["store", "staff"]))]) == 0
    (distinct, low, high), = _out(tmp_path, "SELECT count(DISTINCT store_id), min(store_id), max(store_id) FROM orders")
    # modelled as plain values of the 8 stores seen, not generated as 300 distinct keys
    assert distinct <= 8 and low >= 1 and high <= 8
    assert _out(tmp_path, "SELECT count(*), count(staff_id) FROM orders") == [(300, 0)]  # nullable: written NULL
    assert _out(tmp_path, "SELECT * FROM pragma_foreign_key_list('orders')") == []
    warnings = [w for w in _warnings(tmp_path) if "not cloned" in w]
    assert len(warnings) == 2
    store = next(w for w in warnings if "'fk_orders_store'" in w)
    assert store.startswith("table 'orders', foreign key 'fk_orders_store' refers to 'store', which is not cloned")
    assert "store_id is NOT NULL" in store and "add 'store' to the cloned tables" in store
    staff = next(w for w in warnings if "'fk_orders_staff'" in w)
    assert "staff_id is written NULL" in staff


def test_include_without_the_parent_is_said_too(tmp_path, source):
    assert cli.run_cli(["--quiet", "run", "--config", str(_config(tmp_path, source, include=["orders", "staff"]))]) == 0
    warnings = [w for w in _warnings(tmp_path) if "not cloned" in w]
    assert len(warnings) == 1 and "refers to 'store'" in warnings[0]
    assert _out(tmp_path, "SELECT count(DISTINCT staff_id) <= 5, count(staff_id) > 0 FROM orders") == [(1, 1)]


def test_skipped_parent_is_said_at_plan_time_with_what_to_do(tmp_path, source, capsys):
    cfg = _config(tmp_path, source, tables={"store": {"mode": "skip"}})
    assert cli.run_cli(["run", "--config", str(cfg), "--dry-run"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("warning: "))
    assert "'fk_orders_store' refers to 'store', which is not cloned" in line
    assert "set tables.store.mode to copy or synthesize" in line
    assert not (tmp_path / "out.sqlite").exists()


def test_copied_child_keeps_the_source_values(tmp_path, source):
    cfg = _config(tmp_path, source, exclude=["store"], tables={"orders": {"mode": "copy"}})
    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    with sqlite3.connect(source) as conn:
        expected = conn.execute("SELECT order_id, store_id, staff_id FROM orders ORDER BY order_id").fetchall()
    assert _out(tmp_path, "SELECT order_id, store_id, staff_id FROM orders ORDER BY order_id") == expected
    assert any("store_id keeps the source's values" in w for w in _warnings(tmp_path))


def test_subset_keeps_the_dropped_keys_aside():
    md = Metadata(dialect="sqlite")
    md.add_table(Table("p", columns=[Column("id", "integer", "id", nullable=False)], primary_key=["id"]))
    md.add_table(
        Table("c", columns=[Column("id", "integer", "id", nullable=False), Column("p_id", "integer", "id")],
              primary_key=["id"], foreign_keys=[ForeignKey(["p_id"], "p", ["id"], name="fk_c_p")])
    )
    sub = md.subset(["c"])
    assert sub.tables["c"].foreign_keys == []
    assert [fk.name for fk in sub.tables["c"].outside_foreign_keys] == ["fk_c_p"]
    assert md.subset(["c", "p"]).tables["c"].outside_foreign_keys == []
    assert Metadata.from_dict(sub.to_dict()).tables["c"].outside_foreign_keys[0].ref_table == "p"
