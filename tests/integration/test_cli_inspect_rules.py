"""``dbsynth inspect --rules`` on a small SQLite database made here: the declared CHECKs and the rules its rows
keep, grouped by table; bad input stays one line and exit 2."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

import dbsynth.cli as cli
from dbsynth.cli.inspect import find_rules, rules_text
from dbsynth.reflect import reflect

ROWS = 60


def _database(path: Path) -> str:
    """``orders``: shipped on or after the day ordered in every row, a named CHECK on the quantity; ``note``:
    no rule at all."""
    start = datetime.date(2024, 1, 1)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, ordered DATE NOT NULL, shipped DATE NOT NULL, "
                     "qty INTEGER NOT NULL, CONSTRAINT ck_qty CHECK (qty BETWEEN 1 AND 50))")
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", [
            (i, (start + datetime.timedelta(days=i)).isoformat(),
             (start + datetime.timedelta(days=i + i % 7)).isoformat(), 1 + (i * 7) % 50)
            for i in range(1, ROWS + 1)])
        conn.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
        conn.executemany("INSERT INTO note VALUES (?, ?)", [(i, f"n{i}") for i in range(3)])
    return f"sqlite:///{path}"


def test_find_rules_reads_each_table_and_lists_declared_checks(tmp_path):
    url = _database(tmp_path / "shop.sqlite")
    metadata = reflect(url)
    found = find_rules(url, metadata)
    assert dict(found.read) == {"orders": (ROWS, ROWS), "note": (3, 3)}
    assert "check:orders:ck_qty" in found.rules.names()
    text = rules_text(metadata, found)
    assert "\norders  (all 60 rows read)\n" in text
    assert "CHECK (qty BETWEEN 1 AND 50) on orders" in text and "check:orders:ck_qty" in text
    assert "\nnote  (" not in text  # a table without rules is not listed


def test_find_rules_says_when_a_table_is_sampled(tmp_path):
    url = _database(tmp_path / "shop.sqlite")
    metadata = reflect(url)
    found = find_rules(url, metadata, max_rows=25)
    assert found.read["orders"] == (25, ROWS)
    assert "orders  (25 of 60 rows read; rules across tables not looked for)" in rules_text(metadata, found)


def test_cli_inspect_rules_prints_checks_and_discovered_rules(tmp_path, capsys):
    url = _database(tmp_path / "shop.sqlite")
    assert cli.run_cli(["inspect", "--rules", url]) == 0
    out = capsys.readouterr().out
    assert "Write order: " in out  # the summary comes first
    rules = out[out.index("\nRules: "):]
    assert "CHECK (qty BETWEEN 1 AND 50) on orders" in rules and "declared" in rules
    assert "orders.shipped >= orders.ordered" in rules and "order:orders:ordered,shipped" in rules
    assert "support 60" in rules


def test_cli_inspect_rules_bad_url_is_one_line_exit_two(tmp_path, capsys):
    assert cli.run_cli(["inspect", "--rules", f"sqlite:///{tmp_path / 'missing' / 'x.sqlite'}"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("error: ")
