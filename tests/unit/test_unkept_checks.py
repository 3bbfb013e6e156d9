"""A CHECK the sampler cannot keep is named before the load, in the plan and the run report's warnings."""

from __future__ import annotations

import sqlite3

import yaml

from dbsynth.pipeline import plan


def _config(tmp_path, mode: str = "synthesize"):
    db = tmp_path / "src.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT CONSTRAINT ck_s_text CHECK (typeof(s) = 'text'), "
                "n INTEGER CONSTRAINT ck_n_pos CHECK (n > 0))")
    con.executemany("INSERT INTO t (s, n) VALUES (?, ?)", [(f"v{i}", i + 1) for i in range(30)])
    con.commit()
    con.close()
    cfg = {"source": {"url": f"sqlite:///{db}"}, "target": {"url": f"sqlite:///{tmp_path / 'out.sqlite'}"},
           "model": {"path": None}, "tables": {"t": {"mode": mode}}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_an_opaque_check_is_warned_and_a_kept_one_is_not(tmp_path):
    warnings = plan(_config(tmp_path)).warnings
    said = [w for w in warnings if "CHECK" in w]
    assert len(said) == 1 and "'ck_s_text'" in said[0] and "table 't'" in said[0] and "mode: copy" in said[0]


def test_a_copied_table_needs_no_warning(tmp_path):
    assert not [w for w in plan(_config(tmp_path, mode="copy")).warnings if "CHECK" in w]
