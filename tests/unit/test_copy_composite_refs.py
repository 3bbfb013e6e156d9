"""A synthesized table referring to a copied one by a composite key (order_line -> product(product_code,
variant), the PostgreSQL torture's sales schema) points at real key rows: only one-column keys were remapped,
so the run failed with '600 row(s) refer to missing parent rows'."""

from __future__ import annotations

import sqlite3

import yaml

from dbsynth import cli


def test_composite_reference_to_a_copied_table(tmp_path):
    src = tmp_path / "src.sqlite"
    con = sqlite3.connect(src)
    con.executescript(
        "CREATE TABLE product (product_code VARCHAR(5) NOT NULL, variant CHAR(2) NOT NULL, title VARCHAR(20), "
        "PRIMARY KEY (product_code, variant));"
        "CREATE TABLE line (line_id INTEGER PRIMARY KEY, product_code VARCHAR(5) NOT NULL, variant CHAR(2) NOT NULL, "
        "qty INTEGER NOT NULL, FOREIGN KEY (product_code, variant) REFERENCES product (product_code, variant));"
    )
    products = [(f"P{i:03d}", v, f"t{i}") for i in range(30) for v in ("SM", "XL")]
    con.executemany("INSERT INTO product VALUES (?, ?, ?)", products)
    con.executemany("INSERT INTO line (product_code, variant, qty) VALUES (?, ?, ?)",
                    [(p[0], p[1], 1 + k) for k, p in enumerate(products * 4)])
    con.commit()
    con.close()
    target = tmp_path / "out.sqlite"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"source": {"url": f"sqlite:///{src}"}, "target": {"url": f"sqlite:///{target}"},
                                   "model": {"path": None}, "seed": 5, "tables": {"product": {"mode": "copy"}}}))
    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    con = sqlite3.connect(target)
    try:
        assert con.execute("SELECT count(*) FROM line").fetchone()[0] > 0
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        dangling = con.execute("SELECT count(*) FROM line l LEFT JOIN product p ON p.product_code = l.product_code "
                               "AND p.variant = l.variant WHERE p.product_code IS NULL").fetchone()[0]
        assert dangling == 0
        assert con.execute("SELECT count(*) FROM product").fetchone()[0] == 60
    finally:
        con.close()
